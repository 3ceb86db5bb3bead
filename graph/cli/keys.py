"""`alif-graph keys reencrypt`: every stored bank credential under the current key.

Run it after rotating the secret (docs/deployment.md, "Secrets and rotation") and before
removing an old secret from ALIF_GRAPH_OLD_SECRET_KEYS: once that secret is gone, a
credential still encrypted with its key opens no more.
"""

from __future__ import annotations

import asyncio

import typer
from rich.console import Console

from connectors.credentials import Reencrypted, reencrypt_stored
from connectors.keys import Keyring, KeyringError
from graph.cli.errors import CliError, ExitCode
from graph.server.secrets import server_keys
from graph.settings import get_settings
from ledger.db import create_engine, session_factory

console = Console()
keys_app = typer.Typer(help="The server's keys: rotation (docs/deployment.md).")


def register(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")


@keys_app.command("reencrypt")
def reencrypt() -> None:
    """Re-encrypt every stored bank credential with the current secret's key (idempotent).
    Exits 1 when some credential opens with no configured key (left as stored)."""
    settings = get_settings()
    try:
        keys = server_keys(settings)  # a missing secret: the CLI boundary's one line, exit 3
    except KeyringError as exc:
        raise CliError(str(exc), ExitCode.CONFIGURATION) from None
    outcome = asyncio.run(_reencrypt(settings.database_url, keys))
    console.print(outcome_line(outcome), markup=False, soft_wrap=True)
    if outcome.undecryptable:
        raise typer.Exit(1)


def outcome_line(outcome: Reencrypted) -> str:
    line = (
        f"credentials: {outcome.rewritten} re-encrypted with the current key, "
        f"{outcome.current} already current"
    )
    if outcome.undecryptable:
        ids = ", ".join(map(str, outcome.undecryptable))
        line += (
            f"; {len(outcome.undecryptable)} open with no configured key, left as stored "
            f"(connections {ids}): add the secret they were encrypted with to "
            "ALIF_GRAPH_OLD_SECRET_KEYS, or link them again"
        )
    return line


async def _reencrypt(database_url: str, keys: Keyring) -> Reencrypted:
    engine = create_engine(database_url)
    try:
        return await reencrypt_stored(session_factory(engine), keys)
    finally:
        await engine.dispose()
