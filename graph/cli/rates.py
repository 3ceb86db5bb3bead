"""`alif-graph rates sync --from YYYY-MM-DD --to YYYY-MM-DD`: NBT's official daily rates
into the ledger (docs/fx-and-remittances.md, docs/cli.md).

Every day of the period is read from ALIF_GRAPH_NBT_RATES_URL, then all of them are
stored in one transaction: a malformed feed, or a feed that does not answer, stores
nothing and exits 1 with one line saying why. Days without a publication (weekends,
holidays) are listed with the earlier day whose rates apply to them.
"""

from __future__ import annotations

import asyncio
from datetime import date

import httpx
import typer

from connectors.errors import UpstreamError
from connectors.nbt.client import NbtClient, RatesSyncReport, days_of, sync_rates
from graph.cli.database import ensure_schema
from graph.cli.errors import CliError, ExitCode
from graph.settings import get_settings
from ledger.db import create_engine, session_factory

rates_app = typer.Typer(help="Official exchange rates of the National Bank of Tajikistan.")


def register(app: typer.Typer) -> None:
    app.add_typer(rates_app, name="rates")


def _day(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not YYYY-MM-DD", param_hint=option) from None


@rates_app.command("sync")
def sync(
    from_: str = typer.Option(..., "--from", help="First day, YYYY-MM-DD."),
    to: str = typer.Option(..., "--to", help="Last day, YYYY-MM-DD (inclusive)."),
) -> None:
    """Store NBT's official rates of every day from --from to --to (exact decimals, source
    NBT); a day without a publication uses the latest earlier rate, and is listed as such."""
    date_from, date_to = _day(from_, "--from"), _day(to, "--to")
    try:
        days_of(date_from, date_to)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--from/--to") from None
    settings = get_settings()
    ensure_schema(settings)
    report = asyncio.run(
        run_sync(settings.database_url, settings.nbt_rates_url, date_from, date_to)
    )
    for line in report_lines(report):
        typer.echo(line)


async def run_sync(
    database_url: str,
    url: str,
    date_from: date,
    date_to: date,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
) -> RatesSyncReport:
    engine = create_engine(database_url)
    try:
        async with NbtClient(url, transport=transport) as client:
            return await sync_rates(session_factory(engine), client, date_from, date_to)
    except UpstreamError as exc:
        raise CliError(
            f"rates not stored, nothing changed: {exc.message}", ExitCode.FAILED
        ) from None
    finally:
        await engine.dispose()


def report_lines(report: RatesSyncReport) -> list[str]:
    lines = []
    for day in report.days:
        if day.published:
            lines.append(f"{day.day}: {day.rates} rates published")
        elif day.carried_from is not None:
            lines.append(f"{day.day}: no publication; the rates of {day.carried_from} apply")
        else:
            lines.append(f"{day.day}: no publication, and no earlier rates are stored")
    lines.append(
        f"NBT rates {report.date_from}..{report.date_to}: {report.published} of "
        f"{len(report.days)} days published, {report.stored} rates stored"
    )
    return lines
