"""Each upstream failure becomes one typed error with status, OBP code and request id."""

from __future__ import annotations

import httpx
import pytest

from connectors.errors import (
    BankConsentExpired,
    BankConsentRevoked,
    ReauthRequired,
    RedactedCause,
    UpstreamAuthError,
    UpstreamBadRequest,
    UpstreamError,
    UpstreamForbidden,
    UpstreamMalformed,
    UpstreamNotFound,
    UpstreamRateLimited,
    UpstreamUnavailable,
)
from connectors.obp.error_codes import error_class, parse_obp_code

ACCOUNTS = "/obp/v5.1.0/my/accounts"


@pytest.mark.parametrize(
    ("status", "message", "expected", "code", "retry"),
    [
        (403, "OBP-20017: Current user does not have access to the view.", UpstreamForbidden,
         "OBP-20017", False),
        (404, "OBP-30018: Bank Account not found. Please specify valid values for BANK_ID.",
         UpstreamNotFound, "OBP-30018", False),
        (400, "OBP-30067: Transaction not found.", UpstreamNotFound, "OBP-30067", False),
        (400, "OBP-30022: The current view does not have the permission: balance",
         UpstreamForbidden, "OBP-30022", False),
        (400, "OBP-10026: Failed to parse date string. Please use this format "
         "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'!", UpstreamBadRequest, "OBP-10026", False),
        (422, "OBP-10001: Incorrect json format.", UpstreamBadRequest, "OBP-10001", False),
        (409, "OBP-30250: Conflict.", UpstreamUnavailable, "OBP-30250", True),
        (500, "OBP-50000: Unknown Error.", UpstreamUnavailable, "OBP-50000", True),
        (502, "OBP-50200: Connector error.", UpstreamUnavailable, "OBP-50200", True),
        (429, "OBP-10018: Too Many Requests. We only allow 3 requests per minute for this "
         "Consumer.", UpstreamRateLimited, "OBP-10018", True),
    ],
)  # fmt: skip
async def test_status_maps_to_typed_error(make_client, obp, status, message, expected, code, retry):
    obp.route("GET", ACCOUNTS, obp.error(status, message, **{"Correlation-Id": "corr-77"}))
    client = make_client(max_retries=0)

    with pytest.raises(expected) as caught:
        await client.my_accounts()

    error = caught.value
    assert type(error) is expected
    assert error.status == status
    assert error.code == code
    assert error.message == message
    assert error.request_id == "corr-77"
    assert error.endpoint == f"GET {ACCOUNTS}"
    assert error.should_retry is retry
    assert f"HTTP {status}" in str(error)
    assert message in str(error)


async def test_error_without_envelope_keeps_status_and_our_request_id(make_client, obp):
    obp.route("GET", ACCOUNTS, httpx.Response(503, text="<html>Service Unavailable</html>"))
    client = make_client(max_retries=0)

    with pytest.raises(UpstreamUnavailable) as caught:
        await client.my_accounts()

    error = caught.value
    assert error.status == 503
    assert error.code is None
    assert error.message == "Service Unavailable"
    assert error.request_id == obp.to(ACCOUNTS)[0].headers["X-Request-ID"]


@pytest.mark.parametrize(
    "exc",
    [
        httpx.ConnectError("connection refused"),
        httpx.ReadTimeout("timed out"),
        httpx.RemoteProtocolError("peer closed connection"),
    ],
    ids=["connect", "read-timeout", "protocol"],
)
async def test_transport_failure_is_unavailable_and_chained(make_client, obp, exc):
    obp.route("GET", ACCOUNTS, exc)
    client = make_client(max_retries=0)

    with pytest.raises(UpstreamUnavailable) as caught:
        await client.my_accounts()

    error = caught.value
    assert error.status is None
    assert error.should_retry is True
    # Chained as its kind and redacted text only: the httpx error itself holds the request.
    assert isinstance(error.__cause__, RedactedCause)
    assert error.__cause__.kind is type(exc) and str(exc) in str(error.__cause__)
    assert error.__cause__.__cause__ is None and error.__cause__.__context__ is None
    assert type(exc).__name__ in error.message
    assert "no response" in str(error)


@pytest.mark.parametrize(
    "reply",
    [
        httpx.Response(200, text='{"accounts": [{"id": "a1"'),  # truncated page
        httpx.Response(200, text="<html>maintenance</html>"),
        httpx.Response(200, text='{"accounts": NaN}'),  # no list left to quarantine in
        httpx.Response(200, json={"accounts": "none"}),
        httpx.Response(200, json=[{"id": "a1"}]),
        httpx.Response(204),
    ],
    ids=["truncated", "html", "nan", "wrong-type", "no-envelope", "empty"],
)
async def test_bad_2xx_body_is_malformed(make_client, obp, reply):
    obp.route("GET", ACCOUNTS, reply)
    client = make_client(max_retries=0)

    with pytest.raises(UpstreamMalformed) as caught:
        await client.my_accounts()

    assert caught.value.status == reply.status_code
    assert caught.value.should_retry is True


async def test_json_decode_failure_is_chained(make_client, obp):
    obp.route("GET", ACCOUNTS, httpx.Response(200, text="{"))
    client = make_client(max_retries=0)

    with pytest.raises(UpstreamMalformed) as caught:
        await client.my_accounts()

    cause = caught.value.__cause__
    assert isinstance(cause, RedactedCause) and issubclass(cause.kind, ValueError)


async def test_amounts_in_bodies_never_become_floats(client, obp):
    obp.ok("GET", ACCOUNTS, {"accounts": [{"id": "a", "rate": 0.1}]})

    (account,) = await client.my_accounts()

    assert not isinstance(account["rate"], float)
    assert str(account["rate"]) == "0.1"


async def test_timeout_is_explicit_and_sent_with_every_request(make_client, obp):
    obp.ok("GET", ACCOUNTS, {"accounts": []})
    client = make_client(timeout=httpx.Timeout(3.0, connect=1.0))

    await client.my_accounts()

    timeouts = obp.to(ACCOUNTS)[0].extensions["timeout"]
    assert timeouts == {"connect": 1.0, "read": 3.0, "write": 3.0, "pool": 3.0}


def test_obp_code_is_parsed_from_the_message_prefix():
    assert parse_obp_code("OBP-10018: Too Many Requests.") == "OBP-10018"
    assert parse_obp_code("  OBP-20001: User not logged in.") == "OBP-20001"
    assert parse_obp_code("Too Many Requests (OBP-10018)") is None
    assert parse_obp_code("OBP-1001: short") is None
    assert parse_obp_code(None) is None


def test_unknown_400_code_stays_bad_request():
    assert error_class(400, "OBP-99999") is UpstreamBadRequest
    assert error_class(400, None) is UpstreamBadRequest
    assert error_class(418, "OBP-30067") is UpstreamBadRequest


def test_every_error_is_an_upstream_error():
    for cls in (UpstreamBadRequest, UpstreamForbidden, UpstreamMalformed, UpstreamNotFound):
        assert issubclass(cls, UpstreamError)
    error = UpstreamRateLimited("slow down", retry_after=3.0, status=429, code="OBP-10018")
    assert error.retry_after == 3.0
    assert repr(error) == (
        "UpstreamRateLimited(status=429, code='OBP-10018', message='slow down', request_id=None)"
    )


@pytest.mark.parametrize("status", [400, 401])
def test_a_consent_over_at_the_bank_says_why(status: int) -> None:
    """OBP-API checks `exp` before the status: OBP-35003 is expiry, OBP-35005 (not
    ACCEPTED) and OBP-35012 (already revoked) a consent revoked at the bank; neither is
    helped by a login, so both are ReauthRequired at once."""
    assert error_class(status, "OBP-35003") is BankConsentExpired
    assert error_class(status, "OBP-35005") is BankConsentRevoked
    assert error_class(status, "OBP-35012") is BankConsentRevoked
    assert issubclass(BankConsentExpired, ReauthRequired)
    assert issubclass(BankConsentRevoked, ReauthRequired)
    # Other refusals of a consent stay a plain auth error (a relink, not a known cause).
    assert error_class(status, "OBP-35001") is UpstreamAuthError
    assert error_class(403, "OBP-35005") is UpstreamForbidden
