"""No password, token, consent JWT or full card number in any error or log line."""

from __future__ import annotations

import logging

import httpx
import pytest

from connectors.errors import UpstreamError
from connectors.obp.auth import BearerAuth, ConsentAuth

ACCOUNTS = "/obp/v5.1.0/my/accounts"
PAN = "4028011234561234"


def assert_clean(text: str, secrets: tuple[str, ...]) -> None:
    for secret in secrets:
        assert secret not in text
    assert PAN not in text


def leaky_replies(creds) -> list[httpx.Response | Exception]:
    """Upstream answers that echo credentials back, as real servers sometimes do."""
    return [
        httpx.Response(
            401,
            json={
                "code": 401,
                "message": f"OBP-20003: DirectLogin token is invalid or expired: {creds.token}",
            },
        ),
        httpx.Response(
            400,
            json={
                "code": 400,
                "message": f'OBP-20002: bad header password="{creds.password}", '
                f'consumer_key="{creds.consumer_key}"',
            },
        ),
        httpx.Response(
            400, json={"code": 400, "message": f"OBP-30200: card {PAN} / 4028 0112 3456 1234"}
        ),
        httpx.Response(
            403, json={"code": 403, "message": f"OBP-35015: consent {creds.consent_jwt} mismatch"}
        ),
        httpx.Response(500, json={"code": 500, "message": f"Bearer {creds.token} rejected"}),
        httpx.ConnectError(f"proxy said: DirectLogin token={creds.token}"),
    ]


@pytest.mark.parametrize("index", range(6))
async def test_errors_and_logs_never_show_secrets(make_client, obp, creds, caplog, index):
    obp.route("GET", ACCOUNTS, leaky_replies(creds)[index])
    client = make_client(max_retries=1)

    with caplog.at_level(logging.DEBUG), pytest.raises(UpstreamError) as caught:
        await client.my_accounts()

    error = caught.value
    texts = [str(error), repr(error), error.message]
    if error.__cause__ is not None and isinstance(error.__cause__, UpstreamError):
        texts += [str(error.__cause__), repr(error.__cause__)]
    texts += [record.getMessage() for record in caplog.records]
    for text in texts:
        assert_clean(text, creds.all())


@pytest.mark.parametrize(
    "auth_kind", ["bearer", "consent-jwt", "consent-id"], ids=["bearer", "jwt", "id"]
)
async def test_other_credentials_are_redacted_too(make_client, obp, creds, caplog, auth_kind):
    secret = {"bearer": "opaque-oauth-token-1234", "consent-jwt": creds.consent_jwt}.get(
        auth_kind, "consent-id-5678"
    )
    auth = {
        "bearer": BearerAuth(secret),
        "consent-jwt": ConsentAuth(consumer_key=creds.consumer_key, jwt=secret),
        "consent-id": ConsentAuth(consumer_key=creds.consumer_key, consent_id=secret),
    }[auth_kind]
    obp.route("GET", ACCOUNTS, obp.error(400, f"OBP-35032: {secret} is not valid"))
    client = make_client(auth)

    with caplog.at_level(logging.DEBUG), pytest.raises(UpstreamError) as caught:
        await client.my_accounts()

    for text in (str(caught.value), repr(caught.value), *(r.getMessage() for r in caplog.records)):
        assert secret not in text
        assert creds.consumer_key not in text


async def test_a_jwt_learnt_from_a_consent_request_is_redacted(client, obp):
    opaque_jwt = "opaque-consent-credential-0001"
    obp.ok(
        "GET",
        "/obp/v5.1.0/consumer/consent-requests/r-1/consents",
        {"consent_id": "c-1", "jwt": opaque_jwt, "status": "ACCEPTED"},
    )
    obp.route("GET", ACCOUNTS, obp.error(400, f"OBP-35001: no consent {opaque_jwt}"))
    await client.consent_by_request("r-1")

    with pytest.raises(UpstreamError) as caught:
        await client.my_accounts()

    assert opaque_jwt not in str(caught.value)
