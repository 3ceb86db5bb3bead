"""A real sync of the sandbox bank over HTTP, its NBT rates from the sandbox's feed, and
what enrichment makes of it: no false duplicates or own transfers on a realistic ledger,
and remittance costs that differ per corridor as the sandbox prices them."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import httpx
from sqlalchemy import func, select

from connectors.nbt.client import NbtClient, sync_rates
from connectors.sandbox.nbt_feed import PATH
from ledger.models import Account, Transaction, table
from ledger.queries import remittances

from .sync_kit import AS_OF, sync_once

TX = table(Transaction)
ACCOUNTS = table(Account)


async def test_a_synced_customer_gets_priced_corridors_and_no_false_links(sessions, bank, family):
    _username, connection_id, creds = family
    report = await sync_once(sessions, bank, connection_id, creds)
    assert report.status == "SUCCEEDED"
    async with sessions() as s:
        first, last = (
            await s.execute(select(func.min(TX.c.booking_date), func.max(TX.c.booking_date)))
        ).one()
        account_ids = list((await s.execute(select(ACCOUNTS.c.id))).scalars())
        linked = (
            await s.execute(
                select(func.count()).where(
                    (TX.c.duplicate_of_id.is_not(None)) | TX.c.internal_transfer_leg_id.is_not(None)
                )
            )
        ).scalar_one()
    # The sandbox sends every payment once, and moves no money between own accounts.
    assert linked == 0

    feed = httpx.ASGITransport(app=bank.app)
    async with NbtClient(f"http://sandbox{PATH}", transport=feed) as client:
        rates = await sync_rates(sessions, client, first - timedelta(days=7), last)
    assert rates.published > 0

    async with sessions() as s:
        groups = await remittances.remittance_summary(
            s, account_ids, first, AS_OF.date(), group_by="CORRIDOR"
        )
    by_key = {g.key: g for g in groups}
    russia = by_key["RU->TJ MONEY_TRANSFER_SYSTEM"]
    assert russia.completed > 5 and russia.unpriced == 0
    # Money-transfer systems pay out 1.0-2.5 % under NBT's rate and charge the recipient no
    # fee: every transfer's cost lies in that band (a weekend's carried rate moves it a
    # little), and they differ from system to system.
    costs = sorted(c.cost_percent for c in russia.costs)
    assert Decimal("0.9") < costs[0] < costs[-1] < Decimal("2.6")
    assert russia.fees_tjs.minor == 0
    assert russia.median_completion_seconds is not None
    for key, group in by_key.items():
        assert group.sent_tjs.minor >= 0 and key
