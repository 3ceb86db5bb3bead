# ruff: noqa: RUF001  (Tajik text)
"""GET /auth/authorize and the pages: validation, redirects, languages, headers, CSRF."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from graph.auth.consent.authorize import today
from graph.auth.consent.sms import DevelopmentSender
from graph.auth.runtime import AuthConfig
from graph.server.app import create_app
from graph.settings import Settings
from ledger.models import Consent

from .conftest import Harness
from .support import PHONE_A, Customers, Flow, Registered, graphql

# The harness serves the API at http://api.test; RFC 9207 names it in every answer.
ISSUER = "http://api.test"


def _query(response: httpx.Response) -> dict[str, list[str]]:
    return parse_qs(urlsplit(response.headers["location"]).query)


async def test_an_unknown_client_gets_an_error_page_and_no_redirect(
    harness: Harness, registered: Registered
) -> None:
    flow = Flow(harness.http, registered, harness.sender)
    response = await flow.start(client_id="app_nobody")
    assert response.status_code == 400
    assert "location" not in response.headers
    assert "не зарегистрированы" in response.text


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "https://evil.example/callback",
        "https://budget.example/callback/",
        "https://budget.example/callback?next=https://evil.example",
        "https://budget.example/callbackx",
    ],
)
async def test_an_unregistered_redirect_uri_is_never_redirected_to(
    harness: Harness, registered: Registered, redirect_uri: str
) -> None:
    flow = Flow(harness.http, registered, harness.sender)
    response = await flow.start(redirect_uri=redirect_uri)
    assert response.status_code == 400
    assert "location" not in response.headers


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge": "too-short"}, "invalid_request"),
        ({"scope": "accounts:read money:write"}, "invalid_scope"),
        ({"scope": ""}, "invalid_scope"),
    ],
)
async def test_bad_requests_of_a_known_client_go_back_with_an_rfc_error(
    harness: Harness, registered: Registered, overrides: dict[str, str], error: str
) -> None:
    flow = Flow(harness.http, registered, harness.sender)
    response = await flow.start(**overrides)
    assert response.status_code == 303
    assert response.headers["location"].startswith(registered.redirect_uri + "?")
    assert _query(response) == {"error": [error], "state": [flow.state], "iss": [ISSUER]}


async def test_a_repeated_parameter_is_an_invalid_request(
    harness: Harness, registered: Registered
) -> None:
    flow = Flow(harness.http, registered, harness.sender)
    params = [*flow.params().items(), ("scope", "cards:read")]
    response = await harness.http.get("/auth/authorize", params=params)
    assert response.status_code == 303
    assert _query(response)["error"] == ["invalid_request"]


async def test_pages_carry_the_security_headers_and_a_locked_down_cookie(
    harness: Harness, registered: Registered
) -> None:
    flow = Flow(harness.http, registered, harness.sender)
    started = await harness.http.get("/auth/authorize", params=flow.params())
    cookie = started.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/auth" in cookie
    assert "secure" not in cookie  # development runs on http://
    page = await harness.http.get("/auth/flow")
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["x-frame-options"] == "DENY"
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert "form-action 'self' https://budget.example" in csp
    assert "<script" not in page.text


async def test_production_cookies_are_secure(
    settings: Settings, engine: AsyncEngine, registered: Registered
) -> None:
    production = settings.model_copy(update={"env": "production"})
    app = create_app(production, engine=engine, auth=AuthConfig())
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="https://api.test"
    ) as http:
        flow = Flow(http, registered, DevelopmentSender(reveal_codes=False))
        response = await http.get("/auth/authorize", params=flow.params())
    assert "secure" in response.headers["set-cookie"].lower()


async def test_the_app_name_is_escaped(harness: Harness, registered: Registered) -> None:
    flow = Flow(harness.http, registered, harness.sender)
    await flow.start()
    assert "Budget &lt;b&gt;App&lt;/b&gt;" in flow.walker.page
    assert "<b>App</b>" not in flow.walker.page


async def test_the_language_follows_accept_language_and_the_switch_persists(
    harness: Harness, registered: Registered
) -> None:
    flow = Flow(harness.http, registered, harness.sender)
    harness.http.headers["Accept-Language"] = "tg-TJ,ru;q=0.8"
    await flow.start()
    assert "Ворид шудан бо рақами телефон" in flow.walker.page
    await flow.walker.get("/auth/flow", {"lang": "uz"})
    assert "Telefon raqami bilan kirish" in flow.walker.page
    await flow.phone("12345")
    assert "koʻrinishida kiriting" in flow.walker.page  # still Uzbek after a post
    await flow.walker.get("/auth/flow", {"lang": "en"})
    assert "Enter a number like" not in flow.walker.page  # a message shows once
    assert 'lang="en"' in flow.walker.page


@pytest.mark.parametrize("typed", ["+992 90 000-00-01", "992900000001", "90 000 00 01"])
async def test_phone_numbers_are_accepted_as_people_type_them(
    harness: Harness, registered: Registered, customers: Customers, typed: str
) -> None:
    flow = Flow(harness.http, registered, harness.sender)
    await flow.start()
    await flow.phone(typed)
    assert harness.sender.last_code(PHONE_A) is not None


async def test_a_post_without_the_csrf_token_is_refused(
    harness: Harness, registered: Registered
) -> None:
    flow = Flow(harness.http, registered, harness.sender)
    await flow.start()
    response = await harness.http.post("/auth/flow/phone", data={"phone": PHONE_A})
    assert response.status_code == 403
    response = await harness.http.post(
        "/auth/flow/phone", data={"phone": PHONE_A, "csrf": "forged"}
    )
    assert response.status_code == 403
    assert harness.sender.last_code(PHONE_A) is None


async def test_a_forged_flow_cookie_finds_no_flow(harness: Harness, registered: Registered) -> None:
    flow = Flow(harness.http, registered, harness.sender)
    await flow.start()
    value = harness.http.cookies["alif_flow"]
    harness.http.cookies.clear()
    harness.http.cookies.set("alif_flow", value[:-1] + ("0" if value[-1] != "0" else "1"))
    response = await harness.http.get("/auth/flow")
    assert response.status_code == 400


async def test_reject_redirects_with_access_denied_and_the_consent_is_rejected(
    harness: Harness, registered: Registered, customers: Customers
) -> None:
    flow = Flow(harness.http, registered, harness.sender)
    await flow.signed_in()
    response = await flow.walker.post("/auth/flow/decide", {"decision": "reject"})
    assert response.status_code == 303
    assert _query(response) == {"error": ["access_denied"], "state": [flow.state], "iss": [ISSUER]}
    async with harness.sessions() as session:
        status = (await session.execute(select(Consent.status))).scalar_one()
    assert status == "REJECTED"


async def test_approve_needs_an_account_of_the_customer(
    harness: Harness, registered: Registered, customers: Customers
) -> None:
    flow = Flow(harness.http, registered, harness.sender)
    await flow.signed_in()
    for chosen in ([], [str(customers.b[0])], [str(customers.a[0]), str(customers.b[0])]):
        response = await flow.walker.post(
            "/auth/flow/decide",
            {"decision": "approve", "accounts": chosen, "expires": flow.walker.default_expiry()},
        )
        assert response.status_code == 200
        assert "Выберите хотя бы один счёт" in flow.walker.page


@pytest.mark.parametrize("days", [0, 181])
async def test_approve_needs_an_expiry_within_180_days(
    harness: Harness, registered: Registered, customers: Customers, days: int
) -> None:
    flow = Flow(harness.http, registered, harness.sender)
    await flow.signed_in()
    expires = (today(harness.clock()) + timedelta(days=days)).isoformat()
    response = await flow.walker.post(
        "/auth/flow/decide",
        {"decision": "approve", "accounts": [str(customers.a[0])], "expires": expires},
    )
    assert response.status_code == 200
    assert "до 180 дней" in flow.walker.page


async def test_approve_stores_the_chosen_accounts_and_expiry(
    harness: Harness, registered: Registered, customers: Customers
) -> None:
    flow = Flow(harness.http, registered, harness.sender)
    await flow.signed_in()
    assert flow.walker.account_ids() == [str(a) for a in customers.a]  # B's are not offered
    assert "видеть остатки на ваших счетах" in flow.walker.page  # scopes in plain words
    back = await flow.approve(accounts=[str(customers.a[1])])
    token = (await flow.exchange(back["code"])).json()["access_token"]
    viewer = (await graphql(harness.http, token)).json()["data"]["viewer"]["consent"]
    assert viewer["status"] == "AUTHORISED"
    assert sorted(viewer["scopes"]) == ["accounts:read", "balances:read"]
    assert len(viewer["accountIds"]) == 1
    async with harness.sessions() as session:
        consent = (await session.execute(select(Consent))).scalar_one()
    days = (consent.expires_at - harness.clock()).days
    assert 89 <= days <= 90
    assert consent.sca_at is not None


async def test_a_decided_flow_is_over(
    harness: Harness, registered: Registered, customers: Customers
) -> None:
    flow = Flow(harness.http, registered, harness.sender)
    await flow.signed_in()
    await flow.approve()
    response = await harness.http.get("/auth/flow")
    assert response.status_code == 400
