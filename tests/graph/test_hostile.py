"""The API under hostile input: size before work, the depth limit, and a typed answer to
every malformed value (issue 12)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from starlette.types import Message, Receive, Scope, Send

from connectors.keys import Keyring
from graph.limits.requests import RequestLimits
from graph.relay.ids import to_global_id
from graph.server.body_limit import BodyLimit
from graph.settings import Settings

from ..tampering import tamper
from .conftest import AppApi
from .helpers import SECRET, Api, codes
from .ledger_data import LedgerData

SIMPLE = "{ viewer { customer { id } } }"
LIMIT = 65_536


def graphql_shaped(response: httpx.Response, code: str = "BAD_USER_INPUT") -> str:
    """The one error of a GraphQL-shaped answer, checked to carry `code`; its message."""
    body = response.json()
    assert [e["extensions"]["code"] for e in body["errors"]] == [code], body
    message: str = body["errors"][0]["message"]
    return message


# -- size before work ---------------------------------------------------------------------


async def post_raw(api: Api, content: Any, token: str | None, **headers: str) -> httpx.Response:
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return await api.client.post(
        "/graphql", content=content, headers={"Content-Type": "application/json", **headers}
    )


async def post_json(api: Api, request: dict[str, Any]) -> dict[str, Any]:
    """Posts `request` as JSON with \\u escapes, the one way a lone surrogate travels."""
    response = await post_raw(api, json.dumps(request).encode(), await api.token())
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def padded(size: int) -> bytes:
    """A well-formed GraphQL request of exactly `size` bytes (blanks after the query)."""
    head = json.dumps({"query": SIMPLE + " " * size})[: size - 2].encode()
    return head + b'"}'


async def test_a_body_within_the_limit_runs(api: Api, ledger: LedgerData):
    response = await post_raw(api, padded(LIMIT), await api.token())

    assert response.status_code == 200
    # Within the body limit but over the query's length limit: refused before lexing.
    assert "longer than 60000 characters" in graphql_shaped(response)


@pytest.mark.parametrize("size", [LIMIT + 1, 5 * 1024 * 1024])
async def test_an_oversized_body_is_413_and_charged_to_its_consent(
    api: Api, ledger: LedgerData, size: int
):
    token = await api.token()

    response = await post_raw(api, padded(size), token)

    assert response.status_code == 413
    assert "larger than 65536 bytes" in graphql_shaped(response)
    # Charged one token per KiB of the largest accepted body, 64.
    assert response.headers["X-RateLimit-Remaining"] == str(50_000 - 64)
    assert await api.audit_rows() == []  # a flood must not become one of audit rows


async def test_a_chunked_oversized_body_is_413(api: Api, ledger: LedgerData):
    async def chunks() -> Any:
        for _ in range(100):
            yield b" " * 1024

    response = await post_raw(api, chunks(), await api.token())

    assert response.status_code == 413
    graphql_shaped(response)


async def test_a_chunked_body_within_the_limit_runs(api: Api, ledger: LedgerData):
    async def chunks() -> Any:
        body = json.dumps({"query": SIMPLE}).encode()
        yield body[:10]
        yield body[10:]

    response = await post_raw(api, chunks(), await api.token())

    assert response.status_code == 200
    assert response.json()["data"]["viewer"]["customer"]["id"]


async def test_without_a_genuine_token_the_refusal_is_charged_to_the_address(
    app_api: AppApi, ledger: LedgerData
):
    api = await app_api(rate_failed_auth_per_ip_per_minute=2)
    forged = tamper(await api.token())
    for token in (None, forged):
        response = await post_raw(api, padded(LIMIT + 1), token)
        assert response.status_code == 413
        assert "X-RateLimit-Remaining" not in response.headers

    # The address's failed-authentication bucket is spent: the next failure is not audited.
    await api.post(SIMPLE, token=forged)
    assert await api.audit_rows() == []


class Recorder:
    """An ASGI receive that hands out a body in 1 KiB chunks and counts what it handed."""

    def __init__(self, size: int) -> None:
        self.left = size
        self.handed = 0

    async def __call__(self) -> Message:
        chunk = min(self.left, 1024)
        self.left -= chunk
        self.handed += chunk
        return {"type": "http.request", "body": b" " * chunk, "more_body": self.left > 0}


@pytest.mark.parametrize("declared", [True, False])
async def test_the_body_is_not_read_past_the_limit(declared: bool):
    reached: list[bool] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        reached.append(True)

    size = 10 * LIMIT
    limits = RequestLimits.from_settings(Settings(secret_key=SECRET))
    guarded = BodyLimit(app, max_bytes=LIMIT, limits=limits, keys=Keyring(SECRET))
    headers = [(b"content-length", str(size).encode())] if declared else []
    scope = {"type": "http", "method": "POST", "path": "/graphql", "headers": headers}
    receive, sent = Recorder(size), []

    async def send(message: Message) -> None:
        sent.append(message)

    await guarded(scope, receive, send)

    assert sent[0]["status"] == 413
    assert reached == []
    # Declared: not a byte read. Chunked: read only until it passed the limit.
    assert receive.handed == (0 if declared else LIMIT + 1024)


async def test_an_over_token_document_is_refused_and_charged(api: Api, ledger: LedgerData):
    token = await api.token()

    response = await api.post("{ " + "a " * 6_000 + "}", token=token)

    assert "more than 5000 tokens" in graphql_shaped(response)
    assert response.headers["X-RateLimit-Remaining"] == str(50_000 - 1)


@pytest.mark.parametrize("body", [b"{not json", b'{"query": 5}', b'{"variables": 5}'])
async def test_an_unreadable_request_is_graphql_shaped_and_charged(
    api: Api, ledger: LedgerData, body: bytes
):
    response = await post_raw(api, body, await api.token())

    assert response.status_code == 400
    graphql_shaped(response)
    assert response.headers["X-RateLimit-Remaining"] == str(50_000 - 1)


# -- depth ----------------------------------------------------------------------------------

# The deepest legitimate query (docs/api.md#limits): 9 levels, within the limit of 10.
DEEPEST = """
{ accounts { edges { node {
    statement(from: "2025-03-01", to: "2025-03-31") {
      transactions { edges { node { transfer { history { at } } } } } } } } } }
"""


async def test_the_deepest_legitimate_query_fits_and_one_more_level_does_not(
    api: Api, ledger: LedgerData
):
    body = await api.query(DEEPEST)
    assert "errors" not in body, body

    deeper = DEEPEST.replace("history { at }", "history { at } account { name { x } }")
    body = await api.query(deeper)
    assert codes(body) == ["BAD_USER_INPUT"]


async def test_the_default_depth_limit_is_at_most_10():
    assert Settings().max_query_depth <= 10


# -- every input a typed error ----------------------------------------------------------------


@pytest.mark.parametrize("body", [b'"str"', b"123", b"null", b"true", b"[]", b"[{}]"])
async def test_a_body_that_is_not_an_object_is_400(api: Api, ledger: LedgerData, body: bytes):
    response = await post_raw(api, body, await api.token())

    assert response.status_code == 400
    assert "must be a JSON object" in graphql_shaped(response)


TRANSACTIONS = "query($f: TransactionFilter) { transactions(filter: $f) { edges { node { id } } } }"
TRANSFERS = "query($f: TransferFilter) { transfers(filter: $f) { edges { node { id } } } }"
STATEMENT = """query($id: ID!, $from: Date!, $to: Date!) {
  statement(accountId: $id, from: $from, to: $to) { transactionCount } }"""

BAD_DATES = ["0000-01-01", "0001-01-01", "1899-12-31", "3000-01-01", "9999-12-31", "10000-01-01"]
BAD_DATES += ["99999999999-01-01", "2025-01-01\x00", "\ud800"]


def named_in(argument: str, message: str) -> bool:
    """Whether `message` names the argument: as ours do (`filter.from`), or as graphql-core
    does for a variable's value ("Variable '$f' has invalid value at .from")."""
    name, _, field = argument.rpartition(".")
    if f"`{argument}`" in message:
        return True
    variable = {"filter": "$f"}.get(name, f"${field}")
    return f"'{variable}'" in message and (not name or f"at .{field}" in message)


@pytest.mark.parametrize("day", BAD_DATES)
async def test_out_of_range_dates_are_bad_user_input(api: Api, ledger: LedgerData, day: str):
    account = to_global_id("Account", ledger.wallet.id)
    cases = [
        (TRANSACTIONS, {"f": {"from": day}}, "filter.from"),
        (TRANSACTIONS, {"f": {"to": day}}, "filter.to"),
        (TRANSFERS, {"f": {"from": day}}, "filter.from"),
        (STATEMENT, {"id": account, "from": day, "to": "2025-03-31"}, "from"),
        (STATEMENT, {"id": account, "from": "2025-03-01", "to": day}, "to"),
        (TRANSACTIONS, {"f": {"updatedSince": f"{day}T00:00:00+14:00"}}, "filter.updatedSince"),
        (TRANSACTIONS, {"f": {"updatedSince": f"{day}T23:59:59-12:00"}}, "filter.updatedSince"),
    ]
    for query, variables, named in cases:
        body = await post_json(api, {"query": query, "variables": variables})
        assert codes(body) == ["BAD_USER_INPUT"], (variables, body)
        assert named_in(named, body["errors"][0]["message"]), body


@pytest.mark.parametrize("day", ["1900-01-01", "2999-12-31"])
async def test_the_first_and_last_supported_days_are_accepted(
    api: Api, ledger: LedgerData, day: str
):
    body = await api.query(TRANSACTIONS, {"f": {"from": day, "updatedSince": f"{day}T00:00Z"}})
    assert "errors" not in body, body
    literal = f'{{ transactions(filter: {{to: "{day}"}}) {{ edges {{ node {{ id }} }} }} }}'
    assert "errors" not in await api.query(literal)


@pytest.mark.parametrize("field", ["maxAmount", "minAmount"])
@pytest.mark.parametrize("amount", [str(2**63), str(2**64), "9" * 40, "9223372036854776"])
async def test_amounts_beyond_64_bits_are_bad_user_input(
    api: Api, ledger: LedgerData, field: str, amount: str
):
    body = await api.query(TRANSACTIONS, {"f": {field: amount}})
    assert codes(body) == ["BAD_USER_INPUT"], body
    assert f"at .{field}" in body["errors"][0]["message"]

    literal = f'{{ transactions(filter: {{{field}: "{amount}"}}) {{ edges {{ node {{ id }} }} }} }}'
    assert codes(await api.query(literal)) == ["BAD_USER_INPUT"]


async def test_the_largest_amount_is_accepted(api: Api, ledger: LedgerData):
    body = await api.query(TRANSACTIONS, {"f": {"maxAmount": "9223372036854775.807"}})
    assert "errors" not in body, body


def text_cases(ledger: LedgerData) -> list[tuple[str, dict[str, Any], str]]:
    """Every kind of string argument, with the name the refusal must give."""
    account = to_global_id("Account", ledger.wallet.id)
    return [
        (TRANSACTIONS, {"f": {"search": "{}"}}, "filter.search"),
        (TRANSACTIONS, {"f": {"categories": ["groceries", "{}"]}}, "filter.categories"),
        (TRANSACTIONS, {"f": {"accountIds": ["{}"]}}, "filter.accountIds"),
        (TRANSFERS, {"f": {"corridor": "{}"}}, "filter.corridor"),
        ("query($id: ID!) { node(id: $id) { id } }", {"id": "{}"}, "id"),
        (STATEMENT, {"id": account + "{}", "from": "2025-03-01", "to": "2025-03-31"}, "accountId"),
    ]


@pytest.mark.parametrize("bad", ["\x00", "milk\x00%", "\ud800", "a\udfffb"])
async def test_unusable_text_is_bad_user_input_naming_the_argument(
    api: Api, ledger: LedgerData, bad: str
):
    for query, variables, named in text_cases(ledger):
        raw = json.dumps(variables).replace("{}", json.dumps(bad)[1:-1])
        body = await post_json(api, {"query": query, "variables": json.loads(raw)})
        assert codes(body) == ["BAD_USER_INPUT"], (raw, body)
        assert f"`{named}`" in body["errors"][0]["message"]


@pytest.mark.parametrize("escape", ["\\u0000", "x\\u0000y"])
async def test_unusable_text_in_a_literal_is_refused_too(api: Api, ledger: LedgerData, escape: str):
    query = f'{{ transactions(filter: {{search: "{escape}"}}) {{ edges {{ node {{ id }} }} }} }}'
    body = await api.query(query)
    assert codes(body) == ["BAD_USER_INPUT"]
    assert "`filter.search` must not contain a NUL character" in body["errors"][0]["message"]


async def test_a_lone_surrogate_anywhere_in_the_body_is_no_internal_error(
    api: Api, ledger: LedgerData
):
    token = await api.token()
    for text in (
        '{"query": "{ transactions(filter: {search: \\"\\ud800\\"}) { edges { node { id } } } }"}',
        '{"query": "{ viewer { customer { id } } }", "operationName": "\\ud800"}',
        '{"query": "{ viewer { customer { id } } } # \\ud800"}',
        '{"query": "query($x: Int) { viewer { customer { id } } }", "variables": {"x": "\\ud800"}}',
        '{"query": "{ viewer { customer { id } } }", "extensions": {"\\ud800": 1}}',
    ):
        response = await post_raw(api, text.encode(), token)
        assert response.status_code in (200, 400), text
        assert set(codes(response.json())) <= {"BAD_USER_INPUT"}, text
