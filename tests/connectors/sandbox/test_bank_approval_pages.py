"""The bank's own approval pages over HTTP: login at the bank, review, approve or refuse,
the SMS code, and the redirect back to the application's registered callback."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import pytest

from connectors.sandbox import SandboxBank, SandboxConfig
from connectors.sandbox.app import create_app

from .sandbox_support import API, AS_OF, FakeClock
from .test_consent_requests import REQUESTS, ask, one_account

CALLBACK = "http://127.0.0.1:8765/callback"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(page: httpx.Response) -> str:
    found = _CSRF.search(page.text)
    assert found, page.text
    return found.group(1)


async def open_page(
    client: httpx.AsyncClient, request_id: str, redirect_uri: str = CALLBACK
) -> httpx.Response:
    query = urlencode(
        {"consent_request_id": request_id, "redirect_uri": redirect_uri, "state": "st-1"}
    )
    return await client.get(f"/bank/consent?{query}")


async def log_in(
    client: httpx.AsyncClient, page: httpx.Response, user: str = "dilnoza", password: str = ""
) -> httpx.Response:
    form = {"csrf_token": csrf_of(page), "username": user, "password": password or f"{user}-pass"}
    return await client.post("/bank/consent/login", data=form)


async def decide(client: httpx.AsyncClient, page: httpx.Response, decision: str) -> httpx.Response:
    form = {"csrf_token": csrf_of(page), "decision": decision}
    return await client.post("/bank/consent/decision", data=form)


async def enter_code(client: httpx.AsyncClient, page: httpx.Response, code: str) -> httpx.Response:
    return await client.post("/bank/consent/code", data={"csrf_token": csrf_of(page), "code": code})


def outcome(response: httpx.Response) -> dict[str, list[str]]:
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith(f"{CALLBACK}?")
    return parse_qs(urlsplit(location).query)


def last_consent(bank: SandboxBank, request_id: str) -> str:
    consent_id = bank.consent_request(request_id).consent_id
    assert consent_id is not None
    return consent_id


async def test_the_customer_approves_at_the_bank_and_the_consent_works(
    client: httpx.AsyncClient, bank: SandboxBank
) -> None:
    asked = bank.accounts_of("dilnoza")[0]
    request_id = await ask(client, bank, one_account(bank))

    login_page = await open_page(client, request_id)
    review = await log_in(client, login_page)
    code_page = await decide(client, review, "approve")
    sms = bank.consent(last_consent(bank, request_id)).sca_code  # type: ignore[union-attr]
    back = await enter_code(client, code_page, sms)

    assert login_page.status_code == 200
    assert 'id="password"' in login_page.text
    assert asked.label in review.text and asked.number[-4:] in review.text
    assert "until 2025-07-01 09:30 UTC" in review.text
    assert "SMS" in code_page.text
    assert outcome(back) == {
        "consent_request_id": [request_id],
        "status": ["ACCEPTED"],
        "state": ["st-1"],
    }
    app_key = {"Consumer-Key": bank.consumer_key}
    fetched = (await client.get(f"{REQUESTS}/{request_id}/consents", headers=app_key)).json()
    listed = await client.get(
        f"{API}/my/accounts", headers={"Consent-JWT": fetched["jwt"]} | app_key
    )
    assert [a["id"] for a in listed.json()["accounts"]] == [asked.id]


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "https://evil.example/callback",
        "http://127.0.0.1.evil.example:8765/callback",
        "http://127.0.0.1:8765/elsewhere",
        "https://127.0.0.1:8765/callback",
        "http://127.0.0.1:notaport/callback",
        "",
    ],
)
async def test_an_unregistered_return_address_is_never_followed(
    client: httpx.AsyncClient, bank: SandboxBank, redirect_uri: str
) -> None:
    request_id = await ask(client, bank, one_account(bank))

    page = await open_page(client, request_id, redirect_uri)

    assert page.status_code == 400
    assert "return address the bank does not know" in page.text
    assert "csrf_token" not in page.text


async def test_a_registered_address_with_its_own_query_keeps_it(clock: FakeClock) -> None:
    registered = "https://app.example/done?tenant=7"
    app = create_app(SandboxConfig(as_of=AS_OF, clock=clock, redirect_uris=(registered,)))
    bank: SandboxBank = app.state.bank
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
        request_id = await ask(client, bank, one_account(bank))
        review = await log_in(client, await open_page(client, request_id, registered))
        back = await decide(client, review, "refuse")

    assert back.headers["location"].startswith(f"{registered}&consent_request_id=")


async def test_an_unknown_request_is_explained(client: httpx.AsyncClient) -> None:
    page = await open_page(client, "no-such-request")

    assert page.status_code == 404
    assert "no such request" in page.text


async def test_a_wrong_password_is_told_and_the_customer_may_retry(
    client: httpx.AsyncClient, bank: SandboxBank
) -> None:
    request_id = await ask(client, bank, one_account(bank))
    page = await open_page(client, request_id)

    wrong = await log_in(client, page, password="guess")
    right = await log_in(client, wrong)

    assert wrong.status_code == 401
    assert "Wrong username or password." in wrong.text
    assert "guess" not in wrong.text
    assert right.status_code == 200
    assert 'id="approve"' in right.text


@pytest.mark.parametrize("token", ["", "forged"])
async def test_a_form_without_the_pages_csrf_token_is_refused(
    client: httpx.AsyncClient, bank: SandboxBank, token: str
) -> None:
    request_id = await ask(client, bank, one_account(bank))
    await open_page(client, request_id)

    forged = await client.post(
        "/bank/consent/login",
        data={"csrf_token": token, "username": "dilnoza", "password": "dilnoza-pass"},
    )

    assert forged.status_code == 403
    assert "expired" in forged.text
    assert 'id="approve"' not in forged.text


async def test_a_form_from_another_browser_is_refused(
    client: httpx.AsyncClient, bank: SandboxBank
) -> None:
    request_id = await ask(client, bank, one_account(bank))
    page = await open_page(client, request_id)
    client.cookies.clear()

    replayed = await log_in(client, page)

    assert replayed.status_code == 403


async def test_logging_in_issues_a_new_session(
    client: httpx.AsyncClient, bank: SandboxBank
) -> None:
    request_id = await ask(client, bank, one_account(bank))
    page = await open_page(client, request_id)
    before = client.cookies["alif_bank_session"]
    review = await log_in(client, page)
    after = client.cookies["alif_bank_session"]

    client.cookies.clear()
    client.cookies.set("alif_bank_session", before)
    stale = await decide(client, review, "approve")
    client.cookies.clear()
    client.cookies.set("alif_bank_session", after)
    fresh = await decide(client, review, "approve")

    assert after != before
    assert stale.status_code == 403
    assert fresh.status_code == 200 and 'id="code"' in fresh.text


async def test_the_pages_expire(
    client: httpx.AsyncClient, bank: SandboxBank, clock: FakeClock
) -> None:
    request_id = await ask(client, bank, one_account(bank))
    page = await open_page(client, request_id)
    clock.advance(11 * 60)

    late = await log_in(client, page)

    assert late.status_code == 403


async def test_refusing_sends_the_customer_back_and_the_consumer_sees_rejected(
    client: httpx.AsyncClient, bank: SandboxBank, caplog: pytest.LogCaptureFixture
) -> None:
    request_id = await ask(client, bank, one_account(bank))
    review = await log_in(client, await open_page(client, request_id))

    with caplog.at_level(logging.INFO, logger="alif_sandbox"):
        back = await decide(client, review, "refuse")
    fetched = await client.get(
        f"{REQUESTS}/{request_id}/consents", headers={"Consumer-Key": bank.consumer_key}
    )

    assert outcome(back)["status"] == ["REJECTED"]
    assert fetched.json()["status"] == "REJECTED"
    assert fetched.json()["jwt"] is None
    assert "SCA code" not in caplog.text


async def test_a_wrong_code_rejects_the_consent_and_says_so(
    client: httpx.AsyncClient, bank: SandboxBank
) -> None:
    request_id = await ask(client, bank, one_account(bank))
    review = await log_in(client, await open_page(client, request_id))
    code_page = await decide(client, review, "approve")
    sms = bank.consent(last_consent(bank, request_id)).sca_code  # type: ignore[union-attr]

    empty = await enter_code(client, code_page, "")
    wrong = await enter_code(client, empty, f"{(int(sms) + 1) % 10**6:06d}")

    assert empty.status_code == 400 and "Enter the code" in empty.text
    assert wrong.status_code == 400
    assert "That code is wrong" in wrong.text
    back = re.search(r'id="back" href="([^"]+)"', wrong.text)
    assert back is not None
    assert parse_qs(urlsplit(back.group(1).replace("&amp;", "&")).query)["status"] == ["REJECTED"]
    assert bank.consent(last_consent(bank, request_id)).status == "REJECTED"  # type: ignore[union-attr]


async def test_accounts_of_another_customer_cannot_be_granted(
    client: httpx.AsyncClient, bank: SandboxBank
) -> None:
    request_id = await ask(client, bank, one_account(bank, "dilnoza"))

    page = await log_in(client, await open_page(client, request_id), "behruz")

    assert page.status_code == 400
    assert "accounts that are not yours" in page.text
    assert 'id="approve"' not in page.text


async def test_an_answered_request_cannot_be_approved_again(
    client: httpx.AsyncClient, bank: SandboxBank
) -> None:
    request_id = await ask(client, bank, one_account(bank))
    review = await log_in(client, await open_page(client, request_id))
    await decide(client, review, "refuse")

    again = await open_page(client, request_id)

    assert again.status_code == 400
    assert "already answered" in again.text


async def test_pages_cannot_be_framed_or_cached(
    client: httpx.AsyncClient, bank: SandboxBank
) -> None:
    page = await open_page(client, await ask(client, bank, one_account(bank)))

    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"
    cookie = page.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie


async def test_the_password_is_never_logged_nor_stored(
    tmp_path: Path, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    state = tmp_path / "bank.sqlite"
    app = create_app(SandboxConfig(as_of=AS_OF, clock=clock, state_file=state))
    bank: SandboxBank = app.state.bank
    password = bank.customer("dilnoza").password
    transport = httpx.ASGITransport(app=app)
    with caplog.at_level(logging.DEBUG):
        async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
            request_id = await ask(client, bank, one_account(bank))
            page = await open_page(client, request_id)
            wrong = await log_in(client, page, password=password + "x")
            review = await log_in(client, wrong, password=password)
            code_page = await decide(client, review, "approve")
            sms = bank.consent(last_consent(bank, request_id)).sca_code  # type: ignore[union-attr]
            back = await enter_code(client, code_page, sms)

    assert outcome(back)["status"] == ["ACCEPTED"]
    assert password not in caplog.text
    assert password.encode() not in state.read_bytes()
