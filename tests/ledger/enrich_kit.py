"""A small ledger for enrichment tests: customers, connections, accounts and rows."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.models import Account, Connection, Institution, Transaction, User, table

TX = table(Transaction)
_ids = itertools.count(1)


async def _insert(session: AsyncSession, model: Any, **values: Any) -> int:
    t = table(model)
    return int((await session.execute(insert(t).values(**values).returning(t.c.id))).scalar_one())


@dataclass
class Acct:
    id: int
    user_id: int
    connection_id: int
    currency: str
    number: str
    masked: str


class Kit:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.institution: int | None = None

    async def customer(self, phone: str) -> int:
        if self.institution is None:
            self.institution = await _insert(
                self.session, Institution, code="alif", name="Alif Bank", country="TJ"
            )
        return await _insert(self.session, User, phone=phone)

    async def connection(self, user: int) -> int:
        assert self.institution is not None
        return await _insert(
            self.session,
            Connection,
            user_id=user,
            institution_id=self.institution,
            provider="alif",
            base_url="http://sandbox",
            bank_id="alif.tj",
            credentials_encrypted=b"-",
        )

    async def account(self, user: int, connection: int, currency: str, number: str) -> Acct:
        assert self.institution is not None
        masked = "••••" + number[-4:]
        account_id = await _insert(
            self.session,
            Account,
            connection_id=connection,
            external_id=f"acc-{next(_ids)}",
            institution_id=self.institution,
            user_id=user,
            type="CURRENT",
            name=f"{currency} account",
            number=number,
            number_masked=masked,
            currency=currency,
            payload_hash="-",
        )
        return Acct(account_id, user, connection, currency, number, masked)

    async def row(self, account: Acct, day: date, amount: int, **values: Any) -> int:
        defaults: dict[str, Any] = {
            "connection_id": account.connection_id,
            "external_id": f"tx-{next(_ids)}",
            "account_id": account.id,
            "status": "BOOKED",
            "booking_date": day,
            "booked_at": datetime.combine(day, datetime.min.time(), UTC),
            "amount_minor": amount,
            "currency": account.currency,
            "type": "CARD_PAYMENT",
            "payload_hash": "-",
        }
        return await _insert(self.session, Transaction, **{**defaults, **values})

    async def links(self) -> dict[int, tuple[Any, ...]]:
        """id -> (duplicate_of_id, rule, score, leg_id, leg_rule) of every row."""
        stmt = select(
            TX.c.id,
            TX.c.duplicate_of_id,
            TX.c.duplicate_rule,
            TX.c.duplicate_score,
            TX.c.internal_transfer_leg_id,
            TX.c.internal_transfer_rule,
        )
        return {r[0]: tuple(r[1:]) for r in (await self.session.execute(stmt)).all()}
