"""`alif-graph export`: an account's statement of a period as a file (docs/exports.md).

An operator's command: it reads the ledger directly, so it may export any account; each
export leaves one audit row (operation `cli.export`: the account, format, period and the
file's SHA-256), as an API export does.
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import uuid
from datetime import date, datetime
from enum import Enum, StrEnum
from pathlib import Path
from typing import BinaryIO

import typer

from graph.cli.database import ensure_schema
from graph.cli.errors import CliError, ExitCode
from graph.core.errors import BadUserInput
from graph.exports.files import detail
from graph.relay.ids import pk_of, to_global_id
from graph.settings import Settings, get_settings
from ledger import audit, exports
from ledger.db import create_engine, session_factory
from ledger.exports import ExportFormat, ExportTooLarge
from ledger.types import utcnow

# typer's choices: the formats' own names.
Format = Enum("Format", {f.name: f.value for f in ExportFormat}, type=str)  # type: ignore[misc]


class CliLocale(StrEnum):
    RU = "ru"
    TG = "tg"
    UZ = "uz"
    EN = "en"


def register(app: typer.Typer) -> None:
    app.command("export")(export)


def export(
    account: str = typer.Option(..., "--account", help="The account's GraphQL global ID."),
    date_from: datetime = typer.Option(
        ..., "--from", formats=["%Y-%m-%d"], help="First booking date, YYYY-MM-DD."
    ),
    date_to: datetime = typer.Option(
        ..., "--to", formats=["%Y-%m-%d"], help="Last booking date, YYYY-MM-DD (inclusive)."
    ),
    format: Format = typer.Option(..., "--format", help="The file format."),
    out: Path | None = typer.Option(None, "--out", help="The file to write (default: stdout)."),
    locale: CliLocale = typer.Option(CliLocale.RU, "--locale", help="The PDF's language."),
    include_pending: bool = typer.Option(
        False, "--include-pending", help="Pending transactions too (default: booked only)."
    ),
) -> None:
    """Export an account's statement of a period: camt053, csv, ofx, beancount, 1c or pdf."""
    try:
        account_pk = pk_of(account, "Account")
    except BadUserInput as exc:
        raise CliError(f"--account: {exc.message}", ExitCode.USAGE) from None
    first, last = date_from.date(), date_to.date()
    if first > last:
        raise CliError("--from must not be after --to", ExitCode.USAGE)
    settings = get_settings()
    ensure_schema(settings)
    fmt = ExportFormat(format.value)
    out = None if out is None else out.absolute()
    written = asyncio.run(
        _export(settings, account_pk, first, last, fmt, out, locale.value, not include_pending)
    )
    where = str(out) if out is not None else "stdout"
    typer.echo(f"wrote {where}: {written.size} bytes, sha256 {written.sha256}", err=True)


async def _export(
    settings: Settings,
    account_pk: int,
    first: date,
    last: date,
    fmt: ExportFormat,
    out: Path | None,
    locale: str,
    booked_only: bool,
) -> exports.Written:
    engine = create_engine(settings.database_url)
    sessions = session_factory(engine)
    started = utcnow().replace(microsecond=0)
    try:
        async with sessions() as session:
            try:
                found = await exports.open_export(
                    session, account_pk, first, last, fmt,
                    created_at=started, locale=locale, booked_only=booked_only,
                )  # fmt: skip
            except ExportTooLarge as exc:
                raise CliError(str(exc)) from None
            if found is None:
                raise CliError(f"no account {to_global_id('Account', account_pk)}")
            if out is None:
                written = await exports.write(found, _stdout().write)
            else:
                written = await _to_file(found, out)
        entry = audit.AuditRecord(
            operation="cli.export",
            outcome="ok",
            request_id=f"cli-{uuid.uuid4().hex}",
            user_id=found.head.user_id,
            object_ids=[to_global_id("Account", account_pk)],
            detail=detail(found, written.sha256),
        )
        async with sessions.begin() as session:
            await audit.record(session, entry, at=started)
        return written
    finally:
        await engine.dispose()


def _stdout() -> BinaryIO:
    return sys.stdout.buffer


async def _to_file(found: exports.Export, out: Path) -> exports.Written:
    """Written beside `out` and renamed into place: a failed export leaves no half file."""
    fd, temporary = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.")
    try:
        with os.fdopen(fd, "wb") as file:
            written = await exports.write(found, file.write)
        os.replace(temporary, out)
    except BaseException:
        os.unlink(temporary)
        raise
    return written
