"""Booked history through the API: revisions and removals recorded by the ledger's own write
path, statements as they were reported at an instant, and the accounts' checks against the
bank."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from graph.accounts.loaders import SyncStateByAccountLoader
from graph.auth.scopes import ALL_SCOPES, BALANCES_READ
from graph.core.dataloaders import RequestDb
from graph.relay.ids import to_global_id
from graph.transactions.loaders import RevisionsByTransactionLoader
from ledger import reconciliation, revisions
from ledger.models import AccountReconciliation, SyncRun, table
from ledger.money import format_minor

from .helpers import Api, codes
from .ledger_data import AccountData, LedgerData

HISTORY = """
query History($id: ID!) {
  node(id: $id) {
    ... on Transaction {
      amount { amount currency } bookingDate counterparty { name } description removedAt
      revisions {
        kind recordedAt status bookingDate bookedAt amount { amount currency }
        counterpartyName description
      }
    }
  }
}
"""

STATEMENT = """
query Statement($id: ID!, $from: Date!, $to: Date!, $asOf: DateTime) {
  statement(accountId: $id, from: $from, to: $to, asOf: $asOf) {
    asOf balanced reconciled transactionCount
    openingBalance { amount } closingBalance { amount }
    totalDebits { amount } totalCredits { amount } bankReportedBalance { amount }
  }
}
"""

SYNC_STATUS = """
{ accounts { edges { node { id syncStatus {
    checkedAt reconciled difference { amount currency } firstDifferenceOn
    lastRunStatus lastRunFinishedAt
} } } } }
"""

JANUARY = (date(2025, 1, 1), date(2025, 1, 31))


async def _mark_removed(
    session: Any,
    account_id: int,
    *,
    since: datetime,
    until: datetime | None,
    listed: Any,
    run_id: int | None,
    now: datetime,
) -> list[revisions.Revision]:
    """What a sync does when a proven read of [since, until] did not list these rows."""
    gone = await revisions.unlisted(session, account_id, since=since, until=until, listed=listed)
    return await revisions.remove(session, account_id, gone, run_id=run_id, now=now)


def booked(account: AccountData, month: int) -> list[dict[str, Any]]:
    return [
        t for t in account.counted() if t["status"] == "BOOKED" and t["booking_date"].month == month
    ]


def as_incoming(stored: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A stored row as the bank would list it again, with `changes`."""
    row = {k: v for k, v in stored.items() if k not in ("id", "payload_hash")}
    return {**row, **changes}


async def write(
    sessions: async_sessionmaker[AsyncSession], rows: list[dict[str, Any]], now: datetime
) -> revisions.TransactionWrite:
    async with sessions() as session, session.begin():
        return await revisions.write_transactions(session, rows, run_id=None, links=(), now=now)


async def history(api: Api, transaction_id: int, token: str | None = None) -> dict[str, Any]:
    body = await api.query(
        HISTORY, {"id": to_global_id("Transaction", transaction_id)}, token=token
    )
    assert "errors" not in body, body
    node: dict[str, Any] = body["data"]["node"]
    return node


async def statement(
    api: Api, account: AccountData, period: tuple[date, date], as_of: datetime | None = None
) -> dict[str, Any]:
    variables = {
        "id": to_global_id("Account", account.id),
        "from": period[0].isoformat(),
        "to": period[1].isoformat(),
        "asOf": None if as_of is None else as_of.isoformat(),
    }
    body = await api.query(STATEMENT, variables)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]["statement"]
    return result


def figures(result: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in result.items() if k not in ("asOf", "reconciled")}


@pytest.mark.parametrize("month", [1, 3, 6])
async def test_a_changed_booked_row_shows_its_old_values_as_a_revision(
    api: Api, ledger: LedgerData, sessions: async_sessionmaker[AsyncSession], month: int
):
    rows = booked(ledger.wallet, month)
    old = rows[len(rows) // 3]
    now = datetime.now(UTC)
    written = await write(
        sessions,
        [as_incoming(old, amount_minor=old["amount_minor"] - 7, counterparty_name="Renamed")],
        now,
    )

    assert [(r.transaction_id, r.kind) for r in written.revisions] == [(old["id"], "CHANGED")]
    node = await history(api, old["id"])
    assert node["amount"]["amount"] == format_minor(old["amount_minor"] - 7, "TJS")
    assert node["counterparty"]["name"] == "Renamed"
    assert node["removedAt"] is None
    assert node["revisions"] == [
        {
            "kind": "CHANGED",
            "recordedAt": now.isoformat(),
            "status": "BOOKED",
            "bookingDate": old["booking_date"].isoformat(),
            "bookedAt": old["booked_at"].isoformat(),
            "amount": {"amount": format_minor(old["amount_minor"], "TJS"), "currency": "TJS"},
            "counterpartyName": old["counterparty_name"],
            "description": old["description"],
        }
    ]


async def test_an_unchanged_row_has_no_revisions(
    api: Api, ledger: LedgerData, sessions: async_sessionmaker[AsyncSession]
):
    old = booked(ledger.usd, 2)[0]
    # Re-listed as stored: the description is not a booked fact, so it changes in place.
    written = await write(
        sessions, [as_incoming(old, description="new wording")], datetime.now(UTC)
    )

    assert written.revisions == []
    node = await history(api, old["id"])
    assert node["revisions"] == []
    assert node["description"] == "new wording"


async def test_a_removed_row_is_readable_by_id_and_left_out_of_lists(
    api: Api, ledger: LedgerData, sessions: async_sessionmaker[AsyncSession]
):
    january = booked(ledger.wallet, 1)
    gone = january[5]
    listed = {t["external_id"] for t in ledger.wallet.transactions if t is not gone}
    now = datetime.now(UTC)
    async with sessions() as session, session.begin():
        removed = await _mark_removed(
            session,
            ledger.wallet.id,
            since=datetime(2025, 1, 1, tzinfo=UTC),
            until=datetime(2025, 2, 1, tzinfo=UTC),
            listed=listed,
            run_id=None,
            now=now,
        )

    assert [r.transaction_id for r in removed] == [gone["id"]]
    node = await history(api, gone["id"])
    assert node["removedAt"] == now.isoformat()
    assert [(r["kind"], r["amount"]["amount"]) for r in node["revisions"]] == [
        ("REMOVED", format_minor(gone["amount_minor"], "TJS"))
    ]
    body = await api.query(
        """query L($id: ID!) { transactions(first: 100, filter: {accountIds: [$id],
             from: "2025-01-01", to: "2025-01-31", status: BOOKED}) {
             totalCount edges { node { id } } } }""",
        {"id": to_global_id("Account", ledger.wallet.id)},
    )
    ids = [e["node"]["id"] for e in body["data"]["transactions"]["edges"]]
    assert to_global_id("Transaction", gone["id"]) not in ids
    assert body["data"]["transactions"]["totalCount"] == len(january) - 1

    # Listed again: restored, with the removal and the restoration in its history.
    later = now + timedelta(minutes=5)
    written = await write(sessions, [as_incoming(gone)], later)
    assert [r.kind for r in written.revisions] == ["RESTORED"]
    node = await history(api, gone["id"])
    assert node["removedAt"] is None
    assert [r["kind"] for r in node["revisions"]] == ["REMOVED", "RESTORED"]


async def test_a_statement_as_of_before_a_revision_gives_the_figures_reported_then(
    api: Api, ledger: LedgerData, sessions: async_sessionmaker[AsyncSession]
):
    reported = await statement(api, ledger.wallet, JANUARY)
    between = datetime.now(UTC)
    january = booked(ledger.wallet, 1)
    changed, gone = january[3], january[10]
    await asyncio.sleep(0.01)
    after = datetime.now(UTC)  # past by the time the statements below are asked for
    await write(sessions, [as_incoming(changed, amount_minor=changed["amount_minor"] - 100)], after)
    listed = {t["external_id"] for t in ledger.wallet.transactions if t is not gone}
    async with sessions() as session, session.begin():
        await _mark_removed(
            session,
            ledger.wallet.id,
            since=datetime(2025, 1, 1, tzinfo=UTC),
            until=datetime(2025, 2, 1, tzinfo=UTC),
            listed=listed,
            run_id=None,
            now=after,
        )

    now = await statement(api, ledger.wallet, JANUARY)
    then = await statement(api, ledger.wallet, JANUARY, as_of=between)

    assert figures(then) == figures(reported)
    assert then["asOf"] == between.isoformat()
    assert now["asOf"] is None
    assert now["transactionCount"] == reported["transactionCount"] - 1
    debits = sum(-t["amount_minor"] for t in january if t["amount_minor"] < 0)
    debits += 100 if changed["amount_minor"] < 0 else 0
    credits = sum(t["amount_minor"] for t in january if t["amount_minor"] > 0)
    credits -= 100 if changed["amount_minor"] > 0 else 0
    if gone["amount_minor"] < 0:
        debits += gone["amount_minor"]
    else:
        credits -= gone["amount_minor"]
    assert now["totalDebits"]["amount"] == format_minor(debits, "TJS")
    assert now["totalCredits"]["amount"] == format_minor(credits, "TJS")
    # Later instants see the revised ledger.
    assert figures(await statement(api, ledger.wallet, JANUARY, as_of=after)) == figures(now)


async def test_statement_as_of_refuses_the_future_and_naive_instants(api: Api, ledger: LedgerData):
    variables = {"id": to_global_id("Account", ledger.wallet.id), "from": "2025-01-01"}
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    for as_of in (future, "2025-02-01T00:00:00", "yesterday"):
        body = await api.query(STATEMENT, {**variables, "to": "2025-01-31", "asOf": as_of})
        assert codes(body) == ["BAD_USER_INPUT"], as_of


async def check(
    sessions: async_sessionmaker[AsyncSession],
    account: AccountData,
    checked_at: datetime,
    *,
    difference: int | None = 0,
    first_day: date | None = None,
    status: str = "SUCCEEDED",
    **proof: Any,
) -> int:
    """A finished sync run of the account's connection and its check of the account
    (`proof`: its opening and proof columns)."""
    async with sessions() as session, session.begin():
        run = await session.execute(
            insert(table(SyncRun))
            .values(
                connection_id=account.connection_id,
                status=status,
                started_at=checked_at - timedelta(minutes=1),
                finished_at=checked_at + timedelta(seconds=1),
                heartbeat_at=checked_at,
            )
            .returning(table(SyncRun).c.id)
        )
        run_id = int(run.scalar_one())
        await session.execute(
            insert(table(AccountReconciliation)).values(
                sync_run_id=run_id,
                account_id=account.id,
                checked_at=checked_at,
                currency=account.currency,
                bank_booked_minor=account.balance,
                ledger_booked_minor=account.balance - (difference or 0),
                difference_minor=difference,
                first_day=first_day,
                reconciled=difference == 0 and first_day is None,
                **proof,
            )
        )
    return run_id


async def test_statement_reconciled_follows_the_latest_check_after_the_period(
    api: Api, ledger: LedgerData, sessions: async_sessionmaker[AsyncSession]
):
    wallet = ledger.wallet
    assert (await statement(api, wallet, JANUARY))["reconciled"] is None

    # Before the period ended: it could not see the whole period.
    await check(sessions, wallet, datetime(2025, 1, 20, tzinfo=UTC), difference=5)
    assert (await statement(api, wallet, JANUARY))["reconciled"] is None

    clean = datetime(2025, 2, 2, tzinfo=UTC)
    await check(sessions, wallet, clean)
    assert (await statement(api, wallet, JANUARY))["reconciled"] is True

    # A later gap in March leaves January proven, and February and March not.
    feb_march = (date(2025, 2, 1), date(2025, 3, 31))
    spring = datetime(2025, 4, 1, tzinfo=UTC)
    await check(sessions, wallet, spring)
    gap = spring + timedelta(1)
    await check(sessions, wallet, gap, difference=-12_00, first_day=date(2025, 3, 9))
    assert (await statement(api, wallet, JANUARY))["reconciled"] is True
    assert (await statement(api, wallet, feb_march))["reconciled"] is False
    # As reported before the gap was found, and before anything covered the period.
    assert (await statement(api, wallet, feb_march, as_of=spring))["reconciled"] is True
    assert (await statement(api, wallet, feb_march, as_of=clean))["reconciled"] is None
    # Another account's checks say nothing about this one.
    assert (await statement(api, ledger.usd, JANUARY))["reconciled"] is None


async def test_sync_status_is_the_latest_check_and_run(
    api: Api, ledger: LedgerData, sessions: async_sessionmaker[AsyncSession]
):
    older = datetime(2025, 7, 1, 6, tzinfo=UTC)
    await check(sessions, ledger.wallet, older)
    await check(
        sessions,
        ledger.wallet,
        older + timedelta(hours=1),
        difference=-42_50,
        first_day=date(2025, 6, 3),
        status="UNRECONCILED",
    )
    await check(sessions, ledger.usd, older)
    # The foreign customer's check must not leak into anything of A's.
    await check(sessions, ledger.foreign, older + timedelta(hours=2), status="FAILED")

    body = await api.query(SYNC_STATUS)

    statuses = {e["node"]["id"]: e["node"]["syncStatus"] for e in body["data"]["accounts"]["edges"]}
    latest = older + timedelta(hours=1)
    assert statuses == {
        to_global_id("Account", ledger.wallet.id): {
            "checkedAt": latest.isoformat(),
            "reconciled": False,
            "difference": {"amount": "-42.50", "currency": "TJS"},
            "firstDifferenceOn": "2025-06-03",
            "lastRunStatus": "UNRECONCILED",
            "lastRunFinishedAt": (latest + timedelta(seconds=1)).isoformat(),
        },
        # The same connection: its newest run is the wallet's.
        to_global_id("Account", ledger.usd.id): {
            "checkedAt": older.isoformat(),
            "reconciled": True,
            "difference": {"amount": "0.00", "currency": "USD"},
            "firstDifferenceOn": None,
            "lastRunStatus": "UNRECONCILED",
            "lastRunFinishedAt": (latest + timedelta(seconds=1)).isoformat(),
        },
        to_global_id("Account", ledger.rub.id): None,
    }


PROOF = """
{ accounts { edges { node { id syncStatus {
    opening openingBalance { amount currency } provenFrom historyProvenAt
} } } } }
"""


@pytest.mark.parametrize("opening", ["PROVEN", "UNPROVEN", "LOST"])
async def test_sync_status_says_what_the_check_proved(
    api: Api, ledger: LedgerData, sessions: async_sessionmaker[AsyncSession], opening: str
):
    at = datetime(2025, 7, 1, 6, tzinfo=UTC)
    since, whole = at - timedelta(days=10), at - timedelta(days=3)
    lost = opening == "LOST"
    await check(
        sessions,
        ledger.wallet,
        at,
        difference=-7_25 if lost else 0,
        first_day=date(2025, 1, 2) if lost else None,
        opening_minor=123_45,
        opening=opening,
        proven_from=None if lost else since,
        history_proven_at=whole,
    )
    await check(sessions, ledger.usd, at)  # recorded before openings were judged

    body = await api.query(PROOF)

    statuses = {e["node"]["id"]: e["node"]["syncStatus"] for e in body["data"]["accounts"]["edges"]}
    assert statuses[to_global_id("Account", ledger.wallet.id)] == {
        "opening": opening,
        "openingBalance": {"amount": "123.45", "currency": "TJS"},
        "provenFrom": None if lost else since.isoformat(),
        "historyProvenAt": whole.isoformat(),
    }
    assert statuses[to_global_id("Account", ledger.usd.id)] == {
        "opening": None,
        "openingBalance": None,
        "provenFrom": None,
        "historyProvenAt": None,
    }


async def test_sync_status_needs_balances_read(api: Api, ledger: LedgerData, sessions):
    await check(sessions, ledger.wallet, datetime(2025, 7, 1, tzinfo=UTC))
    token = await api.token(scopes=sorted(set(ALL_SCOPES) - {BALANCES_READ}))

    body = await api.query(SYNC_STATUS, token=token)

    assert set(codes(body)) == {"FORBIDDEN"}
    assert {e["extensions"]["scope"] for e in body["errors"]} == {BALANCES_READ}
    assert all(e["node"]["syncStatus"] is None for e in body["data"]["accounts"]["edges"])


class ReaderOf:
    """A request that may read `account_ids`, over one session."""

    def __init__(self, session: AsyncSession, account_ids: list[int]) -> None:
        self.db = RequestDb(session)
        self._account_ids = account_ids

    async def account_ids(self) -> list[int]:
        return self._account_ids


async def test_another_customers_history_and_checks_look_missing(
    api: Api, ledger: LedgerData, sessions: async_sessionmaker[AsyncSession]
):
    foreign = booked(ledger.foreign, 2)[0]
    await write(
        sessions,
        [as_incoming(foreign, amount_minor=foreign["amount_minor"] + 1)],
        datetime.now(UTC),
    )
    await check(sessions, ledger.foreign, datetime(2025, 7, 1, tzinfo=UTC))

    body = await api.query(HISTORY, {"id": to_global_id("Transaction", foreign["id"])})
    assert body["data"] == {"node": None}
    body = await api.query(
        "query A($id: ID!) { node(id: $id) { ... on Account { syncStatus { checkedAt } } } }",
        {"id": to_global_id("Account", ledger.foreign.id)},
    )
    assert body["data"] == {"node": None}
    # Even handed the foreign ids directly, A's loaders return nothing; B's see them.
    a_ids = [a.id for a in ledger.accounts_a]
    async with sessions() as session:
        as_a = ReaderOf(session, a_ids)
        assert await RevisionsByTransactionLoader(as_a).load(foreign["id"]) == []
        state = await SyncStateByAccountLoader(as_a).load(ledger.foreign.id)
        assert (state.check, state.run) == (None, None)
        as_b = ReaderOf(session, [ledger.foreign.id])
        assert len(await RevisionsByTransactionLoader(as_b).load(foreign["id"])) == 1
        assert (await SyncStateByAccountLoader(as_b).load(ledger.foreign.id)).check is not None


async def checked_by_the_ledger(
    sessions: async_sessionmaker[AsyncSession], account: AccountData, now: datetime
) -> None:
    """A sync run doing its own check: the account's rows against the bank's booked
    balance; the run ends as the check came out."""
    runs = table(SyncRun)
    async with sessions() as session, session.begin():
        run = await session.execute(
            insert(runs)
            .values(connection_id=account.connection_id, status="RUNNING", heartbeat_at=now)
            .returning(runs.c.id)
        )
        run_id = int(run.scalar_one())
        result = await reconciliation.check_account(session, account.id, account.balance)
        await reconciliation.record(session, run_id, account.id, result, now=now)
        status = "SUCCEEDED" if result.reconciled else "UNRECONCILED"
        await session.execute(
            update(runs).where(runs.c.id == run_id).values(status=status, finished_at=now)
        )


@pytest.mark.parametrize("dropped", [1, 57, 58, 190, -1])
async def test_a_dropped_row_is_located_to_its_day_in_the_api(
    api: Api, ledger: LedgerData, sessions: async_sessionmaker[AsyncSession], dropped: int
):
    wallet = ledger.wallet
    clean = datetime.now(UTC) - timedelta(minutes=10)
    await checked_by_the_ledger(sessions, wallet, clean)
    chained = [t for t in wallet.counted() if t["balance_after_minor"] is not None]
    chain = sorted(chained, key=lambda t: (t["booking_date"], t["booked_at"]))
    gone = chain[dropped]
    # Order within a day is unknown to the check, so a row missing at the start of a day
    # may as well have ended the day before: the check names that earlier day.
    earlier = [t["booking_date"] for t in chain if t["booking_date"] < gone["booking_date"]]
    first_of_its_day = not any(
        t["booking_date"] == gone["booking_date"] and t["booked_at"] < gone["booked_at"]
        for t in chain
    )
    located = earlier[-1] if first_of_its_day else gone["booking_date"]
    async with sessions() as session, session.begin():
        await _mark_removed(
            session,
            wallet.id,
            since=gone["booked_at"],
            until=gone["booked_at"],
            listed=(),
            run_id=None,
            now=clean + timedelta(minutes=1),
        )
    await checked_by_the_ledger(sessions, wallet, clean + timedelta(minutes=2))

    body = await api.query(
        """query A($id: ID!) { node(id: $id) { ... on Account { syncStatus {
             reconciled difference { amount } firstDifferenceOn lastRunStatus
             bankBookedBalance { amount } ledgerBookedBalance { amount } } } } }""",
        {"id": to_global_id("Account", wallet.id)},
    )

    assert body["data"]["node"]["syncStatus"] == {
        "reconciled": False,
        "difference": {"amount": format_minor(gone["amount_minor"], "TJS")},
        "firstDifferenceOn": located.isoformat(),
        "lastRunStatus": "UNRECONCILED",
        "bankBookedBalance": {"amount": format_minor(wallet.balance, "TJS")},
        "ledgerBookedBalance": {
            "amount": format_minor(wallet.balance - gone["amount_minor"], "TJS")
        },
    }
    before = (date(2024, 12, 1), located - timedelta(1))
    through = (located, date(2025, 6, 30))
    assert (await statement(api, wallet, before))["reconciled"] is True
    assert (await statement(api, wallet, through))["reconciled"] is False
    assert (await statement(api, wallet, through, as_of=clean))["reconciled"] is True
