"""`alif-graph links detect`: the rules on demand, idempotent, one customer or all."""

from __future__ import annotations

import asyncio
from datetime import date

from typer.testing import CliRunner

from graph.cli.main import app

from ..ledger.enrich_kit import Kit

runner = CliRunner()


async def test_links_detect_links_once_and_refuses_an_unknown_phone(env, sessions):
    async with sessions.begin() as s:
        kit = Kit(s)
        user = await kit.customer("+992900000031")
        c1, c2 = await kit.connection(user), await kit.connection(user)
        wallet = await kit.account(user, c1, "TJS", "20202972100049668601")
        again = await kit.account(user, c2, "TJS", "20202972100049668601")
        await kit.row(wallet, date(2025, 3, 3), -12_00, merchant_name="Tcell")
        await kit.row(again, date(2025, 3, 4), -12_00, merchant_name="Tcell")

    def invoke(*args: str):
        return asyncio.to_thread(runner.invoke, app, ["links", "detect", *args])

    first = await invoke("--phone", "+992900000031")
    second = await invoke()
    unknown = await invoke("--phone", "+992900000099")
    assert first.exit_code == 0, first.output
    assert first.output.strip() == "links: 1 duplicates linked, 0 own-account transfers paired"
    assert second.output.strip() == "links: 0 duplicates linked, 0 own-account transfers paired"
    assert unknown.exit_code == 1
    assert unknown.output.strip() == "error: no customer with phone +992900000099"
