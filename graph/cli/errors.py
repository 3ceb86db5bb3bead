"""The command line's one error boundary: an ordinary mistake (a bad setting, a database
that is not there or not migrated, an unknown id) is one or two lines and a documented exit
code (docs/cli.md), never a traceback; `alif-graph --debug ...` shows the full trace."""

from __future__ import annotations

import socket
from enum import IntEnum
from typing import Any, NoReturn

import typer
import typer.core
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from graph.server.secrets import MissingSecret
from ledger.connections import UnknownConnection
from ledger.db import DatabaseUrlError
from ledger.migrate import SchemaNotCurrent


class ExitCode(IntEnum):
    """docs/cli.md lists these; scripts may rely on them."""

    FAILED = 1  # the operation ran and failed (the bank refused, a sync failed, no such id)
    USAGE = 2  # a bad argument or option (click's own code for usage errors)
    CONFIGURATION = 3  # a bad or missing setting (ALIF_GRAPH_*)
    DATABASE = 4  # the database cannot be reached, does not exist, or is not migrated
    INTERNAL = 70  # a bug: rerun with --debug and report the trace (EX_SOFTWARE)
    INTERRUPTED = 130


class CliError(Exception):
    """A refusal a command states in one line, with its exit code."""

    def __init__(self, message: str, code: ExitCode = ExitCode.FAILED) -> None:
        super().__init__(message)
        self.message, self.code = message, code


def _settings_error(exc: ValidationError) -> CliError:
    first = exc.errors()[0]
    field = "_".join(str(part) for part in first["loc"]).upper()
    name = f"ALIF_GRAPH_{field}" if field else "the settings"
    message = str(first["msg"]).removeprefix("Value error, ")
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return CliError(f"{name}: {message}{more}", ExitCode.CONFIGURATION)


def _database_error(exc: BaseException) -> CliError:
    # Only the driver's first line: a detail line may quote a row's values.
    cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    reason = (str(cause).strip().splitlines() or [type(cause).__name__])[0][:200]
    return CliError(
        f"cannot use the database: {reason}; check ALIF_GRAPH_DATABASE_URL and that the "
        "database exists and its server is running",
        ExitCode.DATABASE,
    )


def _known(exc: BaseException) -> CliError | None:
    """The message for a known kind of failure; None for anything else (a bug)."""
    if isinstance(exc, CliError):
        return exc
    if isinstance(exc, ValidationError):
        return _settings_error(exc)
    if isinstance(exc, DatabaseUrlError):
        return CliError(f"ALIF_GRAPH_DATABASE_URL: {exc}", ExitCode.CONFIGURATION)
    if isinstance(exc, MissingSecret):
        return CliError(
            f"{exc} (a long random value, e.g. from `openssl rand -base64 32`)",
            ExitCode.CONFIGURATION,
        )
    if isinstance(exc, SchemaNotCurrent):
        return CliError(str(exc), ExitCode.DATABASE)
    if isinstance(exc, UnknownConnection):
        return CliError(f"{exc} (`alif-graph connect` links one)", ExitCode.FAILED)
    if isinstance(exc, DBAPIError) and _missing_table(exc):
        # A command that does not check the schema first (`token`, `audit`, ...).
        return CliError(
            "the database lacks the ledger's tables; run `alif-graph db upgrade`",
            ExitCode.DATABASE,
        )
    # Refused, unknown host, no such directory (SQLite): the driver's errors. The bank's
    # come as connectors.errors.UpstreamError, so a bare socket error is the database's.
    if isinstance(exc, OperationalError | InterfaceError | ConnectionError | socket.gaierror):
        return _database_error(exc)
    if isinstance(exc, DBAPIError) and _missing_database(exc):
        return _database_error(exc)
    if isinstance(exc, OSError) and exc.strerror:
        where = f": {exc.filename}" if exc.filename else ""
        return CliError(f"{exc.strerror}{where}", ExitCode.FAILED)
    return None


def _missing_table(exc: DBAPIError) -> bool:
    # PostgreSQL's UndefinedTableError (42P01); SQLite says so in its message.
    sqlstate = getattr(exc.orig, "sqlstate", None)
    return sqlstate == "42P01" or str(exc.orig).startswith("no such table")


def _missing_database(exc: DBAPIError) -> bool:
    # asyncpg's InvalidCatalogNameError (SQLSTATE 3D000) arrives as a ProgrammingError.
    return getattr(exc.orig, "sqlstate", None) == "3D000"


def fail(exc: BaseException, *, debug: bool) -> NoReturn:
    """Print `exc` as one line and exit with its code; re-raise it under --debug."""
    if debug:
        raise exc
    known = _known(exc)
    if known is None:
        typer.echo(
            f"error: unexpected {type(exc).__name__}; rerun with `alif-graph --debug ...` "
            "for the full trace, and report it",
            err=True,
        )
        raise typer.Exit(ExitCode.INTERNAL) from None
    typer.echo(f"error: {known.message}", err=True)
    raise typer.Exit(known.code) from None


class BoundaryGroup(typer.core.TyperGroup):
    """The top-level command group: every subcommand runs inside `invoke`, so one
    `except` here is the boundary for all of them (in-process test runners too)."""

    # Typed Any: typer's vendored click Context is not part of its public interface.
    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, typer.TyperException):
            raise  # exits and usage errors: typer reports them itself
        except KeyboardInterrupt:
            typer.echo("interrupted", err=True)
            raise typer.Exit(ExitCode.INTERRUPTED) from None
        except Exception as exc:
            fail(exc, debug=bool(ctx.params.get("debug")))


def global_options(
    debug: bool = typer.Option(
        False, "--debug", help="Show the full trace of a failure instead of one line."
    ),
) -> None:
    """alif-graph: a consent-gated GraphQL API over an open-banking ledger."""
    # Nothing to do: BoundaryGroup.invoke reads --debug from the context's parameters.
