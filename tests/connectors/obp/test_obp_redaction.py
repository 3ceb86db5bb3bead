"""No password, token, consent JWT or full card number in any error or log line."""

from __future__ import annotations

import logging

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.obp.auth import BearerAuth, ConsentAuth
from connectors.obp.errors import UpstreamError
from connectors.obp.masking import PanFormatError, excerpt, mask_account, mask_pan, redact

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


async def test_a_jwt_learnt_from_the_consent_flow_is_redacted(client, obp):
    opaque_jwt = "opaque-consent-credential-0001"
    obp.ok(
        "POST",
        "/obp/v5.1.0/banks/alif.tj/my/consents/IMPLICIT",
        {"consent_id": "c-1", "jwt": opaque_jwt, "status": "INITIATED"},
        status=201,
    )
    obp.route("GET", ACCOUNTS, obp.error(400, f"OBP-35001: no consent {opaque_jwt}"))
    await client.create_consent("alif.tj", "IMPLICIT", everything=True)

    with pytest.raises(UpstreamError) as caught:
        await client.my_accounts()

    assert opaque_jwt not in str(caught.value)


@pytest.mark.parametrize(
    ("pan", "masked"),
    [
        ("4028011234561234", "402801******1234"),
        ("4028 0112 3456 1234", "402801******1234"),
        ("5413-5252-0000-0042", "541352******0042"),
        ("9762001234567890123", "976200*********0123"),
        ("4111111111111", "*********1111"),  # 13 digits: last four only
        ("402801******1234", "402801******1234"),
        ("****1234", "****1234"),
        ("•••• •••• •••• 1234", "************1234"),
    ],
)
def test_mask_pan(pan, masked):
    assert mask_pan(pan) == masked


@pytest.mark.parametrize("bad", ["12345", "4028-abcd-1234-5678", "40280112345612345678901", ""])
def test_mask_pan_refuses_odd_values_without_echoing_them(bad):
    with pytest.raises(PanFormatError) as caught:
        mask_pan(bad)

    if bad:
        assert bad not in str(caught.value)


@given(st.text(alphabet="0123456789", min_size=12, max_size=19))
def test_a_masked_pan_never_shows_more_than_bin_and_last_four(pan):
    masked = mask_pan(pan)

    digits = sum(ch.isdigit() for ch in masked)
    assert digits <= 10
    assert digits <= len(pan) - 6
    assert masked.endswith(pan[-4:])
    assert len(masked) == len(pan)


def test_mask_account():
    assert mask_account("20202972100049668601") == "••••8601"
    assert mask_account("123") == "••••"


def test_redact_leaves_ordinary_text_and_account_numbers_alone():
    text = "OBP-30018: Bank Account 20202972100049668601 not found; amount -120.50 TJS"

    assert redact(text) == text


def test_redact_masks_credentials_jwts_and_card_numbers():
    text = (
        'DirectLogin username="farrukh", password="hunter22", consumer_key="ck-1" '
        "Bearer abc.def-ghi token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig card 4028011234561234"
    )

    redacted = redact(text, secrets=["farrukh-secret"])

    assert "hunter22" not in redacted
    assert "ck-1" not in redacted
    assert "abc.def-ghi" not in redacted
    assert "eyJhbGciOiJIUzI1NiJ9" not in redacted
    assert "4028011234561234" not in redacted
    assert "402801******1234" in redacted
    assert 'username="farrukh"' in redacted


def test_excerpt_is_short_and_redacted():
    raw = {"bank_card_number": PAN, "note": "x" * 1000}

    text = excerpt(raw)

    assert PAN not in text
    assert len(text) <= 240
