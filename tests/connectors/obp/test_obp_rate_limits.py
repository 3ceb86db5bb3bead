"""Retry-After as an HTTP-date, and pacing on OBP's X-Rate-Limit-* headers before a 429."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from connectors.errors import UpstreamRateLimited

ACCOUNTS = "/obp/v5.1.0/my/accounts"
OK = httpx.Response(200, json={"accounts": []})
START = datetime(2015, 10, 21, 7, 27, 50, tzinfo=UTC)


class FakeTime:
    """A clock that only moves when the client sleeps."""

    def __init__(self, start: datetime = START) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def clock(self) -> datetime:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def paced(make_client, time):
    def make(**kwargs):
        return make_client(clock=time.clock, sleep=time.sleep, **kwargs)

    return make


def limited(obp, **headers: str) -> httpx.Response:
    return obp.error(429, "OBP-10018: Too Many Requests.", **headers)


@pytest.mark.parametrize(
    ("value", "wait"),
    [
        ("Wed, 21 Oct 2015 07:28:00 GMT", 10.0),  # IMF-fixdate
        ("Wed, 21 Oct 2015 07:28:45 GMT", 55.0),
        ("Wednesday, 21-Oct-15 07:28:00 GMT", 10.0),  # obsolete RFC 850
        ("Wed Oct 21 07:28:00 2015", 10.0),  # obsolete asctime
        ("Wed, 21 Oct 2015 07:27:50 GMT", 0.0),
        ("Wed, 21 Oct 2015 07:00:00 GMT", 0.0),  # already past: go now
    ],
)
async def test_an_http_date_retry_after_waits_until_that_date_by_our_clock(
    paced, obp, time, value, wait
):
    obp.route("GET", ACCOUNTS, limited(obp, **{"Retry-After": value}), OK)

    assert await paced().my_accounts() == []

    assert time.sleeps == [wait]
    assert len(obp.to(ACCOUNTS)) == 2


async def test_the_date_is_measured_from_the_injected_clock(make_client, obp, time):
    later = FakeTime(START + timedelta(seconds=4))
    obp.route("GET", ACCOUNTS, limited(obp, **{"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}), OK)

    await make_client(clock=later.clock, sleep=later.sleep).my_accounts()

    assert later.sleeps == [6.0]


async def test_an_http_date_beyond_our_patience_is_raised_at_once(paced, obp, time):
    obp.route("GET", ACCOUNTS, limited(obp, **{"Retry-After": "Wed, 21 Oct 2015 09:00:00 GMT"}))

    with pytest.raises(UpstreamRateLimited) as caught:
        await paced(max_rate_limit_wait=60.0).my_accounts()

    assert caught.value.retry_after == (datetime(2015, 10, 21, 9, tzinfo=UTC) - START).seconds
    assert time.sleeps == []


def exhausted(reset: str, remaining: str = "0") -> httpx.Response:
    headers = {"X-Rate-Limit-Remaining": remaining, "X-Rate-Limit-Reset": reset}
    return httpx.Response(200, json={"accounts": []}, headers=headers)


@pytest.mark.parametrize("reset", ["1", "7", "59"])
async def test_no_call_remaining_waits_for_the_reset_before_the_next_request(
    paced, obp, time, reset
):
    obp.route("GET", ACCOUNTS, exhausted(reset), OK)
    client = paced()

    await client.my_accounts()
    assert time.sleeps == []  # the answer itself was fine; only the next call waits
    await client.my_accounts()
    await client.my_accounts()

    assert time.sleeps == [float(reset)]
    first, second, _ = obp.to(ACCOUNTS)
    assert second is not first


@pytest.mark.parametrize(
    ("remaining", "reset"), [("3", "30"), ("-1", "-1"), ("0", "0"), ("0", "soon"), ("1", "1")]
)
async def test_calls_left_or_no_limit_mean_no_wait(paced, obp, time, remaining, reset):
    obp.route("GET", ACCOUNTS, exhausted(reset, remaining), OK)
    client = paced()

    await client.my_accounts()
    await client.my_accounts()

    assert time.sleeps == []


async def test_a_reset_beyond_our_patience_is_raised_without_sending(paced, obp, time):
    obp.route("GET", ACCOUNTS, exhausted("3600"), OK)
    client = paced(max_rate_limit_wait=60.0)
    await client.my_accounts()

    with pytest.raises(UpstreamRateLimited) as caught:
        await client.my_accounts()

    assert caught.value.retry_after == 3600.0
    assert len(obp.to(ACCOUNTS)) == 1
    assert time.sleeps == []


async def test_a_429_and_its_reset_on_the_same_answer_are_slept_once(paced, obp, time):
    obp.route(
        "GET",
        ACCOUNTS,
        limited(
            obp, **{"Retry-After": "5", "X-Rate-Limit-Remaining": "0", "X-Rate-Limit-Reset": "5"}
        ),
        OK,
    )

    await paced().my_accounts()

    assert time.sleeps == [5.0]


@pytest.mark.parametrize(("per_period", "period", "calls"), [(3, 10, 10), (1, 2, 5), (5, 60, 12)])
async def test_pacing_provokes_no_429_from_a_bank_that_enforces_its_limit(
    paced, obp, time, per_period, period, calls
):
    """A bank like OBP-API's RateLimitingUtil: a fixed period, counted per consumer."""
    window = {"start": time.now, "used": 0}
    refused: list[datetime] = []

    def bank(request: httpx.Request) -> httpx.Response:
        if time.now >= window["start"] + timedelta(seconds=period):
            window.update(start=time.now, used=0)
        reset = str(int((window["start"] + timedelta(seconds=period) - time.now).total_seconds()))
        if window["used"] >= per_period:
            refused.append(time.now)
            return limited(obp, **{"X-Rate-Limit-Remaining": "0", "X-Rate-Limit-Reset": reset})
        window["used"] += 1
        headers = {
            "X-Rate-Limit-Remaining": str(per_period - window["used"]),
            "X-Rate-Limit-Reset": reset,
        }
        return httpx.Response(200, json={"accounts": []}, headers=headers)

    obp.route("GET", ACCOUNTS, bank)
    client = paced(max_rate_limit_wait=float(period))

    for _ in range(calls):
        await client.my_accounts()

    assert refused == []
    assert len(obp.to(ACCOUNTS)) == calls
    assert sum(time.sleeps) == pytest.approx(period * ((calls - 1) // per_period))
