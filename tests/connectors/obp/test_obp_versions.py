"""The API version is found once per client: v5.1.0, else v5.0.0; logins stay where they are."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest

from connectors.errors import UpstreamNotFound, UpstreamUnavailable

NOT_FOUND = httpx.Response(404, json={"code": 404, "message": "OBP-10404: 404 Not Found."})


def only_v5_0_0(obp) -> None:
    obp.route("GET", "/obp/v5.1.0/root", NOT_FOUND)
    obp.ok("GET", "/obp/v5.0.0/root", {"version": "v5.0.0", "version_status": "STABLE"})


@pytest.mark.parametrize(
    ("call", "path"),
    [
        (lambda c: c.my_accounts(), "/my/accounts"),
        (lambda c: c.banks(), "/banks"),
        (lambda c: c.bank_balances("alif.tj"), "/banks/alif.tj/balances"),
        (lambda c: c.cards(), "/cards"),
    ],
)
async def test_a_bank_serving_only_v5_0_0_is_read_there(client, obp, call, path):
    only_v5_0_0(obp)
    key = path.rsplit("/", 1)[-1]
    obp.ok("GET", f"/obp/v5.0.0{path}", {"accounts" if key == "balances" else key: []})

    assert await call(client) == []

    assert [r.url.path for r in obp.roots] == ["/obp/v5.1.0/root", "/obp/v5.0.0/root"]
    assert [r.url.path for r in obp.requests] == ["/my/logins/direct", f"/obp/v5.0.0{path}"]


async def test_the_version_is_asked_once_per_client(make_client, obp):
    only_v5_0_0(obp)
    obp.ok("GET", "/obp/v5.0.0/my/accounts", {"accounts": []})
    client = make_client()

    await asyncio.gather(*(client.my_accounts() for _ in range(4)))
    await client.my_accounts()
    await make_client().my_accounts()

    assert len(obp.roots) == 2 + 2  # each client: v5.1.0 (404), then v5.0.0


async def test_v5_1_0_is_preferred_when_both_answer(client, obp):
    obp.ok("GET", "/obp/v5.0.0/root", {"version": "v5.0.0"})
    obp.ok("GET", "/obp/v5.1.0/my/accounts", {"accounts": []})

    await client.my_accounts()

    assert [r.url.path for r in obp.roots] == ["/obp/v5.1.0/root"]
    assert await client.api_prefix() == "/obp/v5.1.0"


async def test_a_server_with_neither_version_is_not_found(client, obp):
    obp.route("GET", "/obp/v5.1.0/root", NOT_FOUND)

    with pytest.raises(UpstreamNotFound, match=re.escape("v5.1.0, v5.0.0")):
        await client.my_accounts()

    assert obp.requests == []  # no login for a server that cannot be read


async def test_a_failing_root_is_retried_not_taken_for_absence(client, obp, sleeps):
    obp.route(
        "GET",
        "/obp/v5.1.0/root",
        httpx.Response(503, json={"code": 503, "message": "OBP-50000: Unknown Error."}),
        httpx.Response(200, json={"version": "v5.1.0"}),
    )
    obp.ok("GET", "/obp/v5.1.0/my/accounts", {"accounts": []})

    await client.my_accounts()

    assert [r.url.path for r in obp.roots] == ["/obp/v5.1.0/root"] * 2
    assert len(sleeps.calls) == 1


async def test_a_root_that_stays_down_is_an_error_not_a_fallback(make_client, obp):
    obp.route(
        "GET",
        "/obp/v5.1.0/root",
        httpx.Response(503, json={"code": 503, "message": "OBP-50000: Unknown Error."}),
    )

    with pytest.raises(UpstreamUnavailable):
        await make_client(max_retries=0).my_accounts()

    assert [r.url.path for r in obp.roots] == ["/obp/v5.1.0/root"]


async def test_root_is_asked_without_credentials(client, obp, creds):
    obp.ok("GET", "/obp/v5.1.0/my/accounts", {"accounts": []})

    await client.my_accounts()

    (root,) = obp.roots
    assert "DirectLogin" not in root.headers and "Authorization" not in root.headers
