"""OBP's consent requests over HTTP: the consumer asks, the logged-in customer grants, the
consumer fetches the consent, and the consent opens exactly the accounts asked for."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.sandbox import SandboxBank, SandboxConfig
from connectors.sandbox.app import create_app

from .sandbox_support import API, AS_OF, BANK, Login, account_path, expect_error

REQUESTS = f"{API}/consumer/consent-requests"


def one_account(bank: SandboxBank, username: str = "dilnoza") -> dict[str, Any]:
    first = bank.accounts_of(username)[0]
    return {
        "everything": False,
        "account_access": [
            {
                "account_routing": {"scheme": "AccountNumber", "address": first.number},
                "view_id": "owner",
            }
        ],
        "entitlements": [],
        "time_to_live": 1800,
    }


async def ask(client: httpx.AsyncClient, bank: SandboxBank, body: dict[str, Any]) -> str:
    made = await client.post(REQUESTS, json=body, headers={"Consumer-Key": bank.consumer_key})
    assert made.status_code == 201, made.text
    return str(made.json()["consent_request_id"])


async def grant(
    client: httpx.AsyncClient, bank: SandboxBank, login: Login, request_id: str, user: str
) -> dict[str, Any]:
    """The customer grants the request and answers the SMS challenge."""
    auth = await login(user)
    made = await client.post(f"{REQUESTS}/{request_id}/SMS/consents", headers=auth)
    assert made.status_code == 201, made.text
    consent = made.json()
    code = (await client.get(f"/sandbox/admin/sca-codes/{consent['consent_id']}")).json()["code"]
    answered = await client.post(
        f"{API}/banks/{BANK}/consents/{consent['consent_id']}/challenge",
        json={"answer": code},
        headers=auth,
    )
    assert answered.json()["status"] == "ACCEPTED"
    return dict(consent)


async def test_a_consent_request_is_kept_as_asked(
    client: httpx.AsyncClient, bank: SandboxBank
) -> None:
    body = one_account(bank)
    made = await client.post(REQUESTS, json=body, headers={"Consumer-Key": bank.consumer_key})

    assert made.status_code == 201
    assert made.json() == {
        "consent_request_id": made.json()["consent_request_id"],
        "payload": body,
        "consumer_id": bank.consumer_id,
    }
    read = await client.get(
        f"{REQUESTS}/{made.json()['consent_request_id']}",
        headers={"Consumer-Key": bank.consumer_key},
    )
    assert read.json() == made.json()


@pytest.mark.parametrize("key", [None, "0" * 40])
async def test_only_the_registered_consumer_may_ask(
    client: httpx.AsyncClient, bank: SandboxBank, key: str | None
) -> None:
    headers = {"Consumer-Key": key} if key else {}
    request_id = await ask(client, bank, one_account(bank))

    made = await client.post(REQUESTS, json=one_account(bank), headers=headers)
    read = await client.get(f"{REQUESTS}/{request_id}/consents", headers=headers)

    expect_error(made, 401, "OBP-20008")
    expect_error(read, 401, "OBP-20008")


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"entitlements": [{"bank_id": BANK, "role_name": "CanGetAnyUser"}]}, "OBP-35013"),
        ({"time_to_live": 3601}, "OBP-35020"),
        ({"time_to_live": 0}, "OBP-10001"),
        ({"consumer_id": "someone-else"}, "OBP-35018"),
        ({"bank_id": "other.bank"}, "OBP-30001"),
        ({"everything": None}, "OBP-10001"),
        ({"account_access": []}, "OBP-10001"),
        ({"account_access": [{"view_id": "owner"}]}, "OBP-10001"),
        ({"valid_from": "tomorrow"}, "OBP-10001"),
    ],
)
async def test_a_request_the_bank_could_never_grant_is_refused_at_once(
    client: httpx.AsyncClient, bank: SandboxBank, change: dict[str, Any], code: str
) -> None:
    body = one_account(bank) | change
    made = await client.post(REQUESTS, json=body, headers={"Consumer-Key": bank.consumer_key})

    expect_error(made, 404 if code == "OBP-30001" else 400, code)


async def test_a_view_other_than_owner_is_refused(
    client: httpx.AsyncClient, bank: SandboxBank
) -> None:
    body = one_account(bank)
    body["account_access"][0]["view_id"] = "accountant"

    made = await client.post(REQUESTS, json=body, headers={"Consumer-Key": bank.consumer_key})

    expect_error(made, 400, "OBP-35014")


async def test_the_granted_consent_opens_only_the_accounts_asked_for(
    client: httpx.AsyncClient, bank: SandboxBank, login: Login
) -> None:
    asked, other = bank.accounts_of("dilnoza")[:2]
    request_id = await ask(client, bank, one_account(bank))
    app_key = {"Consumer-Key": bank.consumer_key}

    granted = await grant(client, bank, login, request_id, "dilnoza")
    fetched = (await client.get(f"{REQUESTS}/{request_id}/consents", headers=app_key)).json()

    assert fetched["status"] == "ACCEPTED"
    assert fetched["consent_request_id"] == request_id
    assert fetched["consent_id"] == granted["consent_id"]
    for header in ({"Consent-JWT": fetched["jwt"]}, {"Consent-Id": fetched["consent_id"]}):
        listed = await client.get(f"{API}/my/accounts", headers=header | app_key)
        assert [a["id"] for a in listed.json()["accounts"]] == [asked.id]
        outside = await client.get(
            f"{account_path(other.id)}/views/owner", headers=header | app_key
        )
        expect_error(outside, 404, "OBP-30018")
    consent = bank.consent(fetched["consent_id"])
    assert consent is not None
    assert consent.valid_from == consent.created_at
    assert (consent.expires_at - consent.created_at).total_seconds() == 1800


async def test_everything_covers_every_account_of_the_customer(
    client: httpx.AsyncClient, bank: SandboxBank, login: Login
) -> None:
    request_id = await ask(client, bank, {"everything": True, "account_access": []})

    await grant(client, bank, login, request_id, "behruz")
    fetched = await client.get(
        f"{REQUESTS}/{request_id}/consents", headers={"Consumer-Key": bank.consumer_key}
    )
    listed = await client.get(
        f"{API}/my/accounts",
        headers={"Consent-JWT": fetched.json()["jwt"], "Consumer-Key": bank.consumer_key},
    )

    assert {a["id"] for a in listed.json()["accounts"]} == {
        a.id for a in bank.accounts_of("behruz")
    }


async def test_the_consumer_sees_no_jwt_until_the_customer_accepted(
    client: httpx.AsyncClient, bank: SandboxBank, login: Login
) -> None:
    request_id = await ask(client, bank, one_account(bank))
    app_key = {"Consumer-Key": bank.consumer_key}
    before = await client.get(f"{REQUESTS}/{request_id}/consents", headers=app_key)
    made = await client.post(f"{REQUESTS}/{request_id}/SMS/consents", headers=await login())

    pending = await client.get(f"{REQUESTS}/{request_id}/consents", headers=app_key)

    expect_error(before, 400, "OBP-35001")
    assert made.json()["status"] == "INITIATED"
    assert pending.json()["status"] == "INITIATED"
    assert pending.json()["jwt"] is None


async def test_a_wrong_challenge_answer_rejects_the_consent(
    client: httpx.AsyncClient, bank: SandboxBank, login: Login
) -> None:
    request_id = await ask(client, bank, one_account(bank))
    auth = await login()
    made = (await client.post(f"{REQUESTS}/{request_id}/SMS/consents", headers=auth)).json()
    code = bank.consent(made["consent_id"]).sca_code  # type: ignore[union-attr]
    wrong = f"{(int(code) + 1) % 10**6:06d}"

    await client.post(
        f"{API}/banks/{BANK}/consents/{made['consent_id']}/challenge",
        json={"answer": wrong},
        headers=auth,
    )
    fetched = await client.get(
        f"{REQUESTS}/{request_id}/consents", headers={"Consumer-Key": bank.consumer_key}
    )

    assert fetched.json()["status"] == "REJECTED"
    assert fetched.json()["jwt"] is None


@pytest.mark.parametrize("method", ["SMS", "EMAIL", "IMPLICIT"])
async def test_every_obp_sca_method_starts_a_challenge(
    client: httpx.AsyncClient, bank: SandboxBank, login: Login, method: str
) -> None:
    request_id = await ask(client, bank, one_account(bank))

    made = await client.post(f"{REQUESTS}/{request_id}/{method}/consents", headers=await login())

    assert made.status_code == 201
    assert made.json()["status"] == "INITIATED"


async def test_an_unknown_sca_method_is_refused(
    client: httpx.AsyncClient, bank: SandboxBank, login: Login
) -> None:
    request_id = await ask(client, bank, one_account(bank))

    made = await client.post(f"{REQUESTS}/{request_id}/PUSH/consents", headers=await login())

    expect_error(made, 400, "OBP-35009")


async def test_granting_needs_the_customer_logged_in(
    client: httpx.AsyncClient, bank: SandboxBank, login: Login
) -> None:
    first = await ask(client, bank, one_account(bank))
    granted = await grant(client, bank, login, first, "dilnoza")
    second = await ask(client, bank, one_account(bank))
    consent_auth = {"Consent-JWT": granted["jwt"], "Consumer-Key": bank.consumer_key}

    anonymous = await client.post(f"{REQUESTS}/{second}/SMS/consents")
    by_consent = await client.post(f"{REQUESTS}/{second}/SMS/consents", headers=consent_auth)

    expect_error(anonymous, 401, "OBP-20001")
    expect_error(by_consent, 401, "OBP-20001")


async def test_a_request_yields_one_consent(
    client: httpx.AsyncClient, bank: SandboxBank, login: Login
) -> None:
    request_id = await ask(client, bank, one_account(bank))
    await grant(client, bank, login, request_id, "dilnoza")

    again = await client.post(f"{REQUESTS}/{request_id}/SMS/consents", headers=await login())

    expect_error(again, 400, "OBP-35029")


async def test_another_customer_cannot_grant_someone_elses_accounts(
    client: httpx.AsyncClient, bank: SandboxBank, login: Login
) -> None:
    request_id = await ask(client, bank, one_account(bank, "dilnoza"))

    made = await client.post(f"{REQUESTS}/{request_id}/SMS/consents", headers=await login("behruz"))

    expect_error(made, 400, "OBP-35014")
    assert bank.consent_request(request_id).consent_id is None


async def test_a_request_addressed_to_a_phone_is_granted_only_by_its_owner(
    client: httpx.AsyncClient, bank: SandboxBank, login: Login
) -> None:
    body = {
        "everything": True,
        "account_access": [],
        "phone_number": bank.customer("dilnoza").phone,
    }
    request_id = await ask(client, bank, body)

    wrong = await client.post(
        f"{REQUESTS}/{request_id}/SMS/consents", headers=await login("behruz")
    )
    right = await client.post(f"{REQUESTS}/{request_id}/SMS/consents", headers=await login())

    expect_error(wrong, 400, "OBP-35023")
    assert right.status_code == 201


async def test_an_unknown_request_is_reported_missing(
    client: httpx.AsyncClient, bank: SandboxBank
) -> None:
    read = await client.get(
        f"{REQUESTS}/9b2e8c1a-0000-4000-8000-000000000000",
        headers={"Consumer-Key": bank.consumer_key},
    )

    expect_error(read, 400, "OBP-35028")


async def test_a_restarted_bank_still_knows_its_consent_requests(tmp_path: Path) -> None:
    state = tmp_path / "bank.sqlite"

    def client_for() -> httpx.AsyncClient:
        app = create_app(SandboxConfig(seed=42, as_of=AS_OF, state_file=state))
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sandbox")

    async with client_for() as first:
        bank = first._transport.app.state.bank  # type: ignore[attr-defined]
        request_id = await ask(first, bank, one_account(bank))
        customer = bank.customer("dilnoza")
        consent = bank.consent_for_request(bank.consent_request(request_id), customer, "SMS")
        bank.answer_challenge(consent, consent.sca_code)
    async with client_for() as second:
        fetched = await second.get(
            f"{REQUESTS}/{request_id}/consents", headers={"Consumer-Key": bank.consumer_key}
        )
        listed = await second.get(
            f"{API}/my/accounts",
            headers={"Consent-JWT": fetched.json()["jwt"], "Consumer-Key": bank.consumer_key},
        )

    assert fetched.json()["status"] == "ACCEPTED"
    assert [a["id"] for a in listed.json()["accounts"]] == [bank.accounts_of("dilnoza")[0].id]
