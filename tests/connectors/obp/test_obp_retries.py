"""Bounded retries: exponential backoff with jitter, 429 waits, unsafe methods left alone."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import httpx
import pytest

from connectors.errors import (
    UpstreamBadRequest,
    UpstreamMalformed,
    UpstreamNotFound,
    UpstreamRateLimited,
    UpstreamUnavailable,
)
from connectors.obp.retry import RetryPolicy, retry_after_seconds

ACCOUNTS = "/obp/v5.1.0/my/accounts"
CONSENT_REQUESTS = "/obp/v5.1.0/consumer/consent-requests"
OK = httpx.Response(200, json={"accounts": []})


def unavailable(obp) -> httpx.Response:
    return obp.error(503, "OBP-50000: Unknown Error.")


async def test_transient_failures_are_retried_until_success(client, obp, sleeps):
    obp.route("GET", ACCOUNTS, unavailable(obp), unavailable(obp), OK)

    assert await client.my_accounts() == []

    assert len(obp.to(ACCOUNTS)) == 3
    # random() == 0.5: three quarters of each window (0.5 s, then 1 s).
    assert sleeps.calls == [0.375, 0.75]


async def test_backoff_doubles_to_the_cap_and_the_count_is_bounded(make_client, obp, sleeps):
    obp.route("GET", ACCOUNTS, unavailable(obp))
    client = make_client(max_retries=6, random=lambda: 1.0)

    with pytest.raises(UpstreamUnavailable):
        await client.my_accounts()

    assert len(obp.to(ACCOUNTS)) == 7
    assert sleeps.calls == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0]


async def test_jitter_spreads_each_delay_over_the_upper_half_of_its_window(
    make_client, obp, sleeps
):
    draws = iter([0.0, 0.999, 0.25])
    obp.route("GET", ACCOUNTS, unavailable(obp))
    client = make_client(max_retries=3, random=lambda: next(draws))

    with pytest.raises(UpstreamUnavailable):
        await client.my_accounts()

    assert sleeps.calls == pytest.approx([0.25, 0.9995, 1.25])


@pytest.mark.parametrize(
    "reply",
    [
        httpx.ConnectError("refused"),
        httpx.ReadTimeout("timed out"),
        httpx.Response(500, json={"code": 500, "message": "OBP-50000: Unknown Error."}),
        httpx.Response(409, json={"code": 409, "message": "OBP-30250: Conflict."}),
        httpx.Response(200, text='{"accounts": [{"id": '),
    ],
    ids=["connect", "timeout", "500", "409", "malformed"],
)
async def test_each_retryable_failure_is_retried(client, obp, sleeps, reply):
    obp.route("GET", ACCOUNTS, reply, OK)

    assert await client.my_accounts() == []

    assert len(sleeps.calls) == 1


async def test_malformed_retries_are_bounded(make_client, obp, sleeps):
    obp.route("GET", ACCOUNTS, httpx.Response(200, text="{"))
    client = make_client(max_retries=2)

    with pytest.raises(UpstreamMalformed):
        await client.my_accounts()

    assert len(obp.to(ACCOUNTS)) == 3


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        (httpx.Response(400, json={"code": 400, "message": "OBP-10026: bad date"}),
         UpstreamBadRequest),
        (httpx.Response(404, json={"code": 404, "message": "OBP-30001: Bank not found."}),
         UpstreamNotFound),
    ],
)  # fmt: skip
async def test_client_errors_are_not_retried(client, obp, sleeps, reply, error):
    obp.route("GET", ACCOUNTS, reply)

    with pytest.raises(error):
        await client.my_accounts()

    assert len(obp.to(ACCOUNTS)) == 1
    assert sleeps.calls == []


async def test_no_retries_when_max_retries_is_zero(make_client, obp, sleeps):
    obp.route("GET", ACCOUNTS, unavailable(obp), OK)
    client = make_client(max_retries=0)

    with pytest.raises(UpstreamUnavailable):
        await client.my_accounts()

    assert sleeps.calls == []


@pytest.mark.parametrize(
    ("headers", "wait"),
    [
        ({"Retry-After": "7"}, 7.0),
        ({"X-Rate-Limit-Reset": "12", "X-Rate-Limit-Remaining": "0"}, 12.0),
        ({"Retry-After": "2", "X-Rate-Limit-Reset": "40"}, 2.0),
        ({"Retry-After": "soon", "X-Rate-Limit-Reset": "9"}, 9.0),
    ],
    ids=["retry-after", "x-rate-limit-reset", "retry-after-wins", "unreadable-falls-through"],
)
async def test_429_waits_what_the_server_asked(client, obp, sleeps, headers, wait):
    obp.route("GET", ACCOUNTS, obp.error(429, "OBP-10018: Too Many Requests.", **headers), OK)

    assert await client.my_accounts() == []

    assert sleeps.calls == [wait]


async def test_429_without_a_stated_wait_backs_off(client, obp, sleeps):
    obp.route("GET", ACCOUNTS, obp.error(429, "OBP-10018: Too Many Requests."), OK)

    await client.my_accounts()

    assert sleeps.calls == [0.375]


async def test_429_longer_than_our_patience_is_raised_at_once(make_client, obp, sleeps):
    obp.route(
        "GET",
        ACCOUNTS,
        obp.error(429, "OBP-10018: Too Many Requests.", **{"X-Rate-Limit-Reset": "3600"}),
    )
    client = make_client(max_rate_limit_wait=60.0)

    with pytest.raises(UpstreamRateLimited) as caught:
        await client.my_accounts()

    assert caught.value.retry_after == 3600.0
    assert caught.value.code == "OBP-10018"
    assert sleeps.calls == []
    assert len(obp.to(ACCOUNTS)) == 1


async def test_429_retries_are_bounded_and_keep_retry_after(make_client, obp, sleeps):
    obp.route("GET", ACCOUNTS, obp.error(429, "OBP-10018: Too Many.", **{"Retry-After": "3"}))
    client = make_client(max_retries=2)

    with pytest.raises(UpstreamRateLimited) as caught:
        await client.my_accounts()

    assert caught.value.retry_after == 3.0
    assert sleeps.calls == [3.0, 3.0]


async def test_post_is_not_repeated_after_an_ambiguous_failure(client, obp, sleeps):
    obp.route("POST", CONSENT_REQUESTS, unavailable(obp))

    with pytest.raises(UpstreamUnavailable):
        await client.create_consent_request("alif.tj", everything=True, time_to_live=60)

    assert len(obp.to(CONSENT_REQUESTS)) == 1
    assert sleeps.calls == []


async def test_post_is_repeated_when_it_never_reached_the_server(client, obp, sleeps):
    obp.route(
        "POST",
        CONSENT_REQUESTS,
        httpx.ConnectError("refused"),
        httpx.Response(201, json={"consent_request_id": "r-1", "payload": {}}),
    )

    made = await client.create_consent_request("alif.tj", everything=True, time_to_live=60)

    assert made.consent_request_id == "r-1"
    assert len(sleeps.calls) == 1


async def test_each_retry_is_logged_with_its_delay(client, obp, caplog):
    obp.route("GET", ACCOUNTS, unavailable(obp), OK)

    with caplog.at_level(logging.WARNING, logger="connectors.obp"):
        await client.my_accounts()

    (record,) = caplog.records
    assert "retry 1 of 3 in 0.38s" in record.getMessage()
    assert "OBP-50000" in record.getMessage()


def test_retry_after_parsing_ignores_nonsense():
    now = datetime(2024, 3, 10, 12, 0, tzinfo=UTC)
    assert retry_after_seconds(httpx.Headers({"Retry-After": "-5"}), now) is None
    assert retry_after_seconds(httpx.Headers({"Retry-After": "nan"}), now) is None
    assert retry_after_seconds(httpx.Headers({"Retry-After": "inf"}), now) is None
    assert retry_after_seconds(httpx.Headers({"Retry-After": "Sun, 99 Foo"}), now) is None
    assert retry_after_seconds(httpx.Headers({"retry-after": "1.5"}), now) == 1.5
    assert retry_after_seconds(httpx.Headers({}), now) is None


def test_backoff_never_exceeds_the_cap_nor_drops_below_half_the_window():
    policy = RetryPolicy()
    for attempt in range(12):
        window = min(5.0, 0.5 * 2**attempt)
        assert policy.backoff(attempt, lambda: 0.0) == window / 2
        assert policy.backoff(attempt, lambda: 1.0) == window
