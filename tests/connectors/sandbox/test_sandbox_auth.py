"""DirectLogin and OBP consents with SCA, as obp-protocol.md describes them."""

from __future__ import annotations

import base64
import logging
from datetime import timedelta
from typing import Any

import httpx
import jwt
import orjson
import pytest

from connectors.sandbox import SandboxBank

from ...tampering import tamper
from .sandbox_support import API, BANK, FakeClock, Login, account_path, expect_error

CONSENTS = f"{API}/banks/{BANK}/my/consents"
# A consent body for every account of the customer.
EVERYTHING: dict[str, Any] = {"everything": True, "views": [], "entitlements": []}


def _credentials(username: str, password: str, key: str) -> str:
    return f'username="{username}", password="{password}", consumer_key="{key}"'


async def test_direct_login_token_opens_the_api(
    client: httpx.AsyncClient, bank: SandboxBank
) -> None:
    response = await client.post(
        "/my/logins/direct",
        headers={"DirectLogin": _credentials("dilnoza", "dilnoza-pass", bank.consumer_key)},
    )

    assert response.status_code == 201
    token = response.json()["token"]
    me = await client.get(f"{API}/users/current", headers={"DirectLogin": f'token="{token}"'})
    assert me.status_code == 200
    assert me.json()["username"] == "dilnoza"


async def test_deprecated_authorization_header_still_works(
    client: httpx.AsyncClient, bank: SandboxBank
) -> None:
    credentials = _credentials("behruz", "behruz-pass", bank.consumer_key)
    response = await client.post(
        "/my/logins/direct", headers={"Authorization": f"DirectLogin {credentials}"}
    )
    token = response.json()["token"]

    me = await client.get(
        f"{API}/users/current", headers={"Authorization": f'DirectLogin token="{token}"'}
    )

    assert me.json()["username"] == "behruz"


async def test_tokens_are_random(login: Login) -> None:
    first, second = await login(), await login()

    assert first != second
    assert len(first["DirectLogin"]) > 40


@pytest.mark.parametrize(
    ("username", "password", "status", "code"),
    [
        ("dilnoza", "wrong", 401, "OBP-20004"),
        ("nobody", "nobody-pass", 401, "OBP-20004"),
    ],
)
async def test_bad_credentials(
    client: httpx.AsyncClient,
    bank: SandboxBank,
    username: str,
    password: str,
    status: int,
    code: str,
) -> None:
    response = await client.post(
        "/my/logins/direct",
        headers={"DirectLogin": _credentials(username, password, bank.consumer_key)},
    )

    expect_error(response, status, code)


async def test_unknown_consumer_key(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/my/logins/direct", headers={"DirectLogin": _credentials("dilnoza", "dilnoza-pass", "x")}
    )

    expect_error(response, 401, "OBP-20008")


async def test_missing_login_parameters(client: httpx.AsyncClient) -> None:
    response = await client.post("/my/logins/direct", headers={"DirectLogin": 'username="a"'})

    expect_error(response, 400, "OBP-20002")
    assert "password" in response.json()["message"]


async def test_no_authentication_is_20001_with_a_challenge(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{API}/my/accounts")

    expect_error(response, 401, "OBP-20001")
    assert "DirectLogin realm=" in response.headers["www-authenticate"]


async def test_unknown_token_is_20003(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{API}/my/accounts", headers={"DirectLogin": 'token="forged"'})

    expect_error(response, 401, "OBP-20003")


async def test_token_expires_after_four_weeks(
    client: httpx.AsyncClient, login: Login, clock: FakeClock
) -> None:
    headers = await login()
    clock.advance(4 * 7 * 24 * 3600)

    response = await client.get(f"{API}/my/accounts", headers=headers)

    expect_error(response, 401, "OBP-20003")


async def test_banks_and_root_need_no_authentication(client: httpx.AsyncClient) -> None:
    banks = await client.get(f"{API}/banks")
    one = await client.get(f"{API}/banks/{BANK}")
    root = await client.get(f"{API}/root")
    missing = await client.get(f"{API}/banks/no.such.bank")

    assert banks.json()["banks"][0]["id"] == BANK
    assert {"scheme": "BIC", "address": "ALIFTJ22"} in one.json()["bank_routings"]
    assert root.json()["version"] == "v5.1.0"
    expect_error(missing, 404, "OBP-30001")


# --- consents -------------------------------------------------------------------------------


async def _consent(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    body: dict[str, Any],
    method: str = "SMS",
) -> httpx.Response:
    return await client.post(f"{CONSENTS}/{method}", headers=headers, json=body)


def _views(*account_ids: str) -> list[dict[str, str]]:
    return [{"bank_id": BANK, "account_id": a, "view_id": "owner"} for a in account_ids]


async def _accepted_consent(
    client: httpx.AsyncClient, headers: dict[str, str], body: dict[str, Any]
) -> dict[str, Any]:
    created = (await _consent(client, headers, body)).json()
    code = (await client.get(f"/sandbox/admin/sca-codes/{created['consent_id']}")).json()["code"]
    answered = await client.post(
        f"{API}/banks/{BANK}/consents/{created['consent_id']}/challenge",
        headers=headers,
        json={"answer": code},
    )
    assert answered.status_code == 201
    consent: dict[str, Any] = answered.json()
    assert consent["status"] == "ACCEPTED"
    return consent


async def test_consent_with_sca_grants_exactly_its_views(
    client: httpx.AsyncClient, login: Login, bank: SandboxBank
) -> None:
    headers = await login()
    wallet, card = bank.accounts_of("dilnoza")

    created = await _consent(client, headers, {"views": _views(card.id), "entitlements": []})
    assert created.status_code == 201
    assert created.json()["status"] == "INITIATED"
    consent = await _accepted_consent(
        client, headers, {"views": _views(card.id), "entitlements": []}
    )
    by_jwt = {"Consent-JWT": consent["jwt"], "Consumer-Key": bank.consumer_key}
    by_id = {"Consent-Id": consent["consent_id"], "Consumer-Key": bank.consumer_key}

    accounts = await client.get(f"{API}/my/accounts", headers=by_jwt)
    assert [a["id"] for a in accounts.json()["accounts"]] == [card.id]
    ok = await client.get(f"{account_path(card.id)}/owner/transactions", headers=by_id)
    assert ok.status_code == 200
    hidden = await client.get(f"{account_path(wallet.id)}/views/owner", headers=by_jwt)
    expect_error(hidden, 404, "OBP-30018")


async def test_sca_code_is_logged(
    client: httpx.AsyncClient, login: Login, caplog: pytest.LogCaptureFixture
) -> None:
    headers = await login()

    with caplog.at_level(logging.INFO, logger="alif_sandbox"):
        created = await _consent(client, headers, EVERYTHING)

    code = (await client.get(f"/sandbox/admin/sca-codes/{created.json()['consent_id']}")).json()
    assert f"SCA code for consent {created.json()['consent_id']}: {code['code']}" in caplog.text
    assert len(code["code"]) == 6 and code["code"].isdigit()


async def test_consent_jwt_claims(
    client: httpx.AsyncClient, login: Login, bank: SandboxBank
) -> None:
    headers = await login()
    card = bank.accounts_of("dilnoza")[1]

    created = await _consent(
        client, headers, {"views": _views(card.id), "entitlements": [], "time_to_live": 600}
    )

    header, payload, signature = created.json()["jwt"].split(".")
    claims = orjson.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    assert (
        orjson.loads(base64.urlsafe_b64decode(header + "==="[: -len(header) % 4]))["alg"] == "HS256"
    )
    assert claims["jti"] == created.json()["consent_id"]
    assert claims["sub"] == bank.customer("dilnoza").user_id
    assert claims["aud"] == bank.consumer_id
    assert claims["exp"] - claims["nbf"] == 600
    assert {"iss", "iat"} <= set(claims)
    assert claims["views"] == _views(card.id)
    assert signature


async def test_wrong_answer_rejects_the_consent(
    client: httpx.AsyncClient, login: Login, bank: SandboxBank
) -> None:
    headers = await login()
    created = (await _consent(client, headers, EVERYTHING)).json()

    answered = await client.post(
        f"{API}/banks/{BANK}/consents/{created['consent_id']}/challenge",
        headers=headers,
        json={"answer": "not-the-code"},
    )
    used = await client.get(
        f"{API}/my/accounts",
        headers={"Consent-Id": created["consent_id"], "Consumer-Key": bank.consumer_key},
    )

    assert answered.status_code == 201
    assert answered.json()["status"] == "REJECTED"
    expect_error(used, 401, "OBP-35005")


async def test_unaccepted_consent_cannot_be_used(
    client: httpx.AsyncClient, login: Login, bank: SandboxBank
) -> None:
    headers = await login()
    created = (await _consent(client, headers, EVERYTHING)).json()

    response = await client.get(
        f"{API}/my/accounts",
        headers={"Consent-JWT": created["jwt"], "Consumer-Key": bank.consumer_key},
    )

    expect_error(response, 401, "OBP-35005")


async def test_consent_needs_the_right_consumer_key(
    client: httpx.AsyncClient, login: Login
) -> None:
    headers = await login()
    consent = await _accepted_consent(client, headers, EVERYTHING)

    missing = await client.get(f"{API}/my/accounts", headers={"Consent-JWT": consent["jwt"]})
    wrong = await client.get(
        f"{API}/my/accounts", headers={"Consent-JWT": consent["jwt"], "Consumer-Key": "other"}
    )

    expect_error(missing, 400, "OBP-35016")
    expect_error(wrong, 400, "OBP-35015")


async def test_consent_expires(
    client: httpx.AsyncClient, login: Login, bank: SandboxBank, clock: FakeClock
) -> None:
    headers = await login()
    body = {**EVERYTHING, "time_to_live": 60}
    consent = await _accepted_consent(client, headers, body)
    clock.advance(61)

    response = await client.get(
        f"{API}/my/accounts",
        headers={"Consent-JWT": consent["jwt"], "Consumer-Key": bank.consumer_key},
    )

    expect_error(response, 401, "OBP-35003")


async def test_an_expired_consent_answers_expired_even_once_revoked(
    client: httpx.AsyncClient, login: Login, bank: SandboxBank, clock: FakeClock
) -> None:
    """OBP-API checks the validity window before the status: OBP-35003, not OBP-35005."""
    headers = await login()
    consent = await _accepted_consent(client, headers, {**EVERYTHING, "time_to_live": 60})
    revoked = bank.consent(consent["consent_id"])
    assert revoked is not None
    bank.revoke_consent(revoked)
    clock.advance(61)

    response = await client.get(
        f"{API}/my/accounts",
        headers={"Consent-JWT": consent["jwt"], "Consumer-Key": bank.consumer_key},
    )

    expect_error(response, 401, "OBP-35003")


async def test_consent_not_yet_valid(
    client: httpx.AsyncClient, login: Login, bank: SandboxBank, clock: FakeClock
) -> None:
    headers = await login()
    start = (clock.now + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = {**EVERYTHING, "valid_from": start}
    consent = await _accepted_consent(client, headers, body)
    by_jwt = {"Consent-JWT": consent["jwt"], "Consumer-Key": bank.consumer_key}

    early = await client.get(f"{API}/my/accounts", headers=by_jwt)
    clock.advance(3601)
    on_time = await client.get(f"{API}/my/accounts", headers=by_jwt)

    expect_error(early, 400, "OBP-35002")
    assert on_time.status_code == 200


@pytest.mark.parametrize(
    ("method", "body", "code"),
    [
        ("SMSX", EVERYTHING, "OBP-35009"),
        (
            "EMAIL",
            {**EVERYTHING, "time_to_live": 3601},
            "OBP-35020",
        ),
        (
            "SMS",
            {"everything": True, "views": [], "entitlements": [{"role_name": "CanX"}]},
            "OBP-35013",
        ),
        ("IMPLICIT", {"everything": False, "entitlements": []}, "OBP-10001"),
    ],
)
async def test_consent_creation_errors(
    client: httpx.AsyncClient, login: Login, method: str, body: dict[str, Any], code: str
) -> None:
    headers = await login()

    response = await _consent(client, headers, body, method)

    expect_error(response, 400, code)


async def test_consent_cannot_name_another_users_account(
    client: httpx.AsyncClient, login: Login, bank: SandboxBank
) -> None:
    headers = await login()
    foreign = bank.accounts_of("farrukh")[0]

    response = await _consent(client, headers, {"views": _views(foreign.id), "entitlements": []})

    expect_error(response, 400, "OBP-35014")


async def test_consent_header_errors(
    client: httpx.AsyncClient, login: Login, bank: SandboxBank
) -> None:
    headers = await login()
    consent = await _accepted_consent(client, headers, EVERYTHING)
    tampered = tamper(consent["jwt"])
    key = {"Consumer-Key": bank.consumer_key}

    unknown = await client.get(
        f"{API}/my/accounts", headers={**key, "Consent-Id": "0f8fad5b-d9cb-469f-a165-70867728950e"}
    )
    garbage = await client.get(f"{API}/my/accounts", headers={**key, "Consent-JWT": "garbage"})
    forged = await client.get(f"{API}/my/accounts", headers={**key, "Consent-JWT": tampered})
    claims = jwt.decode(consent["jwt"], options={"verify_signature": False})
    # the same claims under another secret, another algorithm, and no signature at all
    resigned = jwt.encode(claims, "another-secret-another-secret-123", algorithm="HS256")
    hs512 = jwt.encode(claims, "another-secret-" * 5, algorithm="HS512")
    unsigned = jwt.encode(claims, None, algorithm="none")
    answers = {
        name: await client.get(f"{API}/my/accounts", headers={**key, "Consent-JWT": token})
        for name, token in [("resigned", resigned), ("hs512", hs512), ("unsigned", unsigned)]
    }

    expect_error(unknown, 400, "OBP-35001")
    expect_error(garbage, 400, "OBP-35032")
    expect_error(forged, 400, "OBP-35004")
    expect_error(answers["resigned"], 400, "OBP-35004")
    expect_error(answers["hs512"], 400, "OBP-35032")
    expect_error(answers["unsigned"], 400, "OBP-35032")


async def test_revoke_current_consent_then_again(
    client: httpx.AsyncClient, login: Login, bank: SandboxBank
) -> None:
    headers = await login()
    consent = await _accepted_consent(client, headers, EVERYTHING)
    by_id = {"Consent-Id": consent["consent_id"], "Consumer-Key": bank.consumer_key}

    revoked = await client.delete(f"{API}/my/consent/current", headers=by_id)
    used = await client.get(f"{API}/my/accounts", headers=by_id)
    again = await client.delete(f"{API}/my/consent/current", headers=by_id)

    assert revoked.status_code == 200
    assert revoked.json()["status"] == "REVOKED"
    expect_error(used, 401, "OBP-35005")
    expect_error(again, 400, "OBP-35012")


async def test_revoke_current_consent_needs_the_header(
    client: httpx.AsyncClient, login: Login
) -> None:
    response = await client.delete(f"{API}/my/consent/current", headers=await login())

    expect_error(response, 400, "OBP-35008")


async def test_owner_revokes_consent_at_bank(client: httpx.AsyncClient, login: Login) -> None:
    owner, stranger = await login(), await login("farrukh")
    consent = await _accepted_consent(client, owner, EVERYTHING)
    path = f"{API}/banks/{BANK}/consents/{consent['consent_id']}"

    by_stranger = await client.delete(path, headers=stranger)
    by_owner = await client.delete(path, headers=owner)
    twice = await client.delete(path, headers=owner)

    expect_error(by_stranger, 400, "OBP-35001")
    assert by_owner.json()["status"] == "REVOKED"
    expect_error(twice, 400, "OBP-35012")


async def test_everything_consent_sees_all_accounts_and_lists(
    client: httpx.AsyncClient, login: Login, bank: SandboxBank
) -> None:
    headers = await login()
    consent = await _accepted_consent(client, headers, EVERYTHING)
    by_jwt = {"Consent-JWT": consent["jwt"], "Consumer-Key": bank.consumer_key}

    accounts = await client.get(f"{API}/my/accounts", headers=by_jwt)
    listed = await client.get(CONSENTS, headers=headers)

    assert {a["id"] for a in accounts.json()["accounts"]} == {
        a.id for a in bank.accounts_of("dilnoza")
    }
    items = listed.json()["consents"]
    assert [c["consent_id"] for c in items] == [consent["consent_id"]]
    assert items[0]["status"] == "ACCEPTED"
    assert items[0]["api_standard"] == "obp"
