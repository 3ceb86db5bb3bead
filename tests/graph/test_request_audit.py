"""One audit row per API request, for allowed and denied reads alike, and nothing secret in it."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from graphql import OperationDefinitionNode, parse
from sqlalchemy import event, select, text, update
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.requests import Request

from graph.audit import requests as request_audit
from graph.audit.returned_ids import returned_ids
from graph.audit.trail import Trail
from graph.auth.principal import Party
from graph.relay.ids import to_global_id
from ledger.audit import digest
from ledger.db import create_engine, session_factory
from ledger.models import AuditEvent
from ledger.types import utcnow

from ..tampering import tamper
from .helpers import CONSENTS, Api, codes, consent_of
from .ledger_data import LedgerData

ACCOUNTS = "query Accounts { accounts { edges { node { id name } } } }"


def only(rows: list[AuditEvent]) -> AuditEvent:
    assert len(rows) == 1, rows
    return rows[0]


def listed(row: AuditEvent) -> list[str]:
    return row.object_ids.split()


async def test_an_allowed_read_is_recorded_with_what_it_returned(api: Api, ledger: LedgerData):
    token = await api.token()

    response = await api.post(ACCOUNTS, token=token)

    row = only(await api.audit_rows())
    accounts = [to_global_id("Account", a.id) for a in ledger.accounts_a]
    assert (row.operation, row.outcome, row.scopes) == ("Accounts", "ok", "accounts:read")
    assert (row.user_id, row.consent_id, row.client_id) == (ledger.user_a, consent_of(token), None)
    assert sorted(listed(row)) == sorted(accounts)
    assert row.object_count == 3 and row.object_digest == digest(accounts)
    assert row.request_id == response.headers["x-request-id"]
    assert row.ip == "127.0.0.1"


async def test_an_apps_public_client_id_is_recorded(api: Api, ledger: LedgerData):
    pk, client_id = await api.register_app()

    await api.post("{ viewer { customer { id } } }", token=await api.token(client=pk))

    row = only(await api.audit_rows())
    assert (row.client_id, row.operation, row.scopes, row.outcome) == (
        client_id, "anonymous", "", "ok"
    )  # fmt: skip
    assert listed(row) == [to_global_id("Customer", ledger.user_a)]


async def test_scopes_used_are_those_of_the_gated_fields_resolved_or_denied(
    api: Api, ledger: LedgerData
):
    token = await api.token(scopes=["accounts:read", "cards:read"])
    query = "{ accounts { edges { node { id cards { id } balances { type } } } } }"

    body = await api.query(query, token=token)

    row = only(await api.audit_rows())
    assert set(codes(body)) == {"FORBIDDEN"}
    assert row.outcome == "denied"
    assert row.scopes.split() == ["accounts:read", "balances:read", "cards:read"]


@pytest.mark.parametrize(
    ("authorization", "knows_consent"),
    [(None, False), ("Bearer not.a.token", False), ("revoked", True)],
    ids=["no-token", "bad-token", "revoked-consent"],
)
async def test_refused_tokens_are_recorded_as_denied(
    api: Api, ledger: LedgerData, sessions, authorization: str | None, knows_consent: bool
):
    token = await api.token()
    if authorization == "revoked":
        async with sessions.begin() as session:
            await session.execute(update(CONSENTS).values(status="REVOKED"))
        authorization = f"Bearer {token}"
    headers = {"Authorization": authorization} if authorization else {}

    response = await api.client.post("/graphql", json={"query": ACCOUNTS}, headers=headers)

    row = only(await api.audit_rows())
    assert response.status_code == 401
    assert (row.outcome, row.object_count, row.scopes) == ("denied", 0, "")
    if knows_consent:
        assert (row.user_id, row.consent_id) == (ledger.user_a, consent_of(token))
    else:
        assert (row.user_id, row.consent_id, row.client_id) == (None, None, None)


async def test_a_failed_request_is_recorded_as_an_error(api: Api, ledger: LedgerData):
    body = await api.query("{ transactions(first: 500) { edges { cursor } } }")
    unreadable = await api.client.post(
        "/graphql",
        content=b"{not json",
        headers={
            "Authorization": f"Bearer {await api.token()}",
            "Content-Type": "application/json",
        },
    )

    assert codes(body) == ["BAD_USER_INPUT"] and unreadable.status_code == 400
    assert [r.outcome for r in await api.audit_rows()] == ["error", "error"]


async def test_many_ids_are_kept_as_a_count_and_a_digest(api: Api, ledger: LedgerData):
    query = "{ transactions(first: 100) { edges { node { id account { id } } } } }"

    body = await api.query(query)

    ids = [e["node"]["id"] for e in body["data"]["transactions"]["edges"]]
    ids += sorted({e["node"]["account"]["id"] for e in body["data"]["transactions"]["edges"]})
    row = only(await api.audit_rows())
    assert row.object_count == len(set(ids)) > 100
    assert row.object_ids == "" and row.object_digest == digest(list(set(ids)))


async def test_the_row_never_holds_the_token(api: Api, ledger: LedgerData, sessions):
    token = await api.token()
    await api.post(ACCOUNTS, token=token)
    await api.post(ACCOUNTS, token=tamper(token))  # a tampered one, refused
    async with sessions.begin() as session:
        await session.execute(update(CONSENTS).values(status="REVOKED"))
    await api.post(ACCOUNTS, token=token)

    rows = await api.audit_rows()
    dump = "\n".join(
        " ".join(str(getattr(r, c.name)) for c in AuditEvent.__table__.columns) for r in rows
    )
    assert len(rows) == 3
    for part in (token, *token.split(".")):
        assert part not in dump


async def test_rest_requests_are_recorded(api: Api, ledger: LedgerData):
    token = await api.token()
    headers = {"Authorization": f"Bearer {token}"}

    listing = await api.client.get("/api/v1/alif/transactions?limit=3", headers=headers)
    statement = await api.client.get(
        f"/api/v1/alif/accounts/{to_global_id('Account', ledger.wallet.id)}/statement"
        "?from_date=2025-01-01&to_date=2025-01-31",
        headers=headers,
    )
    forbidden = await api.client.get(
        "/api/v1/alif/transactions",
        headers={"Authorization": f"Bearer {await api.token(scopes=['accounts:read'])}"},
    )

    rows = await api.audit_rows()
    assert [(r.operation, r.outcome, r.scopes) for r in rows] == [
        ("rest.list_transactions", "ok", "transactions:read"),
        ("rest.account_statement", "ok", "statements:read"),
        ("rest.list_transactions", "denied", "transactions:read"),
    ]
    assert listed(rows[0]) == [t["id"] for t in listing.json()["transactions"]]
    assert listed(rows[1]) == [to_global_id("Account", ledger.wallet.id)]
    assert statement.status_code == 200 and forbidden.status_code == 403
    assert rows[0].request_id == listing.headers["x-request-id"]


async def test_an_answer_whose_row_cannot_be_written_is_not_sent(
    api: Api, ledger: LedgerData, monkeypatch: pytest.MonkeyPatch
):
    async def broken(*args: object, **kwargs: object) -> None:
        raise OperationalError("INSERT INTO audit_event", {}, Exception("disk full"))

    monkeypatch.setattr(request_audit.audit, "record", broken)
    token = await api.token()

    graphql = await api.post(ACCOUNTS, token=token)
    rest = await api.client.get(
        "/api/v1/alif/transactions", headers={"Authorization": f"Bearer {token}"}
    )

    assert graphql.status_code == rest.status_code == 500
    assert codes(graphql.json()) == ["INTERNAL_SERVER_ERROR"] and "data" not in graphql.json()
    assert rest.json()["error"] == "INTERNAL_SERVER_ERROR" and "transactions" not in rest.json()


def test_returned_ids_follow_aliases_fragments_and_lists():
    document = parse(
        """
        query Q {
          a: accounts { edges { node { ident: id ...More } } }
          viewer { x: customer { id } }
        }
        fragment More on Account { cards { ... on Card { id name: id } } }
        """
    )
    operation = next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))
    account, card = to_global_id("Account", 1), to_global_id("Card", 2)
    data = {
        "a": {"edges": [{"node": {"ident": account, "cards": [{"id": card, "name": card}]}}]},
        "viewer": {"x": {"id": "not-a-global-id"}},
    }

    assert returned_ids(document, operation, data) == [account, card]


def _request(rid: str) -> Request:
    return Request(
        {"type": "http", "headers": [], "client": ("127.0.0.1", 1), "state": {"request_id": rid}}
    )


async def test_the_row_does_not_share_the_fate_of_the_requests_transaction(
    api: Api, ledger: LedgerData, sessions: async_sessionmaker[AsyncSession]
):
    # Given a request whose transaction left a write uncommitted and then failed (on
    # PostgreSQL the failed statement aborts the transaction)
    trail = Trail(operation="failing", codes=["INTERNAL_SERVER_ERROR"])
    async with sessions() as session:
        await session.execute(update(CONSENTS).values(scopes="uncommitted"))
        with pytest.raises(DBAPIError):
            await session.execute(text("SELECT * FROM no_such_table"))
        # When its row is written on its own session
        written = await request_audit.write_audit(
            sessions, _request("r-1"), Party(ledger.user_a), trail, at=utcnow(), session=session
        )
    # Then the row is there and the request's write is not
    row = only(await api.audit_rows())
    assert written and (row.operation, row.outcome, row.request_id) == ("failing", "error", "r-1")
    async with sessions() as session:
        scopes = set((await session.execute(select(CONSENTS.c.scopes))).scalars())
    assert "uncommitted" not in scopes


async def test_a_connection_that_cannot_take_the_row_hands_it_to_a_new_one(
    api: Api,
    ledger: LedgerData,
    sessions: async_sessionmaker[AsyncSession],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
):
    # Given a request whose session's database is gone
    broken = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'gone.db'}")  # no tables
    try:
        async with session_factory(broken)() as session:
            written = await request_audit.write_audit(
                sessions, _request("r-2"), Party(), Trail(), at=utcnow(), session=session
            )
    finally:
        await broken.dispose()
    # Then a new session of the service wrote the row, once
    row = only(await api.audit_rows())
    assert written and (row.request_id, row.outcome) == ("r-2", "ok")
    assert "request r-2: audit row written on a new connection" in caplog.text


def _audit_inserts(engine: AsyncEngine) -> list[int]:
    """Appends the number of rows of every INSERT into the audit table `engine` runs."""
    counted: list[int] = []

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def count(conn, cursor, statement, parameters, context, executemany):
        if statement.startswith("INSERT INTO audit_event"):
            counted.append(len(parameters) if executemany else 1)

    return counted


async def _concurrently(
    sessions: async_sessionmaker[AsyncSession], ids: list[str], *, while_queued: bool
) -> list[bool]:
    """Each id's row written by a request of its own, all at once; with `while_queued`
    (SQLite) they wait until every one is queued behind a turn the test holds."""

    async def one(rid: str) -> bool:
        async with sessions() as session:
            await session.execute(text("SELECT 1"))  # the request's own read
            return await request_audit.write_audit(
                sessions, _request(rid), Party(), Trail(operation=rid), at=utcnow(), session=session
            )

    if not while_queued:
        return list(await asyncio.gather(*(one(rid) for rid in ids)))
    queue = request_audit._queue(sessions)
    assert queue is not None
    async with queue.turn:  # another request's turn
        tasks = [asyncio.create_task(one(rid)) for rid in ids]
        for _ in range(1000):  # each ends its transaction first: a few round trips
            if len(queue.rows) == len(ids):
                break
            await asyncio.sleep(0.01)
        assert len(queue.rows) == len(ids)
    return list(await asyncio.gather(*tasks))


async def test_rows_of_concurrent_requests_each_land_once(
    api: Api, backend: str, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
):
    inserts = _audit_inserts(engine)
    ids = [f"r-{i}" for i in range(5)]

    written = await _concurrently(sessions, ids, while_queued=backend == "sqlite")

    rows = await api.audit_rows()
    assert written == [True] * 5
    assert sorted((row.request_id, row.operation) for row in rows) == [(i, i) for i in ids]
    # SQLite: the rows that waited are written by one statement (one writer at a time, no
    # sleeps in its busy handler); PostgreSQL: each request writes its own.
    assert inserts == ([5] if backend == "sqlite" else [1] * 5)


async def test_requests_whose_rows_could_not_be_written_together_are_not_answered(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    # Given requests of a database without the audit table, queued behind one turn
    broken = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'gone.db'}")
    try:
        ids = ["r-1", "r-2", "r-3"]
        written = await _concurrently(session_factory(broken), ids, while_queued=True)
    finally:
        await broken.dispose()
    # Then none of them may be answered, and the log says so for each
    assert written == [False] * 3
    for rid in ("r-1", "r-2", "r-3"):
        assert f"request {rid}: audit row not written" in caplog.text
