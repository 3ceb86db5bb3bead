"""Bearer tokens, consents checked on every request, scopes, and customers kept apart."""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from graph.auth.oauth.tokens import issue_access_token
from graph.auth.scopes import ALL_SCOPES
from graph.relay.ids import to_global_id
from ledger.models import Consent, table

from ..tampering import tamper
from .helpers import KEYS, Api, claims_of, codes, counting, sign
from .ledger_data import PHONE_B, LedgerData

VIEWER = "{ viewer { customer { id phoneMasked } consent { scopes status accountIds } } }"
NODE = "query N($id: ID!) { node(id: $id) { id } }"
CONSENTS = table(Consent)


NO_TOKEN = "Bearer"  # RFC 6750 3.1: no error code when no token was presented
INVALID_TOKEN = 'Bearer error="invalid_token"'


def unauthenticated(response, challenge: str = INVALID_TOKEN) -> None:
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == challenge
    assert codes(response.json()) == ["UNAUTHENTICATED"]


async def latest_consent(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return int(
            (await session.execute(select(CONSENTS.c.id).order_by(CONSENTS.c.id.desc())))
            .scalars()
            .first()
        )


async def test_a_request_without_a_token_is_unauthenticated(api: Api, ledger: LedgerData):
    response = await api.client.post("/graphql", json={"query": VIEWER})

    unauthenticated(response, NO_TOKEN)


async def test_a_token_in_the_query_string_is_ignored(api: Api, ledger: LedgerData):
    token = await api.token()

    response = await api.client.get("/graphql", params={"query": VIEWER, "access_token": token})

    unauthenticated(response, NO_TOKEN)


@pytest.mark.parametrize(
    ("header", "challenge"),
    [
        ("Basic dXNlcjpwYXNz", NO_TOKEN),
        ("Bearer", NO_TOKEN),
        ("token", NO_TOKEN),
        ("Bearer not.a.jwt", INVALID_TOKEN),
        ("Bearer " + "a" * 5000, INVALID_TOKEN),
    ],
)
async def test_malformed_authorization_is_unauthenticated(
    api: Api, ledger: LedgerData, header: str, challenge: str
):
    response = await api.client.post(
        "/graphql", json={"query": VIEWER}, headers={"Authorization": header}
    )

    unauthenticated(response, challenge)


async def test_tampered_tokens_are_refused(api: Api, ledger: LedgerData, sessions):
    token = await api.token()
    consent = await latest_consent(sessions)
    claims = claims_of(token)
    header = base64.urlsafe_b64encode(json.dumps({"alg": "none", "typ": "JWT"}).encode()).rstrip(
        b"="
    )
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=")
    forged = [
        sign(claims, key=b"another-secret-another-secret-123"),
        sign(claims, algorithm="HS512"),  # the algorithm is pinned
        f"{header.decode()}.{payload.decode()}.",  # alg: none
        sign({**claims, "sub": str(ledger.user_b)}, key=b"x" * 32),
        tamper(token),
    ]
    assert claims["cid"] == consent

    for candidate in forged:
        response = await api.post(VIEWER, token=candidate)
        unauthenticated(response)


async def test_a_token_naming_another_customers_consent_is_refused(
    api: Api, ledger: LedgerData, sessions
):
    await api.token()
    consent_of_a = await latest_consent(sessions)
    now = datetime.now(UTC)
    token = issue_access_token(
        KEYS, user_id=ledger.user_b, consent_id=consent_of_a, scopes=frozenset(ALL_SCOPES),
        now=now, ttl=timedelta(minutes=5),
    )  # fmt: skip

    unauthenticated(await api.post(VIEWER, token=token))


async def test_an_expired_token_is_refused(api: Api, ledger: LedgerData, sessions):
    await api.token()
    consent = await latest_consent(sessions)
    token = issue_access_token(
        KEYS, user_id=ledger.user_a, consent_id=consent, scopes=frozenset(ALL_SCOPES),
        now=datetime.now(UTC) - timedelta(minutes=11), ttl=timedelta(minutes=10),
    )  # fmt: skip

    unauthenticated(await api.post(VIEWER, token=token))


@pytest.mark.parametrize(
    "change",
    [{"status": "REVOKED"}, {"expires_at": datetime(2020, 1, 1, tzinfo=UTC)}],
    ids=["revoked", "expired"],
)
async def test_the_consent_is_checked_on_every_request(
    api: Api, ledger: LedgerData, sessions: async_sessionmaker[AsyncSession], change: dict
):
    token = await api.token()
    assert (await api.post(VIEWER, token=token)).status_code == 200

    async with sessions() as session, session.begin():
        await session.execute(update(CONSENTS).values(**change))

    unauthenticated(await api.post(VIEWER, token=token))


async def test_viewer_describes_the_token(api: Api, ledger: LedgerData):
    token = await api.token(scopes=[], account_ids=[ledger.wallet.id])

    body = await api.query(VIEWER, token=token)

    assert body["data"]["viewer"] == {
        "customer": {"id": to_global_id("Customer", ledger.user_a), "phoneMasked": "+99290•••••01"},
        "consent": {
            "scopes": [],
            "status": "AUTHORISED",
            "accountIds": [to_global_id("Account", ledger.wallet.id)],
        },
    }


# --- scopes ---------------------------------------------------------------------------------

GATED = [
    ("transactions:read", "{ transactions { edges { cursor } } }", ["transactions"]),
    ("accounts:read", "{ accounts { edges { cursor } } }", ["accounts"]),
    ("cards:read", "{ cards { edges { cursor } } }", ["cards"]),
    ("transfers:read", "{ transfers { edges { cursor } } }", ["transfers"]),
    ("payments:read", "{ servicePayments { edges { cursor } } }", ["servicePayments"]),
    (
        "statements:read",
        '{ statement(accountId: "QWNjb3VudDox", from: "2025-01-01", to: "2025-01-31") { from } }',
        ["statement"],
    ),
    (
        "transactions:read",
        '{ spendingInsights(from: "2025-01-01", to: "2025-01-31") { from } }',
        ["spendingInsights"],
    ),
]


@pytest.mark.parametrize(("scope", "query", "path"), GATED)
async def test_a_field_outside_the_scopes_is_null_with_one_error_and_no_read(
    api: Api, ledger: LedgerData, engine: AsyncEngine, scope: str, query: str, path: list[str]
):
    token = await api.token(scopes=[s for s in ALL_SCOPES if s != scope])

    with counting(engine) as statements:
        body = await api.query(query, token=token)

    assert body["data"] == {path[0]: None}
    assert body["errors"] == [
        {
            "message": f"This needs the consent scope {scope}.",
            "locations": body["errors"][0]["locations"],
            "path": path,
            "extensions": {"code": "FORBIDDEN", "scope": scope},
        }
    ]
    # The consent check (which reads the ids of the accounts it allows, in a subquery of
    # its one statement), and nothing of the field.
    check, *rest = statements
    assert re.search(r"\bFROM consent\b", check)
    assert not [s for s in rest if re.search(LEDGER_DATA, s)]


LEDGER_DATA = (
    r"\bFROM (account|ledger_transaction|card|transfer|service_payment|balance_snapshot|"
    r"exchange_rate)\b"
)
NESTED = """
query N($id: ID!) {
  node(id: $id) {
    ... on Account { name balances { type } cards { id } transactions { edges { cursor } } }
  }
}
"""


async def test_nested_fields_are_gated_one_by_one(api: Api, ledger: LedgerData):
    token = await api.token(scopes=["accounts:read", "cards:read"])

    body = await api.query(NESTED, {"id": to_global_id("Account", ledger.wallet.id)}, token=token)

    node = body["data"]["node"]
    assert node["name"] == "Alif Mobi"
    assert node["cards"] != []
    assert node["balances"] is None and node["transactions"] is None
    assert sorted(e["extensions"]["scope"] for e in body["errors"]) == [
        "balances:read",
        "transactions:read",
    ]


async def test_node_of_a_type_outside_the_scopes_is_forbidden(api: Api, ledger: LedgerData):
    token = await api.token(scopes=["accounts:read"])

    body = await api.query(
        NODE, {"id": to_global_id("Transfer", ledger.transfer_ids[0])}, token=token
    )

    assert body["data"] == {"node": None}
    assert codes(body) == ["FORBIDDEN"]


# --- other customers and accounts outside the consent -----------------------------------------


def foreign_ids(ledger: LedgerData) -> list[str]:
    return [
        to_global_id("Account", ledger.foreign.id),
        to_global_id("Transaction", ledger.foreign.transactions[0]["id"]),
        to_global_id("Card", ledger.foreign_card_id),
        to_global_id("Transfer", ledger.foreign_transfer_id),
        to_global_id("Customer", ledger.user_b),
    ]


def missing_ids() -> list[str]:
    return [
        to_global_id(kind, 987654)
        for kind in ("Account", "Transaction", "Card", "Transfer", "Customer")
    ]


async def test_node_of_another_customer_looks_exactly_like_a_missing_id(
    api: Api, ledger: LedgerData
):
    token = await api.token()

    for foreign, missing in zip(foreign_ids(ledger), missing_ids(), strict=True):
        a = await api.post(NODE, {"id": foreign}, token=token)
        b = await api.post(NODE, {"id": missing}, token=token)
        assert (a.status_code, a.json()) == (b.status_code, b.json()) == (200, {
            "data": {"node": None}, "extensions": a.json()["extensions"]
        })  # fmt: skip


async def test_nodes_of_another_customer_look_like_missing_ids(api: Api, ledger: LedgerData):
    own = to_global_id("Account", ledger.wallet.id)
    query = "query N($ids: [ID!]!) { nodes(ids: $ids) { id } }"

    foreign = await api.query(query, {"ids": [*foreign_ids(ledger), own]})
    missing = await api.query(query, {"ids": [*missing_ids(), own]})

    assert foreign["data"] == missing["data"] == {"nodes": [None] * 5 + [{"id": own}]}
    assert "errors" not in foreign and "errors" not in missing


FILTERED = """
query F($accounts: [ID!], $cards: [ID!]) {
  transactions(filter: {accountIds: $accounts, cardIds: $cards}) { totalCount edges { cursor } }
  transfers(filter: {accountIds: $accounts}) { totalCount }
  servicePayments(filter: {accountIds: $accounts}) { totalCount }
}
"""


async def test_filters_by_another_customers_ids_look_like_missing_ids(api: Api, ledger: LedgerData):
    foreign = await api.query(
        FILTERED,
        {"accounts": [to_global_id("Account", ledger.foreign.id)],
         "cards": [to_global_id("Card", ledger.foreign_card_id)]},
    )  # fmt: skip
    missing = await api.query(
        FILTERED,
        {"accounts": [to_global_id("Account", 987654)], "cards": [to_global_id("Card", 987654)]},
    )

    assert foreign["data"] == missing["data"]
    assert foreign["data"]["transactions"] == {"totalCount": 0, "edges": []}


STATEMENT = """
query S($id: ID!) { statement(accountId: $id, from: "2025-01-01", to: "2025-01-31") { from } }
"""
CONSENT_PATHS = """
query P($usd: ID!) {
  accounts { edges { node { id } } }
  node(id: $usd) { id }
  transactions(first: 100) { edges { node { account { id } } } }
  cards { edges { node { id } } }
}
"""


async def test_accounts_outside_the_consent_do_not_exist_for_the_token(
    api: Api, ledger: LedgerData
):
    wallet = to_global_id("Account", ledger.wallet.id)
    token = await api.token(account_ids=[ledger.wallet.id])

    body = await api.query(
        CONSENT_PATHS, {"usd": to_global_id("Account", ledger.usd.id)}, token=token
    )
    statement = await api.query(
        STATEMENT, {"id": to_global_id("Account", ledger.usd.id)}, token=token
    )

    data = body["data"]
    assert data["accounts"]["edges"] == [{"node": {"id": wallet}}]
    assert data["node"] is None
    assert {e["node"]["account"]["id"] for e in data["transactions"]["edges"]} == {wallet}
    assert len(data["cards"]["edges"]) == 2  # the RUB account's card is not shared
    assert codes(statement) == ["NOT_FOUND"]


async def test_the_other_customer_sees_only_their_own(api: Api, ledger: LedgerData):
    token = await api.token(phone=PHONE_B)

    body = await api.query("{ accounts { totalCount } transactions { totalCount } }", token=token)

    assert body["data"] == {
        "accounts": {"totalCount": 1},
        "transactions": {"totalCount": len(ledger.foreign.transactions)},
    }
