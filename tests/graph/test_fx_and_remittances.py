"""Conversions at NBT's rates through the API (checked against Decimal computed here),
the rate series, a foreign account's statement in TJS, duplicate and own-transfer links
with their undo, and the true cost of remittances on hand-computed examples."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from graph.auth.scopes import ALL_SCOPES, TRANSACTIONS_WRITE
from graph.relay.ids import to_global_id
from ledger import rates
from ledger.enrich import links
from ledger.models import AuditEvent, Transfer, TransferEvent, table

from ..ledger.enrich_kit import Kit, _insert
from .helpers import Api, codes, counting

PHONE = "+992900000021"
OTHER = "+992900000022"
DAY0 = date(2025, 3, 3)  # a Monday
CENT = Decimal("0.01")

CONVERTED = """
query Converted($currency: String!) {
  transactions(first: 100) {
    edges { node { id bookingDate amount { amount currency }
      amountIn(currency: $currency) { amount currency rateCarried
        rate { base quote rate date source } } } }
  }
}
"""


async def publish(
    session: AsyncSession, rng: random.Random, days: int, start: date = DAY0
) -> dict[str, dict]:
    """Random NBT publications on weekdays: currency -> {day: rate}."""
    series: dict[str, dict[date, Decimal]] = {"USD": {}, "RUB": {}}
    publications = []
    for d in range(days):
        day = start + timedelta(days=d)
        if day.weekday() >= 5:
            continue
        usd = Decimal(rng.randrange(90_000, 110_000)) / 10_000
        rub = Decimal(rng.randrange(1_100, 1_300)) / 10_000
        series["USD"][day], series["RUB"][day] = usd, rub
        publications.append(rates.Publication(day, {"USD": usd, "RUB": rub}))
    await rates.store_publications(session, publications)
    return series


def latest(series: dict[date, Decimal], day: date) -> tuple[date, Decimal] | None:
    days = [d for d in series if d <= day]
    return (max(days), series[max(days)]) if days else None


async def test_amount_in_converts_exactly_at_the_rate_of_the_booking_day(
    api: Api, sessions: async_sessionmaker[AsyncSession]
):
    rng = random.Random(14)
    async with sessions.begin() as s:
        kit = Kit(s)
        user = await kit.customer(PHONE)
        conn = await kit.connection(user)
        accounts = [
            await kit.account(user, conn, "TJS", "20202972100049668601"),
            await kit.account(user, conn, "USD", "20206840500049668601"),
            await kit.account(user, conn, "RUB", "20206810500049668602"),
        ]
        series = await publish(s, rng, 30)
        for _ in range(45):
            account = rng.choice(accounts)
            day = DAY0 + timedelta(days=rng.randrange(-3, 30))  # some before any rate
            await kit.row(account, day, rng.choice([-1, 1]) * rng.randrange(1, 5_000_000))
    token = await api.token(PHONE)
    for target in ("TJS", "USD"):
        body = await api.query(CONVERTED, {"currency": target}, token=token)
        assert "errors" not in body, body
        nodes = [e["node"] for e in body["data"]["transactions"]["edges"]]
        assert len(nodes) == 45
        for node in nodes:
            day = date.fromisoformat(node["bookingDate"])
            amount = Decimal(node["amount"]["amount"])
            currency = node["amount"]["currency"]
            got = node["amountIn"]
            if currency == target:
                assert got == {
                    "amount": node["amount"]["amount"],
                    "currency": target,
                    "rateCarried": False,
                    "rate": None,
                }
                continue
            # TJS per unit of the row's currency, and of the target, on the latest day.
            source = latest(series[currency], day) if currency != "TJS" else (day, Decimal(1))
            into = latest(series[target], day) if target != "TJS" else (day, Decimal(1))
            if source is None or into is None:
                assert got is None
                continue
            expected = (amount * source[1] / into[1]).quantize(CENT, ROUND_HALF_EVEN)
            assert Decimal(got["amount"]) == expected, (node, source, into)
            assert got["currency"] == target
            published = (
                min(source[0], into[0])
                if currency != "TJS" and target != "TJS"
                else (source[0] if currency != "TJS" else into[0])
            )
            assert got["rate"]["date"] == published.isoformat()
            assert got["rate"]["source"] == "NBT"
            assert got["rateCarried"] == (published != day)


async def test_unknown_currency_is_bad_input_and_the_series_lists_publications(api, sessions):
    rng = random.Random(3)
    async with sessions.begin() as s:
        series = await publish(s, rng, 14)
        kit = Kit(s)
        user = await kit.customer(PHONE)
        await kit.row(await kit.account(user, await kit.connection(user), "USD", "1"), DAY0, -1)
    body = await api.query(
        '{ transactions(first: 1) { edges { node { amountIn(currency: "XXX") { amount } } } } }',
        token=await api.token(PHONE),
    )
    assert codes(body) == ["BAD_USER_INPUT"]
    query = """query R($base: String!, $quote: String!) {
      exchangeRates(base: $base, quote: $quote, from: "2025-03-01", to: "2025-03-12") {
        base quote rate date source } }"""
    body = await api.query(query, {"base": "USD", "quote": "TJS"})
    days = [d for d in sorted(series["USD"]) if d <= date(2025, 3, 12)]
    assert body["data"]["exchangeRates"] == [
        {
            "base": "USD",
            "quote": "TJS",
            "rate": str(series["USD"][d]),
            "date": d.isoformat(),
            "source": "NBT",
        }
        for d in days
    ]
    inverse = await api.query(query, {"base": "TJS", "quote": "USD"})
    for row, d in zip(inverse["data"]["exchangeRates"], days, strict=True):
        assert Decimal(row["rate"]) * series["USD"][d] - 1 < Decimal("1e-20")
    bad = await api.query(query, {"base": "USD", "quote": "ZZZ"})
    assert codes(bad) == ["BAD_USER_INPUT"]


STATEMENT = """
query S($account: ID!) {
  statement(accountId: $account, from: "2025-03-03", to: "2025-03-16") {
    openingBalance { amount } closingBalance { amount } totalDebits { amount }
    totalCredits { amount } transactionCount
    equivalentIn(currency: "TJS") { openingBalance { amount currency }
      closingBalance { amount } totalDebits { amount } totalCredits { amount }
      revaluation { amount } rates { date rate } }
    transactions { edges { node { id } } }
  }
}
"""


async def test_a_usd_statement_has_its_tjs_equivalent_and_counts_a_copy_once(api, sessions):
    rng = random.Random(8)
    async with sessions.begin() as s:
        kit = Kit(s)
        user = await kit.customer(PHONE)
        conn = await kit.connection(user)
        usd = await kit.account(user, conn, "USD", "20206840500049668601")
        series = await publish(s, rng, 27, start=DAY0 - timedelta(days=7))
        balance, rows = 500_00, []
        await kit.row(usd, DAY0 - timedelta(days=1), 0, balance_after_minor=balance)
        for _ in range(12):
            day = DAY0 + timedelta(days=rng.randrange(14))
            amount = rng.choice([-1, 1]) * rng.randrange(1_00, 90_00)
            rows.append((day, amount))
        rows.sort()
        for day, amount in rows:
            balance += amount
            await kit.row(
                usd,
                day,
                amount,
                balance_after_minor=balance,
                merchant_name="Shop",
                card_external_id="c1",
            )
        copied_day, copied_amount = rows[3]
        copy = await kit.row(usd, copied_day, copied_amount, merchant_name="SHOP")
    async with sessions.begin() as s:
        assert (await links.relink(s)).duplicates == 1
    token = await api.token(PHONE)
    body = await api.query(STATEMENT, {"account": to_global_id("Account", usd.id)}, token=token)
    assert "errors" not in body, body
    st = body["data"]["statement"]
    assert st["transactionCount"] == 12  # the movements, not the copy
    assert to_global_id("Transaction", copy) not in [
        e["node"]["id"] for e in st["transactions"]["edges"]
    ]
    debits = sum(-a for _, a in rows if a < 0)
    credits = sum(a for _, a in rows if a > 0)
    assert Decimal(st["totalCredits"]["amount"]) == Decimal(credits) / 100
    assert Decimal(st["totalDebits"]["amount"]) == Decimal(debits) / 100

    def tjs(minor: int, day: date) -> Decimal:
        found = latest(series["USD"], day)
        assert found is not None
        return (Decimal(minor) / 100 * found[1]).quantize(CENT, ROUND_HALF_EVEN)

    eq = st["equivalentIn"]
    assert Decimal(eq["openingBalance"]["amount"]) == tjs(500_00, DAY0 - timedelta(days=1))
    assert Decimal(eq["closingBalance"]["amount"]) == tjs(balance, date(2025, 3, 16))
    per_day_debits: dict[date, int] = {}
    for day, amount in rows:
        if amount < 0:
            per_day_debits[day] = per_day_debits.get(day, 0) - amount
    assert Decimal(eq["totalDebits"]["amount"]) == sum(tjs(m, d) for d, m in per_day_debits.items())
    opening, closing = (
        Decimal(eq["openingBalance"]["amount"]),
        Decimal(eq["closingBalance"]["amount"]),
    )
    total_d, total_c = Decimal(eq["totalDebits"]["amount"]), Decimal(eq["totalCredits"]["amount"])
    assert Decimal(eq["revaluation"]["amount"]) == closing - (opening + total_c - total_d)


DUPLICATE = """
query D($id: ID!) { node(id: $id) { ... on Transaction { id
  duplicateOf { score rule original { id } }
  internalTransfer { direction rule counterpart { id } } } } }
"""
UNDO = """
mutation U($id: ID!) { transactionMarkNotDuplicate(id: $id) {
  __typename
  ... on TransactionMarkNotDuplicateSuccess { transaction { id duplicateOf { score } } }
  ... on TransactionMarkNotDuplicateError { code message } } }
"""


async def test_links_show_and_a_duplicate_match_can_be_undone_once(api, sessions):
    async with sessions.begin() as s:
        kit = Kit(s)
        user = await kit.customer(PHONE)
        c1, c2 = await kit.connection(user), await kit.connection(user)
        wallet = await kit.account(user, c1, "TJS", "20202972100049668601")
        twice = await kit.account(user, c2, "TJS", "20202972100049668601")
        savings = await kit.account(user, c1, "TJS", "20202972100049668609")
        original = await kit.row(wallet, DAY0, -45_50, merchant_name="Tcell")
        copy = await kit.row(twice, DAY0 + timedelta(days=1), -45_50, merchant_name="TCELL")
        out = await kit.row(
            wallet, DAY0, -1000_00, type="TRANSFER_OUT", counterparty_account=savings.masked
        )
        into = await kit.row(savings, DAY0, 1000_00, type="TRANSFER_IN")
        stranger = await kit.customer(OTHER)
        theirs = await kit.account(stranger, await kit.connection(stranger), "TJS", "1")
        foreign = await kit.row(theirs, DAY0, -45_50, merchant_name="Tcell")
    async with sessions.begin() as s:
        assert await links.relink(s) == links.Linked(duplicates=1, internal_transfers=1)
    gid = lambda pk: to_global_id("Transaction", pk)  # noqa: E731
    reader = await api.token(PHONE)
    body = await api.query(DUPLICATE, {"id": gid(copy)}, token=reader)
    assert body["data"]["node"]["duplicateOf"] == {
        "score": "0.90",
        "rule": "SAME_ACCOUNT_TWICE",
        "original": {"id": gid(original)},
    }
    leg = (await api.query(DUPLICATE, {"id": gid(out)}, token=reader))["data"]["node"][
        "internalTransfer"
    ]
    assert leg == {
        "direction": "TRANSFER_OUT",
        "rule": "COUNTERPARTY_ACCOUNT",
        "counterpart": {"id": gid(into)},
    }
    leg = (await api.query(DUPLICATE, {"id": gid(into)}, token=reader))["data"]["node"][
        "internalTransfer"
    ]
    assert leg["direction"] == "TRANSFER_IN"

    readonly = await api.token(PHONE, scopes=[s for s in ALL_SCOPES if s != TRANSACTIONS_WRITE])
    refused = await api.query(UNDO, {"id": gid(copy)}, token=readonly)
    assert codes(refused) == ["FORBIDDEN"]
    writer = await api.token(PHONE)
    before = len(await api.audit_rows())
    missing = await api.query(UNDO, {"id": gid(foreign)}, token=writer)
    assert missing["data"]["transactionMarkNotDuplicate"]["code"] == "NOT_FOUND"
    denied = (await api.audit_rows())[before:]
    assert [(r.operation, r.outcome, r.object_ids) for r in denied] == [
        ("U", "denied", gid(foreign))
    ]
    done = await api.query(UNDO, {"id": gid(copy)}, token=writer)
    assert done["data"]["transactionMarkNotDuplicate"] == {
        "__typename": "TransactionMarkNotDuplicateSuccess",
        "transaction": {"id": gid(copy), "duplicateOf": None},
    }
    again = await api.query(UNDO, {"id": gid(copy)}, token=writer)
    assert again["data"]["transactionMarkNotDuplicate"]["code"] == "NOT_A_DUPLICATE"
    async with sessions.begin() as s:
        assert (await links.relink(s)).duplicates == 0  # the customer's word stands
        audit = table(AuditEvent)
        rows = (
            await s.execute(
                select(audit.c.operation, audit.c.object_ids, audit.c.outcome).where(
                    audit.c.operation == "transaction.mark_not_duplicate"
                )
            )
        ).all()
    assert [(r.object_ids, r.outcome) for r in rows] == [(gid(copy), "ok")]


SUMMARY = """
query R($groupBy: RemittanceGrouping!) {
  remittanceSummary(from: "2025-03-01", to: "2025-03-31", groupBy: $groupBy) {
    sdgTargetPercent
    groups { key corridor sendingCountry receivingCountry rail month counterparty
      count completed failed returned cancelled inProgress unpriced
      sent { amount currency } sentTjs { amount } receivedTjs { amount } feesTjs { amount }
      fxMarginTjs { amount } totalCostPercent averageCostPercent medianCompletionSeconds }
    total { count completed failed returned totalCostPercent averageCostPercent
      sentTjs { amount } fxMarginTjs { amount } feesTjs { amount } medianCompletionSeconds }
  }
}
"""


async def transfer(session, account, *, events, **values) -> int:
    first = events[0][1]
    pk = await _insert(
        session,
        Transfer,
        connection_id=account.connection_id,
        external_id=f"tr-{first.timestamp()}-{values['direction']}",
        account_id=account.id,
        initiated_at=first,
        payload_hash="-",
        **values,
    )
    for status, at in events:
        await _insert(session, TransferEvent, transfer_id=pk, status=status, at=at)
    return pk


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2025, 3, day, hour, minute, tzinfo=UTC)


async def test_the_corridor_report_costs_hand_computed_examples(api, sessions):
    async with sessions.begin() as s:
        kit = Kit(s)
        user = await kit.customer(PHONE)
        conn = await kit.connection(user)
        wallet = await kit.account(user, conn, "TJS", "20202972100049668601")
        # NBT of Friday 7 March; the Saturday transfer below uses it (no publication).
        await rates.store_publications(
            s,
            [
                rates.Publication(
                    date(2025, 3, 7), {"USD": Decimal("10.8991"), "RUB": Decimal("0.1226")}
                )
            ],
        )
        # Visa Direct to the USA: 1100.00 TJS debited, 100.00 USD delivered, fee 11.00 TJS.
        await transfer(
            s,
            wallet,
            direction="OUTBOUND",
            amount_minor=1100_00,
            currency="TJS",
            destination_amount_minor=100_00,
            destination_currency="USD",
            fee_minor=11_00,
            fee_currency="TJS",
            rail="VISA_DIRECT",
            corridor="TJ->US",
            counterparty_name="John Smith",
            status="COMPLETED",
            events=[("CREATED", at(7, 6)), ("SENT", at(7, 6)), ("COMPLETED", at(7, 6, 20))],
        )
        # From Russia through a money-transfer system: 10000.00 RUB sent, 1208.00 TJS credited.
        await transfer(
            s,
            wallet,
            direction="INBOUND",
            amount_minor=1208_00,
            currency="TJS",
            source_amount_minor=10000_00,
            source_currency="RUB",
            rail="MONEY_TRANSFER_SYSTEM",
            corridor="RU->TJ",
            counterparty_name="Mother",
            status="COMPLETED",
            events=[("CREATED", at(8, 4)), ("SENT", at(8, 4, 1)), ("COMPLETED", at(8, 6))],
        )
        for status in ("FAILED", "RETURNED"):
            await transfer(
                s,
                wallet,
                direction="INBOUND",
                amount_minor=500_00,
                currency="TJS",
                source_amount_minor=4000_00,
                source_currency="RUB",
                rail="MONEY_TRANSFER_SYSTEM",
                corridor="RU->TJ",
                counterparty_name="Mother",
                status=status,
                events=[("CREATED", at(9 if status == "FAILED" else 10, 4)), (status, at(11, 4))],
            )
    token = await api.token(PHONE)
    body = await api.query(SUMMARY, {"groupBy": "CORRIDOR"}, token=token)
    assert "errors" not in body, body
    report = body["data"]["remittanceSummary"]
    assert report["sdgTargetPercent"] == "3.00"
    visa, russia = report["groups"][1], report["groups"][0]
    # Visa Direct: sent 1100.00; delivered 100 x 10.8991 = 1089.91 TJS; margin 10.09;
    # cost (11.00 + 10.09) / 1100.00 = 1.9172...% -> 1.92.
    assert visa == {
        "key": "TJ->US VISA_DIRECT",
        "corridor": "TJ->US",
        "sendingCountry": "TJ",
        "receivingCountry": "US",
        "rail": "VISA_DIRECT",
        "month": None,
        "counterparty": None,
        "count": 1,
        "completed": 1,
        "failed": 0,
        "returned": 0,
        "cancelled": 0,
        "inProgress": 0,
        "unpriced": 0,
        "sent": [{"amount": "1100.00", "currency": "TJS"}],
        "sentTjs": {"amount": "1100.00"},
        "receivedTjs": {"amount": "1089.91"},
        "feesTjs": {"amount": "11.00"},
        "fxMarginTjs": {"amount": "10.09"},
        "totalCostPercent": "1.92",
        "averageCostPercent": "1.92",
        "medianCompletionSeconds": 1200,
    }
    # Russia: 10000 RUB x 0.1226 = 1226.00 TJS sent; 1208.00 received; margin 18.00, no fee;
    # 18.00 / 1226.00 = 1.4681...% -> 1.47. The failed and returned ones are counted apart.
    assert (russia["key"], russia["count"], russia["completed"]) == (
        "RU->TJ MONEY_TRANSFER_SYSTEM",
        3,
        1,
    )
    assert (russia["failed"], russia["returned"]) == (1, 1)
    assert (russia["sentTjs"], russia["fxMarginTjs"], russia["feesTjs"]) == (
        {"amount": "1226.00"},
        {"amount": "18.00"},
        {"amount": "0.00"},
    )
    assert russia["totalCostPercent"] == "1.47" and russia["medianCompletionSeconds"] == 7200
    # Together: (21.09 + 18.00) / 2326.00 = 1.6805...% ; the mean of 1.9172 and 1.4681: 1.69.
    assert report["total"]["totalCostPercent"] == "1.68"
    assert report["total"]["averageCostPercent"] == "1.69"
    assert report["total"]["medianCompletionSeconds"] == 4200  # (1200 + 7200) / 2
    # The transfers themselves in USD, at NBT's rate of their (Dushanbe) creation day.
    listed = await api.query(
        "{ transfers(first: 10) { edges { node { amount { amount } status "
        'amountIn(currency: "USD") { amount rateCarried rate { date } } } } } }',
        token=token,
    )
    usd = {
        (n["amount"]["amount"], n["status"]): n["amountIn"]
        for n in (e["node"] for e in listed["data"]["transfers"]["edges"])
    }
    rate = Decimal("10.8991")
    assert usd[("1100.00", "COMPLETED")] == {
        "amount": str((Decimal("1100.00") / rate).quantize(CENT, ROUND_HALF_EVEN)),  # 100.93
        "rateCarried": False,
        "rate": {"date": "2025-03-07"},
    }
    assert usd[("1208.00", "COMPLETED")] == {  # a Saturday: Friday's rate, and it says so
        "amount": str((Decimal("1208.00") / rate).quantize(CENT, ROUND_HALF_EVEN)),
        "rateCarried": True,
        "rate": {"date": "2025-03-07"},
    }
    by_month = (await api.query(SUMMARY, {"groupBy": "MONTH"}, token=token))["data"][
        "remittanceSummary"
    ]
    assert [(g["key"], g["count"], g["totalCostPercent"]) for g in by_month["groups"]] == [
        ("2025-03", 4, "1.68")
    ]
    by_who = (await api.query(SUMMARY, {"groupBy": "COUNTERPARTY"}, token=token))["data"][
        "remittanceSummary"
    ]
    assert {g["counterparty"]: g["count"] for g in by_who["groups"]} == {
        "Mother": 3,
        "John Smith": 1,
    }


PAGE = """
query P($first: Int!) { transactions(first: $first) { edges { node {
  amountIn(currency: "TJS") { amount } duplicateOf { original { id } }
  internalTransfer { counterpart { id } } } } } }
"""


async def test_conversions_and_links_cost_the_same_statements_whatever_the_page_size(
    api, sessions, engine
):
    rng = random.Random(21)
    async with sessions.begin() as s:
        kit = Kit(s)
        user = await kit.customer(PHONE)
        c1, c2 = await kit.connection(user), await kit.connection(user)
        usd = await kit.account(user, c1, "USD", "20206840500049668601")
        again = await kit.account(user, c2, "USD", "20206840500049668601")
        await publish(s, rng, 30)
        for i in range(30):
            day = DAY0 + timedelta(days=rng.randrange(25))
            await kit.row(usd, day, -(i + 1) * 100, merchant_name=f"Shop {i}")
            await kit.row(again, day, -(i + 1) * 100, merchant_name=f"Shop {i}")
    async with sessions.begin() as s:
        assert (await links.relink(s)).duplicates == 30
    token = await api.token(PHONE)
    counts = []
    for first in (3, 50):
        with counting(engine) as statements:
            body = await api.query(PAGE, {"first": first}, token=token)
        assert "errors" not in body, body
        assert len(body["data"]["transactions"]["edges"]) == first
        counts.append(len(statements))
    assert counts[0] == counts[1]


def test_every_cross_border_rail_is_one_a_transfer_can_have():
    # A rail no mapping stores and the API cannot show would count nothing, silently.
    from connectors.alif.transfers import RAILS
    from graph.transfers.types import TransferRail
    from ledger.queries.remittances import CROSS_BORDER_RAILS

    assert set(CROSS_BORDER_RAILS) <= {rail.value for rail in TransferRail}
    assert set(CROSS_BORDER_RAILS) <= RAILS
