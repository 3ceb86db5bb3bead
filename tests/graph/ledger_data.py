# ruff: noqa: RUF001  (Russian and Tajik text is part of realistic data)
"""A realistic, deterministic ledger for the API tests.

Customer A (+992900000001) has a TJS wallet with a few hundred transactions over half a
year, whose running balance starts from money held before the ledger begins, a USD
current account and a RUB card account; cards, transfers with status histories, service
payments, pending rows (one superseded by its booked successor), currency exchanges, a
transfer to an own account, NBT exchange rates (RUB only from March) and balance snapshots.
Customer B (+992900000002) has one wallet: the other customer no request of A may see.

Within a day, rows are inserted newest first, as a bank's API delivers them, so ids do not
follow the running balance; booking times do.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.models import (
    Account,
    BalanceSnapshot,
    Card,
    Connection,
    ExchangeRate,
    Institution,
    ServicePayment,
    Transaction,
    Transfer,
    TransferEvent,
    User,
    table,
)

PHONE_A = "+992900000001"
PHONE_B = "+992900000002"
START = date(2025, 1, 1)
DAYS = 181  # to 2025-06-30
OPENING_WALLET = 1_500_00  # held before the ledger's first row

TX = table(Transaction)
# One statement inserts a day's rows, so every row names every column.
OPTIONAL_COLUMNS = (
    "description", "counterparty_name", "counterparty_account", "counterparty_country",
    "merchant_name", "mcc", "category", "category_source", "user_category", "card_id",
    "transfer_id", "service_payment_id", "replaces_id",
)  # fmt: skip


@dataclass
class AccountData:
    id: int
    user_id: int
    connection_id: int
    currency: str
    number_masked: str
    # Every inserted transaction row, as inserted (plus its id).
    transactions: list[dict[str, Any]] = field(default_factory=list)
    balance: int = 0

    def counted(self) -> list[dict[str, Any]]:
        """Rows that count: superseded pending rows left out."""
        return [t for t in self.transactions if t["superseded_at"] is None]


@dataclass
class LedgerData:
    institution_id: int
    user_a: int
    user_b: int
    wallet: AccountData
    usd: AccountData
    rub: AccountData
    foreign: AccountData  # customer B's
    card_ids: list[int]
    foreign_card_id: int
    transfer_ids: list[int]
    foreign_transfer_id: int
    payment_ids: list[int]
    superseded_id: int
    replacing_id: int

    @property
    def accounts_a(self) -> list[AccountData]:
        return [self.wallet, self.usd, self.rub]


def _at(day: date, *, hours: int) -> datetime:
    return datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=hours)


async def _insert(session: AsyncSession, model: Any, **values: Any) -> int:
    t = table(model)
    return int((await session.execute(insert(t).values(**values).returning(t.c.id))).scalar_one())


async def _customer(session: AsyncSession, phone: str, institution_id: int) -> tuple[int, int]:
    user = await _insert(session, User, phone=phone, locale="ru")
    connection = await _insert(
        session,
        Connection,
        user_id=user,
        institution_id=institution_id,
        provider="alif",
        base_url="http://sandbox",
        bank_id="alif.tj",
        credentials_encrypted=b"-",
    )
    return user, connection


async def _account(
    session: AsyncSession,
    user: int,
    connection: int,
    institution: int,
    *,
    external_id: str,
    type_: str,
    name: str,
    currency: str,
    number: str,
) -> AccountData:
    masked = "••••" + number[-4:]
    account_id = await _insert(
        session,
        Account,
        connection_id=connection,
        external_id=external_id,
        institution_id=institution,
        user_id=user,
        type=type_,
        name=name,
        number=number,
        number_masked=masked,
        currency=currency,
        payload_hash="-",
    )
    return AccountData(account_id, user, connection, currency, masked)


class _Writer:
    """Builds the transactions of one account day by day, keeping its running balance."""

    def __init__(self, session: AsyncSession, account: AccountData, rng: random.Random) -> None:
        self.session = session
        self.account = account
        self.rng = rng
        self.seq = 0
        self.per_day: dict[date, int] = {}

    def row(self, day: date, amount: int, type_: str, **extra: Any) -> dict[str, Any]:
        self.seq += 1
        self.per_day[day] = self.per_day.get(day, 0) + 1
        status = extra.pop("status", "BOOKED")
        # Booking times follow the order rows are made in: the running balance's order.
        booked_at = _at(day, hours=3) + timedelta(minutes=5 * self.per_day[day])
        balance_after = None
        if status == "BOOKED" and extra.get("superseded_at") is None:
            self.account.balance += amount
            balance_after = self.account.balance
        return {
            **dict.fromkeys(OPTIONAL_COLUMNS),
            "connection_id": self.account.connection_id,
            "external_id": f"{self.account.id}-{self.seq}",
            "account_id": self.account.id,
            "status": status,
            "booking_date": day,
            "value_date": day if status == "BOOKED" else None,
            "booked_at": booked_at if status == "BOOKED" else None,
            "amount_minor": amount,
            "currency": self.account.currency,
            "balance_after_minor": balance_after,
            "type": type_,
            "payload_hash": "-",
            "superseded_at": None,
            **extra,
        }

    async def write_day(self, rows: list[dict[str, Any]]) -> None:
        """Inserts one day's rows newest first, in one statement, and records their ids."""
        newest_first = list(reversed(rows))
        stmt = insert(TX).returning(TX.c.id, sort_by_parameter_order=True)
        ids = (await self.session.execute(stmt, newest_first)).scalars().all()
        for values, row_id in zip(newest_first, ids, strict=True):
            values["id"] = row_id
            self.account.transactions.append(values)


MERCHANTS = [
    ("Auchan Dushanbe Mall", "5411", "groceries"),
    ("Бозори Корвон", "5422", "groceries"),
    ("Rohat Teahouse", "5812", "restaurants"),
    ("Dushanbe Taxi", "4121", "transport"),
    ("Dorukhona 24", "5912", "health"),
    ("Alif Shop", "5311", "shopping"),
]
PROVIDERS = [
    ("Tcell", "mobile"),
    ("MegaFon Tajikistan", "mobile"),
    ("Barqi Tojik", "electricity"),
    ("Dushanbevodokanal", "water"),
]


async def build_ledger(session: AsyncSession, seed: int = 7) -> LedgerData:
    rng = random.Random(seed)
    institution = await _insert(
        session, Institution, code="alif", name="Alif Bank", country="TJ", bic="ALIFTJ22"
    )
    user_a, conn_a = await _customer(session, PHONE_A, institution)
    user_b, conn_b = await _customer(session, PHONE_B, institution)
    wallet = await _account(
        session, user_a, conn_a, institution, external_id="w", type_="WALLET",
        name="Alif Mobi", currency="TJS", number="20202972100049668601",
    )  # fmt: skip
    usd = await _account(
        session, user_a, conn_a, institution, external_id="u", type_="CURRENT",
        name="USD account", currency="USD", number="20206840500049668603",
    )  # fmt: skip
    rub = await _account(
        session, user_a, conn_a, institution, external_id="r", type_="CARD",
        name="RUB card account", currency="RUB", number="20206810500049668602",
    )  # fmt: skip
    foreign = await _account(
        session, user_b, conn_b, institution, external_id="f", type_="WALLET",
        name="Wallet", currency="TJS", number="20202972100011112222",
    )  # fmt: skip
    wallet.balance = OPENING_WALLET

    cards = [
        await _card(session, conn_a, wallet.id, "c1", "VISA", "439051******1234"),
        await _card(session, conn_a, wallet.id, "c2", "KORTI_MILLI", "976251******5678"),
        await _card(session, conn_a, rub.id, "c3", "MASTERCARD", "531099******4321"),
    ]
    foreign_card = await _card(session, conn_b, foreign.id, "c4", "VISA", "402801******9999")
    transfers, payments = [], []

    await _rates(session)
    w = _Writer(session, wallet, rng)
    for offset in range(DAYS):
        day = START + timedelta(offset)
        rows: list[dict[str, Any]] = []
        if day.day in (5, 20):  # remittances from Russia
            amount = rng.randint(3_000_00, 6_000_00)
            transfer = await _transfer(session, wallet, f"t{offset}", day, amount, "INBOUND")
            transfers.append(transfer)
            rows.append(
                w.row(day, amount, "INTERNATIONAL_TRANSFER", transfer_id=transfer,
                      category="remittance_in", category_source="PROVIDER",
                      counterparty_name="Иванов Сергей", counterparty_country="RU",
                      description="Перевод из России (Unistream)")
            )  # fmt: skip
        for _ in range(rng.randint(1, 2)):
            merchant, mcc, category = rng.choice(MERCHANTS)
            rows.append(
                w.row(day, -rng.randint(5_00, 180_00), "CARD_PAYMENT",
                      card_id=rng.choice(cards[:2]), merchant_name=merchant, mcc=mcc,
                      category=category, category_source="RULE",
                      description=f"Оплата {merchant}")
            )  # fmt: skip
        if offset % 12 == 3:
            provider, category = PROVIDERS[(offset // 12) % len(PROVIDERS)]
            amount = rng.randint(20_00, 150_00)
            payment = await _payment(session, wallet, f"p{offset}", day, amount, provider, category)
            payments.append(payment)
            rows.append(
                w.row(day, -amount, "SERVICE_PAYMENT", service_payment_id=payment,
                      category=category, category_source="PROVIDER", counterparty_name=provider,
                      description=f"Оплата услуг {provider}")
            )  # fmt: skip
        if offset % 30 == 20:
            rows.append(
                w.row(day, -500_00, "TRANSFER_OUT", category="transfers",
                      counterparty_account=usd.number_masked, description="На свой счёт USD")
            )  # fmt: skip
        if offset % 45 == 10:
            rows.append(
                w.row(day, -300_00, "CURRENCY_EXCHANGE", description="Обмен валюты")
            )  # fmt: skip
        if offset % 40 == 7:  # the customer recategorized this one
            rows.append(
                w.row(day, -42_00, "CARD_PAYMENT", merchant_name="Kitob.tj", mcc="5942",
                      category="shopping", category_source="RULE", user_category="education",
                      description="Книги")
            )  # fmt: skip
        await w.write_day(rows)
        if offset == DAYS - 3:
            superseded_id, replacing_id = await _pending_then_booked(w, day)
    await w.write_day(
        [
            w.row(START + timedelta(DAYS - 1), -61_50, "CARD_PAYMENT", status="PENDING",
                  card_id=cards[0], merchant_name="Auchan Dushanbe Mall", mcc="5411",
                  category="groceries", category_source="RULE"),
        ]
    )  # fmt: skip
    await _snapshots(session, wallet, START + timedelta(DAYS - 1))

    await _foreign_currency(session, usd, rng, card=None)
    await _foreign_currency(session, rub, rng, card=cards[2])
    fw = _Writer(session, foreign, rng)
    foreign.balance = 100_00
    for offset in range(0, DAYS, 3):
        await fw.write_day(
            [fw.row(START + timedelta(offset), -rng.randint(1_00, 20_00), "CARD_PAYMENT",
                    card_id=foreign_card, merchant_name="Бозори Баракат", category="groceries")]
        )  # fmt: skip
    foreign_transfer = await _transfer(session, foreign, "tf", START, 1_000_00, "OUTBOUND")
    return LedgerData(
        institution_id=institution,
        user_a=user_a,
        user_b=user_b,
        wallet=wallet,
        usd=usd,
        rub=rub,
        foreign=foreign,
        card_ids=cards,
        foreign_card_id=foreign_card,
        transfer_ids=transfers,
        foreign_transfer_id=foreign_transfer,
        payment_ids=payments,
        superseded_id=superseded_id,
        replacing_id=replacing_id,
    )


async def _card(
    session: AsyncSession, connection: int, account: int, external_id: str, scheme: str, pan: str
) -> int:
    return await _insert(
        session,
        Card,
        connection_id=connection,
        external_id=external_id,
        account_id=account,
        scheme=scheme,
        pan_masked=pan,
        holder_name="AZIZ RAHIMOV",
        expires_on="09/28",
        status="ACTIVE",
        payload_hash="-",
    )


async def _transfer(
    session: AsyncSession,
    account: AccountData,
    external_id: str,
    day: date,
    amount: int,
    direction: str,
) -> int:
    created = _at(day, hours=2)
    inbound = direction == "INBOUND"
    transfer = await _insert(
        session,
        Transfer,
        connection_id=account.connection_id,
        external_id=external_id,
        account_id=account.id,
        direction=direction,
        amount_minor=amount,
        currency=account.currency,
        fee_minor=None if inbound else 15_00,
        fee_currency=None if inbound else account.currency,
        rail="MONEY_TRANSFER_SYSTEM" if inbound else "VISA_DIRECT",
        corridor="RU->TJ" if inbound else "TJ->US",
        counterparty_name="Иванов Сергей" if inbound else "John Smith",
        counterparty_country="RU" if inbound else "US",
        status="COMPLETED",
        initiated_at=created,
        completed_at=created + timedelta(minutes=30),
        payload_hash="-",
    )
    for minutes, status in (
        (0, "CREATED"),
        (1, "SENT"),
        (20, "AVAILABLE_FOR_PAYOUT"),
        (30, "COMPLETED"),
    ):
        await _insert(
            session, TransferEvent, transfer_id=transfer, status=status,
            at=created + timedelta(minutes=minutes),
        )  # fmt: skip
    return transfer


async def _payment(
    session: AsyncSession, account: AccountData, external_id: str, day: date, amount: int,
    provider: str, category: str,
) -> int:  # fmt: skip
    return await _insert(
        session,
        ServicePayment,
        connection_id=account.connection_id,
        external_id=external_id,
        account_id=account.id,
        provider=provider,
        category=category,
        service_account_masked="•••••4501",
        amount_minor=amount,
        currency=account.currency,
        paid_at=_at(day, hours=9),
        autopay=category == "mobile",
        payload_hash="-",
    )


async def _pending_then_booked(w: _Writer, day: date) -> tuple[int, int]:
    """A card payment first seen pending, then booked: the pending row is superseded."""
    pending = w.row(
        day, -75_00, "CARD_PAYMENT", status="PENDING", merchant_name="Auchan Dushanbe Mall",
        category="groceries", category_source="RULE",
        superseded_at=_at(day, hours=30),
    )  # fmt: skip
    await w.write_day([pending])
    booked = w.row(
        day, -75_00, "CARD_PAYMENT", merchant_name="Auchan Dushanbe Mall", mcc="5411",
        category="groceries", category_source="RULE", replaces_id=pending["id"],
    )  # fmt: skip
    await w.write_day([booked])
    return pending["id"], booked["id"]


async def _snapshots(session: AsyncSession, account: AccountData, day: date) -> None:
    """The bank's balances late on the last day (23:00 in Dushanbe), after every booking."""
    as_of = _at(day, hours=18)
    for type_, amount in (("BOOKED", account.balance), ("AVAILABLE", account.balance - 61_50)):
        await _insert(
            session, BalanceSnapshot, account_id=account.id, type=type_, amount_minor=amount,
            currency=account.currency, as_of=as_of,
        )  # fmt: skip


async def _foreign_currency(
    session: AsyncSession, account: AccountData, rng: random.Random, card: int | None
) -> None:
    w = _Writer(session, account, rng)
    account.balance = 200_00
    for offset in range(2, DAYS, 6):
        day = START + timedelta(offset)
        await w.write_day(
            [w.row(day, -rng.randint(1_00, 60_00), "CARD_PAYMENT", card_id=card,
                   merchant_name="Amazon" if account.currency == "USD" else "Ozon",
                   category="shopping", category_source="RULE")]
        )  # fmt: skip
        if offset % 30 == 2:
            await w.write_day([w.row(day, 150_00, "TRANSFER_IN", category="transfers")])


async def _rates(session: AsyncSession) -> None:
    """Weekly NBT rates; RUB only from March, so earlier RUB spending has no rate."""
    rows = []
    for offset in range(-7, DAYS, 7):
        day = START + timedelta(offset)
        rows.append(
            {"base": "USD", "quote": "TJS", "rate": "10.9252", "on_date": day, "source": "NBT"}
        )
        if day >= date(2025, 3, 1):
            rows.append(
                {"base": "RUB", "quote": "TJS", "rate": "0.1289", "on_date": day, "source": "NBT"}
            )
    # A bank's own rate on the same day must not win over the official one.
    rows.append(
        {"base": "USD", "quote": "TJS", "rate": "11.0000", "on_date": START, "source": "ALIF"}
    )
    await session.execute(insert(table(ExchangeRate)), rows)


async def add_transaction(
    session: AsyncSession, account: AccountData, day: date, amount: int, external_id: str
) -> int:
    """A booked row arriving late (as from a sync running between two page requests)."""
    return await _insert(
        session,
        Transaction,
        connection_id=account.connection_id,
        external_id=external_id,
        account_id=account.id,
        status="BOOKED",
        booking_date=day,
        amount_minor=amount,
        currency=account.currency,
        type="CARD_PAYMENT",
        payload_hash="-",
    )
