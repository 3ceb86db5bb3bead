"""Authentication headers, DirectLogin token reuse, one re-login on 401, consent requests."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from connectors.errors import (
    ConsentNotAnswered,
    ReauthRequired,
    UpstreamAuthError,
    UpstreamMalformed,
)
from connectors.obp.auth import ApplicationAuth, BearerAuth, ConsentAuth, DirectLogin
from connectors.obp.consent import AccountAccess, ConsentInfo, ConsentRequestInfo

BANKS = "/obp/v5.1.0/banks"
ACCOUNTS = "/obp/v5.1.0/my/accounts"


async def test_direct_login_sends_credentials_header_then_token(client, obp, creds):
    obp.ok("GET", ACCOUNTS, {"accounts": []})

    await client.my_accounts()

    login, call = obp.requests
    assert login.method == "POST"
    assert login.url.path == "/my/logins/direct"
    assert login.headers["DirectLogin"] == (
        f'username="{creds.username}", password="{creds.password}", '
        f'consumer_key="{creds.consumer_key}"'
    )
    assert login.headers["Content-Type"] == "application/json"
    assert call.headers["DirectLogin"] == f'token="{creds.token}"'
    assert "Authorization" not in call.headers


async def test_direct_login_token_is_reused(client, obp):
    obp.ok("GET", ACCOUNTS, {"accounts": []})

    await client.my_accounts()
    await client.my_accounts()
    await client.my_accounts()

    assert obp.logins == 1
    assert len(obp.to(ACCOUNTS)) == 3


async def test_concurrent_requests_share_one_login(client, obp):
    obp.ok("GET", ACCOUNTS, {"accounts": []})

    await asyncio.gather(*(client.my_accounts() for _ in range(5)))

    assert obp.logins == 1


async def test_a_given_token_skips_the_login(make_client, obp, creds):
    obp.ok("GET", ACCOUNTS, {"accounts": []})
    client = make_client(DirectLogin("u", "p", "k", token="existing-token"))

    await client.my_accounts()

    assert obp.logins == 0
    assert obp.requests[0].headers["DirectLogin"] == 'token="existing-token"'


def test_direct_login_refuses_parameters_that_would_break_the_header():
    with pytest.raises(ValueError, match="quotes, commas"):
        DirectLogin("u", 'pa"ss', "k").login_header()


async def test_bearer_header(make_client, obp):
    obp.ok("GET", ACCOUNTS, {"accounts": []})
    client = make_client(BearerAuth("oauth2-access-token"))

    await client.my_accounts()

    (call,) = obp.requests
    assert call.headers["Authorization"] == "Bearer oauth2-access-token"
    assert "DirectLogin" not in call.headers


async def test_consent_jwt_headers(make_client, obp, creds):
    obp.ok("GET", ACCOUNTS, {"accounts": []})
    client = make_client(ConsentAuth(consumer_key=creds.consumer_key, jwt=creds.consent_jwt))

    await client.my_accounts()

    (call,) = obp.requests
    assert call.headers["Consent-JWT"] == creds.consent_jwt
    assert call.headers["Consumer-Key"] == creds.consumer_key
    assert "Consent-Id" not in call.headers
    assert "DirectLogin" not in call.headers
    assert "Authorization" not in call.headers


async def test_consent_id_headers(make_client, obp, creds):
    obp.ok("GET", ACCOUNTS, {"accounts": []})
    client = make_client(ConsentAuth(consumer_key=creds.consumer_key, consent_id="c-42"))

    await client.my_accounts()

    (call,) = obp.requests
    assert call.headers["Consent-Id"] == "c-42"
    assert call.headers["Consumer-Key"] == creds.consumer_key
    assert "Consent-JWT" not in call.headers


@pytest.mark.parametrize("kwargs", [{}, {"jwt": "a.b.c", "consent_id": "c-1"}])
def test_consent_auth_needs_exactly_one_credential(kwargs):
    with pytest.raises(ValueError, match="exactly one"):
        ConsentAuth(consumer_key="k", **kwargs)


async def test_401_logs_in_again_once_and_retries(client, obp, creds):
    obp.route(
        "GET",
        ACCOUNTS,
        obp.error(401, f"OBP-20003: This DirectLogin token is invalid or expired: {creds.token}"),
        httpx.Response(200, json={"accounts": []}),
    )

    assert await client.my_accounts() == []

    assert obp.logins == 2
    first, second = obp.to(ACCOUNTS)
    assert first.headers["DirectLogin"] == f'token="{creds.token}"'
    assert second.headers["DirectLogin"] == f'token="{creds.token_2}"'


async def test_second_401_raises_reauth_required(client, obp, sleeps):
    obp.route("GET", ACCOUNTS, obp.error(401, "OBP-20001: User not logged in."))

    with pytest.raises(ReauthRequired) as caught:
        await client.my_accounts()

    assert obp.logins == 2
    assert len(obp.to(ACCOUNTS)) == 2
    assert caught.value.status == 401
    assert caught.value.code == "OBP-20001"
    assert isinstance(caught.value.__cause__, UpstreamAuthError)
    assert sleeps.calls == []


async def test_bad_credentials_at_login_raise_reauth_required(client, obp):
    obp.route("POST", "/my/logins/direct", obp.error(401, "OBP-20004: Invalid login credentials."))

    with pytest.raises(ReauthRequired) as caught:
        await client.banks()

    assert caught.value.code == "OBP-20004"
    assert len(obp.to("/my/logins/direct")) == 1
    assert obp.to(BANKS) == []


async def test_login_answer_without_token_is_malformed(client, obp):
    obp.route("POST", "/my/logins/direct", httpx.Response(201, json={"nope": 1}))

    with pytest.raises(UpstreamMalformed, match="no token"):
        await client.banks()


@pytest.mark.parametrize(
    "auth",
    [BearerAuth("oauth2-access-token"), ConsentAuth(consumer_key="ck", consent_id="c-1")],
    ids=["bearer", "consent"],
)
async def test_401_without_renewable_credentials_is_reauth_required_at_once(make_client, obp, auth):
    obp.route("GET", ACCOUNTS, obp.error(401, "OBP-35005: Consent-Id is not in status ACCEPTED."))
    client = make_client(auth)

    with pytest.raises(ReauthRequired):
        await client.my_accounts()

    assert len(obp.to(ACCOUNTS)) == 1


async def test_expired_consent_400_is_an_auth_error(make_client, obp):
    obp.route("GET", ACCOUNTS, obp.error(400, "OBP-35003: Consent-Id is expired."))
    client = make_client(ConsentAuth(consumer_key="ck", consent_id="c-1"))

    with pytest.raises(ReauthRequired) as caught:
        await client.my_accounts()

    assert caught.value.status == 400
    assert caught.value.code == "OBP-35003"


REQUESTS = "/obp/v5.1.0/consumer/consent-requests"


async def test_a_consent_request_is_made_with_the_consumer_key_alone(make_client, obp):
    obp.ok(
        "POST",
        REQUESTS,
        {"consent_request_id": "r-1", "payload": {}, "consumer_id": "cons-1"},
        status=201,
    )
    client = make_client(ApplicationAuth("ck-1"))

    made = await client.create_consent_request(
        "alif.tj",
        accounts=[AccountAccess("AccountNumber", "20218972399895048991")],
        time_to_live=3600,
        phone_number="+992932707411",
    )

    assert made == ConsentRequestInfo(consent_request_id="r-1", consumer_id="cons-1")
    (call,) = obp.requests  # no login of any user first
    assert call.headers["Consumer-Key"] == "ck-1"
    assert "DirectLogin" not in call.headers and "Authorization" not in call.headers
    assert json.loads(call.content) == {
        "everything": False,
        "bank_id": "alif.tj",
        "account_access": [
            {
                "account_routing": {"scheme": "AccountNumber", "address": "20218972399895048991"},
                "view_id": "owner",
            }
        ],
        "entitlements": [],
        "time_to_live": 3600,
        "phone_number": "+992932707411",
    }


async def test_a_consent_request_for_everything(make_client, obp):
    obp.ok("POST", REQUESTS, {"consent_request_id": "r-2", "payload": {}}, status=201)
    client = make_client(ApplicationAuth("ck-1"))

    made = await client.create_consent_request("alif.tj", everything=True, time_to_live=60)

    assert made.consumer_id is None
    body = json.loads(obp.requests[-1].content)
    assert body == {
        "everything": True,
        "bank_id": "alif.tj",
        "account_access": [],
        "entitlements": [],
        "time_to_live": 60,
    }


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"everything": True, "accounts": [AccountAccess("AccountId", "a")]}, "either accounts"),
        ({}, "either accounts"),
        ({"accounts": [AccountAccess("IBAN", "TJ00")]}, "routing scheme"),
        ({"everything": True, "time_to_live": 0}, "time_to_live"),
    ],
)
async def test_consent_requests_obp_would_reject_are_refused_before_sending(
    client, obp, kwargs, message
):
    with pytest.raises(ValueError, match=message):
        await client.create_consent_request("alif.tj", **{"time_to_live": 60, **kwargs})

    assert obp.requests == []


async def test_the_consent_of_a_request_is_fetched_and_its_jwt_kept_out_of_repr(
    make_client, obp, creds
):
    path = f"{REQUESTS}/r-1/consents"
    obp.ok("GET", path, {"consent_id": "c-1", "jwt": creds.consent_jwt, "status": "ACCEPTED"})
    client = make_client(ApplicationAuth("ck-1"))

    consent = await client.consent_by_request("r-1")

    assert consent == ConsentInfo(consent_id="c-1", status="ACCEPTED", jwt=creds.consent_jwt)
    assert creds.consent_jwt not in repr(consent)
    assert obp.to(path)[0].headers["Consumer-Key"] == "ck-1"


async def test_a_request_not_answered_yet_is_its_own_error_not_a_refused_key(make_client, obp):
    path = f"{REQUESTS}/r-1/consents"
    obp.route(
        "GET",
        path,
        obp.error(400, "OBP-35001: Consent not found by CONSENT_ID."),
        httpx.Response(200, json={"consent_id": "c-1", "jwt": None, "status": "INITIATED"}),
    )
    client = make_client(ApplicationAuth("ck-1"))

    with pytest.raises(ConsentNotAnswered) as caught:
        await client.consent_by_request("r-1")

    assert caught.value.code == "OBP-35001"
    assert len(obp.to(path)) == 1  # the customer must act: not retried
    # The key was not refused: the next call is sent.
    assert (await client.consent_by_request("r-1")).status == "INITIATED"


async def test_revoke_consent(client, obp):
    path = "/obp/v5.1.0/banks/alif.tj/consents/c-1"
    obp.ok("DELETE", path, {"consent_id": "c-1", "jwt": "a.b.c", "status": "REVOKED"})

    consent = await client.revoke_consent("alif.tj", "c-1")

    assert consent.status == "REVOKED"
    assert obp.to(path)[0].method == "DELETE"


async def test_revoke_current_consent_uses_the_consent_headers(make_client, obp):
    obp.ok(
        "DELETE",
        "/obp/v5.1.0/my/consent/current",
        {"consent_id": "c-1", "jwt": None, "status": "REVOKED"},
    )
    client = make_client(ConsentAuth(consumer_key="ck", consent_id="c-1"))

    consent = await client.revoke_current_consent()

    assert consent == ConsentInfo(consent_id="c-1", status="REVOKED")
    assert obp.requests[0].headers["Consent-Id"] == "c-1"


def test_auth_reprs_hide_secrets(creds):
    auths = [
        DirectLogin(creds.username, creds.password, creds.consumer_key, token=creds.token),
        BearerAuth(creds.token),
        ConsentAuth(consumer_key=creds.consumer_key, jwt=creds.consent_jwt),
        ApplicationAuth(creds.consumer_key),
    ]
    for auth in auths:
        for secret in creds.all():
            assert secret not in repr(auth)


# -- refused logins: OBP locks a user after a few failed logins, so never try twice ------


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (401, "OBP-20004: Invalid login credentials. Check username/password."),
        (401, "OBP-20013: The account has been locked, please contact an administrator!"),
        (400, "OBP-20004: Invalid login credentials. Check username/password."),
    ],
    ids=["bad-credentials", "locked", "400-bad-credentials"],
)
async def test_a_refused_login_is_reauth_required_at_once_and_never_tried_again(
    client, obp, sleeps, status, message
):
    obp.route("POST", "/my/logins/direct", obp.error(status, message))
    obp.ok("GET", ACCOUNTS, {"accounts": []})

    for _ in range(3):
        with pytest.raises(ReauthRequired) as caught:
            await client.my_accounts()
        assert caught.value.code == message[:9]

    assert len(obp.to("/my/logins/direct")) == 1
    assert obp.to(ACCOUNTS) == []
    assert sleeps.calls == []


async def test_concurrent_calls_share_one_refused_login(client, obp):
    obp.route("POST", "/my/logins/direct", obp.error(401, "OBP-20004: Invalid login."))

    results = await asyncio.gather(
        *(client.my_accounts() for _ in range(5)), return_exceptions=True
    )

    assert all(isinstance(r, ReauthRequired) for r in results)
    assert len(obp.to("/my/logins/direct")) == 1


async def test_a_refused_relogin_after_a_401_ends_the_credentials(client, obp, creds):
    obp.route(
        "POST",
        "/my/logins/direct",
        httpx.Response(201, json={"token": creds.token}),
        obp.error(401, "OBP-20013: The account has been locked."),
    )
    obp.route("GET", ACCOUNTS, obp.error(401, "OBP-20003: token expired"))

    with pytest.raises(ReauthRequired) as caught:
        await client.my_accounts()
    with pytest.raises(ReauthRequired):
        await client.banks()

    assert caught.value.code == "OBP-20013"
    assert len(obp.to("/my/logins/direct")) == 2
    assert len(obp.to(ACCOUNTS)) == 1
    assert obp.to(BANKS) == []


async def test_a_login_failing_for_a_transient_reason_is_not_a_refusal(client, obp, sleeps):
    obp.route(
        "POST",
        "/my/logins/direct",
        obp.error(503, "OBP-50000: Unknown Error."),
        httpx.Response(201, json={"token": "t-after-outage"}),
    )
    obp.ok("GET", ACCOUNTS, {"accounts": []})

    assert await client.my_accounts() == []

    assert len(obp.to("/my/logins/direct")) == 2
    assert len(sleeps.calls) == 1
