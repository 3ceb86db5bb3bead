"""Duplicates and own-account transfers: generated copies are all found with their rule
and score; near misses (another payee, beyond the window, another amount, currency or
customer, one feed) never are; own moves pair at a rate near NBT's, and nothing else."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

import pytest
from sqlalchemy import event, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ledger import rates
from ledger.enrich import duplicates, links, own_transfers, pipeline
from ledger.enrich.candidates import _QUERY, Candidate, candidates
from ledger.models import Transaction, table
from ledger.queries import spending
from ledger.types import utcnow

from .enrich_kit import Kit

TX = table(Transaction)

DAY0 = date(2025, 3, 3)
PAYEES = ["Auchan Dushanbe Mall", "Бозори Корвон", "Rohat Teahouse", "Dushanbe Taxi", "Tcell"]


def respell(name: str, rng: random.Random) -> str:
    """The same payee as another feed may spell it: case and spacing differ."""
    return rng.choice([name.upper(), name.lower(), f"  {name} ", name.replace(" ", "  ")])


async def setup(session: AsyncSession):
    kit = Kit(session)
    a = await kit.customer("+992900000011")
    b = await kit.customer("+992900000012")
    c1, c2, cb = await kit.connection(a), await kit.connection(a), await kit.connection(b)
    wallet = await kit.account(a, c1, "TJS", "20202972100049668601")
    same_wallet = await kit.account(a, c2, "TJS", "20202972100049668601")  # linked twice
    other = await kit.account(a, c1, "TJS", "20202972100049668605")
    usd = await kit.account(a, c1, "USD", "20206840500049668601")
    theirs = await kit.account(b, cb, "TJS", "20202972100049668601")
    return kit, wallet, same_wallet, other, usd, theirs


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_generated_copies_are_linked_with_their_rule_and_score(
    sessions: async_sessionmaker[AsyncSession], seed: int
):
    rng = random.Random(seed)
    async with sessions.begin() as s:
        kit, wallet, same_wallet, other, _usd, _theirs = await setup(s)
        expected: dict[int, tuple[int, str, Decimal]] = {}
        amounts = rng.sample(range(1_00, 900_00), 40)
        for i, amount in enumerate(amounts):
            day = DAY0 + timedelta(days=rng.randrange(20))
            shift = rng.randrange(duplicates.WINDOW_DAYS + 1)
            payee = rng.choice(PAYEES)
            kind = ["card", "twice", "reference", "alone"][i % 4]
            first_values = {"merchant_name": payee, "description": f"Оплата {payee}"}
            if kind == "card":
                first = await kit.row(wallet, day, -amount, card_external_id="c1", **first_values)
                copy_account, copy_values = wallet, {}
            elif kind == "twice":
                first = await kit.row(wallet, day, -amount, **first_values)
                copy_account, copy_values = same_wallet, {}
            elif kind == "reference":
                first = await kit.row(
                    wallet, day, -amount, transfer_external_id=f"t{i}", **first_values
                )
                copy_account, copy_values = other, {"transfer_external_id": f"t{i}"}
            else:
                await kit.row(wallet, day, -amount, **first_values)
                continue
            copy_day = day + timedelta(days=shift * rng.choice([1, -1]))
            copy = await kit.row(
                copy_account, copy_day, -amount, merchant_name=respell(payee, rng), **copy_values
            )
            rule = {
                "card": duplicates.CARD_AND_ACCOUNT_FEED,
                "twice": duplicates.SAME_ACCOUNT_TWICE,
                "reference": duplicates.SAME_REFERENCE,
            }[kind]
            score = duplicates.BASE_SCORES[rule] - Decimal("0.05") * shift
            expected[copy] = (first, rule, score)
        # Two real coffees: one feed, one payee, one amount, one day: never duplicates.
        for _ in range(2):
            await kit.row(wallet, DAY0, -20_00, merchant_name="Coffee House", card_external_id="c1")

    async with sessions.begin() as s:
        found = await links.relink(s)
        stored = await Kit(s).links()
    assert found.duplicates == len(expected)
    linked = {
        row: (dup_of, rule, Decimal(score))
        for row, (dup_of, rule, score, *_) in stored.items()
        if dup_of is not None
    }
    assert linked == expected
    async with sessions.begin() as s:  # again: nothing more, nothing undone
        assert (await links.relink(s)).duplicates == 0


NEAR_MISSES = ["payee", "window", "amount", "customer", "one_feed", "currency", "one_named"]


@pytest.mark.parametrize("miss", NEAR_MISSES)
async def test_near_misses_are_never_linked(sessions, miss: str):
    rng = random.Random(miss)
    async with sessions.begin() as s:
        kit, wallet, same_wallet, _other, usd, theirs = await setup(s)
        for _ in range(12):
            amount, day = rng.randrange(1_00, 900_00), DAY0 + timedelta(days=rng.randrange(20))
            payee = rng.choice(PAYEES)
            await kit.row(wallet, day, -amount, merchant_name=payee, card_external_id="c1")
            account, values = same_wallet, {"merchant_name": payee}
            copy_day, copy_amount = day + timedelta(days=rng.randrange(4)), -amount
            if miss == "payee":
                values["merchant_name"] = rng.choice([p for p in PAYEES if p != payee])
            elif miss == "window":
                copy_day = day + timedelta(days=duplicates.WINDOW_DAYS + 1 + rng.randrange(5))
            elif miss == "amount":
                copy_amount = -amount + rng.choice([-1, 1])
            elif miss == "customer":
                account = theirs
            elif miss == "one_feed":
                account, values["card_external_id"] = wallet, "c1"
            elif miss == "currency":
                account = usd
            elif miss == "one_named":
                values = {"merchant_name": None, "description": f"Оплата {payee}"}
            await kit.row(account, copy_day, copy_amount, **values)
    async with sessions.begin() as s:
        assert (await links.relink(s)).duplicates == 0
        assert all(v[0] is None for v in (await Kit(s).links()).values())


async def store_usd(session: AsyncSession, days: int, rate: Decimal) -> None:
    publications = [
        rates.Publication(DAY0 + timedelta(d), {"USD": rate + Decimal("0.0011") * d})
        for d in range(days)
        if (DAY0 + timedelta(d)).weekday() < 5
    ]
    await rates.store_publications(session, publications)


@pytest.mark.parametrize("seed", [4, 5])
async def test_own_moves_pair_near_nbt_and_nothing_else(sessions, seed: int):
    rng = random.Random(seed)
    async with sessions.begin() as s:
        kit, wallet, _same, other, usd, _theirs = await setup(s)
        await store_usd(s, 30, Decimal("10.8991"))
        expected: dict[int, tuple[int, str]] = {}
        spent = 0  # debits to no own account: spending, paired or not
        for i, somoni in enumerate(rng.sample(range(100_00, 20_000_00), 24)):
            day = DAY0 + timedelta(days=rng.randrange(25))
            found = await rates.rate_on(s, "USD", day)
            assert found is not None
            kind = ["named", "reference", "off_rate", "no_signal", "same_currency", "unequal"][
                i % 6
            ]
            off = Decimal(rng.randrange(-250, 251)) / 10_000  # within 2.5 % of NBT
            if kind == "off_rate":
                off = Decimal(rng.choice([-1, 1]) * rng.randrange(350, 900)) / 10_000
            cents = int(
                (Decimal(somoni) / found.rate * (1 + off)).to_integral_value(ROUND_HALF_EVEN)
            )
            credit_day = day + timedelta(days=rng.randrange(own_transfers.WINDOW_DAYS + 1))
            debit_values = {"type": "TRANSFER_OUT", "counterparty_account": usd.masked}
            credit_values: dict[str, object] = {"type": "TRANSFER_IN"}
            target, credited = usd, cents
            if kind == "reference":
                debit_values = {"type": "TRANSFER_OUT", "external_id": f"move-{seed}-{i}"}
                credit_values = {"type": "TRANSFER_IN", "external_id": f"move-{seed}-{i}"}
            elif kind == "no_signal":
                debit_values = {"type": "TRANSFER_OUT", "counterparty_name": "Friend"}
                credited = somoni * 100 // 1090  # about NBT's rate: amounts alone pair nothing
                credit_values = {"type": "SALARY", "counterparty_name": "Employer"}
            elif kind in ("same_currency", "unequal"):
                target, debit_values["counterparty_account"] = other, other.masked
                credited = somoni if kind == "same_currency" else somoni - rng.randrange(1, 99)
            debit = await kit.row(wallet, day, -somoni, **debit_values)
            spent += somoni if kind == "no_signal" else 0
            credit = await kit.row(target, credit_day, credited, **credit_values)
            if kind in ("named", "same_currency"):
                expected[debit] = (credit, own_transfers.COUNTERPARTY_ACCOUNT)
                expected[credit] = (debit, own_transfers.COUNTERPARTY_ACCOUNT)
            elif kind == "reference":
                expected[debit] = (credit, own_transfers.SHARED_REFERENCE)
                expected[credit] = (debit, own_transfers.SHARED_REFERENCE)

    async with sessions.begin() as s:
        made = await links.relink(s)
        stored = await Kit(s).links()
        summary = await spending.spending_summary(
            s,
            wallet.user_id,
            [wallet.id, other.id, usd.id],
            DAY0,
            DAY0 + timedelta(days=40),
            group_by="CATEGORY",
            currency="TJS",
        )
    assert made.internal_transfers == len(expected) // 2
    paired = {row: (leg, rule) for row, (*_, leg, rule) in stored.items() if leg is not None}
    assert paired == expected
    # Paired legs are not spending (nor are debits naming an own account); the rest is.
    assert summary.total.minor == spent
    # Each paired leg carries the own-account category of its direction, from the pairing.
    async with sessions.begin() as s:
        found = (
            await s.execute(
                select(TX.c.id, TX.c.amount_minor, TX.c.auto_category, TX.c.auto_category_source)
            )
        ).all()
    for row_id, amount, category, source in found:
        if row_id in expected:
            own = "TRANSFER_OUT_OWN_ACCOUNT" if amount < 0 else "TRANSFER_IN_OWN_ACCOUNT"
            assert (category, source) == (own, "LINK")
        else:
            assert source != "LINK"


def test_direction_of_a_leg():
    assert own_transfers.direction_of(-5, 9) == "TRANSFER_OUT"
    assert own_transfers.direction_of(5, 9) == "TRANSFER_IN"
    assert own_transfers.direction_of(5, None) is None


def _candidate(i: int, rng: random.Random, **values) -> Candidate:
    base = {
        "id": i,
        "account_id": rng.choice([1, 2]),
        "connection_id": 1,
        "external_id": f"x{i}",
        "booking_date": DAY0 + timedelta(days=rng.randrange(6)),
        "amount_minor": -rng.choice([5_00, 7_00]),
        "currency": "TJS",
        "type": "CARD_PAYMENT",
        "description": None,
        "counterparty_name": None,
        "counterparty_account": None,
        "merchant_name": rng.choice(["Tcell", "TCELL", "Babilon-T"]),
        "card_external_id": rng.choice([None, "c1"]),
        "transfer_external_id": rng.choice([None, "t1", "t2"]),
        "duplicate_of_id": None,
        "not_duplicate": False,
        "internal_transfer_leg_id": None,
        "account_number": "20202972100049668601",
        "account_masked": "••••8601",
        "account_currency": "TJS",
    }
    return Candidate(**{**base, **values})


@pytest.mark.parametrize("seed", range(20))
def test_matching_does_not_depend_on_row_order_and_links_one_to_one(seed: int):
    rng = random.Random(seed)
    rows = [_candidate(i, rng) for i in range(1, 30)]
    found = duplicates.matches(rows)
    for _ in range(3):
        shuffled = rows[:]
        rng.shuffle(shuffled)
        assert duplicates.matches(shuffled) == found
    used = [m.original_id for m in found] + [m.duplicate_id for m in found]
    assert len(used) == len(set(used))
    by_id = {r.id: r for r in rows}
    for m in found:
        a, b = by_id[m.original_id], by_id[m.duplicate_id]
        assert m.original_id < m.duplicate_id and a.amount_minor == b.amount_minor
        assert a.payee == b.payee and abs((a.booking_date - b.booking_date).days) <= 3
        assert duplicates.rule_of(a, b) == m.rule


async def test_the_sqlite_driver_read_is_the_statement_read(sessions):
    """`candidates` reads SQLite through the driver, converting dates and flags itself:
    it hands back what SQLAlchemy's statement would, row for row."""
    async with sessions.begin() as s:
        if s.bind.dialect.name != "sqlite":
            pytest.skip("only SQLite has the driver path")
        kit, wallet, same_wallet, other, usd, theirs = await setup(s)
        original = await kit.row(wallet, DAY0, -5_00, merchant_name="Tcell", card_external_id="c1")
        await kit.row(same_wallet, DAY0 + timedelta(days=1), -5_00, duplicate_of_id=original)
        await kit.row(other, DAY0 + timedelta(days=2), 7_00, not_duplicate_at=utcnow())
        await kit.row(usd, DAY0 + timedelta(days=9), -1_00, transfer_external_id="t1")
        await kit.row(theirs, DAY0, -5_00)  # another customer's
        read = await candidates(s, wallet.user_id, DAY0, DAY0 + timedelta(days=1), margin_days=3)
        low, high = DAY0 - timedelta(days=3), DAY0 + timedelta(days=4)
        found = await s.execute(_QUERY, {"user_id": wallet.user_id, "low": low, "high": high})
        expected = [Candidate._make(r) for r in found.all()]
    assert [r.booking_date for r in read] == [DAY0, DAY0 + timedelta(days=1), DAY0 + timedelta(2)]
    assert read == expected
    assert [type(v) for v in read[2]] == [type(v) for v in expected[2]]


async def test_a_paired_leg_enriched_again_keeps_its_pairing_category(sessions):
    """A leg paired on a shared reference (no own account named: the text alone would not
    make it an own-account move) that the bank changes is enriched again with its page,
    and its category is still the pairing's; an unpaired row of the page is not relabelled."""
    async with sessions.begin() as s:
        kit, wallet, _same, other, _usd, _theirs = await setup(s)
        values = {"type": "TRANSFER_OUT", "external_id": "move-1", "description": "Перевод"}
        debit = await kit.row(wallet, DAY0, -50_00, **values)
        await kit.row(other, DAY0, 50_00, type="TRANSFER_IN", external_id="move-1")
        alone = await kit.row(wallet, DAY0, -7_00, type="TRANSFER_OUT", external_id="alone")
        assert (await links.relink(s)).internal_transfers == 1
    async with sessions.begin() as s:
        # The bank changed the debit's description: its stored payload is no longer the
        # one enrichment saw (nor is the other row's, which was never enriched).
        await s.execute(
            update(TX).where(TX.c.id == debit).values(payload_hash="new", description="Новый")
        )
        base = {"counterparty_name": None, "counterparty_account": None, "merchant_name": None}
        base |= {"mcc": None, "category": None, "currency": "TJS", "type": "TRANSFER_OUT"}
        page = [
            {**base, "external_id": "move-1", "amount_minor": -50_00, "description": "Новый"},
            {**base, "external_id": "alone", "amount_minor": -7_00, "description": None},
        ]
        assert await pipeline.enrich_page(s, wallet.id, page) == 2
        found = dict(
            (
                await s.execute(
                    select(TX.c.id, TX.c.auto_category + "/" + TX.c.auto_category_source).where(
                        TX.c.id.in_([debit, alone])
                    )
                )
            ).all()
        )
    assert found[debit] == "TRANSFER_OUT_OWN_ACCOUNT/LINK"
    assert not found[alone].endswith("/LINK")


async def test_a_caller_that_names_the_customer_saves_the_owners_read(sessions):
    """The sync names the account's customer: each page's detection then reads no owner
    (one statement a page), and links what it links without being told."""
    statements: list[str] = []

    def log(conn, cursor, statement, *args):
        statements.append(statement)

    async with sessions.begin() as s:
        kit, wallet, same_wallet, *_ = await setup(s)
        pairs = {}
        for told, day in ((False, DAY0), (True, DAY0 + timedelta(days=20))):
            original = await kit.row(wallet, day, -5_00, merchant_name="Tcell")
            pairs[told] = (
                day,
                original,
                await kit.row(same_wallet, day, -5_00, merchant_name="TCELL"),
            )
    for told, (day, original, copy) in pairs.items():
        async with sessions.begin() as s:
            connection = (await s.connection()).sync_connection
            event.listen(connection, "before_cursor_execute", log)
            statements.clear()
            user = same_wallet.user_id if told else None
            found = await links.detect_links(s, same_wallet.id, day, day, user_id=user)
            event.remove(connection, "before_cursor_execute", log)
            stored = await Kit(s).links()
        assert found.duplicates == 1 and stored[copy][0] == original
        owner_reads = [t for t in statements if "user_id" in t and "FROM account" in t]
        assert len(owner_reads) == (0 if told else 1), statements
