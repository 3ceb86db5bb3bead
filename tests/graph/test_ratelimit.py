"""Token-bucket rate limits: the memory backend on a fake clock, the Redis backend on the real
Redis (127.0.0.1:6379, or ALIF_GRAPH_TEST_REDIS_URL), and take_all over both.

Without a reachable Redis the Redis tests skip, except under CI=true, where that is a failure.
Each Redis test works under its own key prefix and deletes its keys afterwards.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import pytest
from redis.asyncio import Redis
from redis.exceptions import NoScriptError, RedisError

from graph.auth.oauth.errors import RateLimited, error_response
from graph.limits.buckets import (
    _SCRIPT,
    _SCRIPT_SHA,
    BucketPolicy,
    Decision,
    MemoryRateLimiter,
    RateLimiter,
    RateLimiterUnavailable,
    RedisRateLimiter,
    client_key,
    consent_key,
    limiter_from_url,
    take_all,
)

REDIS_URL = os.environ.get("ALIF_GRAPH_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
# A refill this slow makes the milliseconds a test takes on the real clock negligible.
SLOW = 0.001


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def memory(capacity: int, rate: float, clock: FakeClock | None = None) -> MemoryRateLimiter:
    return MemoryRateLimiter(BucketPolicy(capacity, rate), clock or FakeClock())


async def drain(limiter: RateLimiter, key: str) -> None:
    decision = await limiter.take(key, limiter.policy.capacity)
    assert decision.allowed and decision.remaining == 0


# --- policy and decision ----------------------------------------------------------------------


def test_policy_is_validated() -> None:
    with pytest.raises(ValueError):
        BucketPolicy(0, 1)
    with pytest.raises(ValueError):
        BucketPolicy(1, 0)
    with pytest.raises(ValueError):
        BucketPolicy(1, math.inf)
    assert BucketPolicy(10, 2).seconds_to_fill == 5


def test_headers_and_token_endpoint_response() -> None:
    ok = Decision(allowed=True, remaining=3, retry_after=0, limit=10)
    assert ok.headers() == {"X-RateLimit-Limit": "10", "X-RateLimit-Remaining": "3"}
    refused = Decision(allowed=False, remaining=0, retry_after=7, limit=10)
    response = error_response(RateLimited(refused))
    assert response.status_code == 429
    assert json.loads(bytes(response.body)) == {"error": "rate_limit", "retry_after": 7}
    assert response.headers["Retry-After"] == "7"
    assert response.headers["X-RateLimit-Limit"] == "10"
    assert response.headers["X-RateLimit-Remaining"] == "0"
    with pytest.raises(ValueError):
        RateLimited(ok)


@pytest.mark.parametrize(
    "key",
    [
        "",
        "client:has space",
        "client:" + "x" * 200,
        "consent:\u00e9",
        "token:eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",
    ],
)
async def test_keys_that_could_leak_or_break_are_refused(key: str) -> None:
    with pytest.raises(ValueError):
        await memory(5, 1).take(key)


async def test_key_helpers_and_negative_cost() -> None:
    assert client_key("abc") == "client:abc"
    assert consent_key(42) == "consent:42"
    limiter = memory(5, 1)
    with pytest.raises(ValueError):
        await limiter.take("client:a", -1)
    with pytest.raises(ValueError):
        await limiter.refund("client:a", -1)


def test_limiter_from_url_chooses_the_backend() -> None:
    policy = BucketPolicy(5, 1)
    assert isinstance(limiter_from_url(None, policy), MemoryRateLimiter)
    assert isinstance(limiter_from_url("", policy), MemoryRateLimiter)
    remote = limiter_from_url(REDIS_URL, policy, prefix="p:")
    assert isinstance(remote, RedisRateLimiter)
    assert remote.prefix == "p:"


# --- memory backend ---------------------------------------------------------------------------


async def test_memory_burst_then_refusal() -> None:
    limiter = memory(5, 2)
    remaining = [(await limiter.take("client:a")).remaining for _ in range(5)]
    assert remaining == [4, 3, 2, 1, 0]
    refused = await limiter.take("client:a")
    assert refused == Decision(allowed=False, remaining=0, retry_after=1, limit=5)
    # Another key has its own bucket.
    assert (await limiter.take("client:b")).remaining == 4


async def test_memory_refill_is_continuous_and_capped() -> None:
    clock = FakeClock()
    limiter = memory(5, 2, clock)
    await drain(limiter, "k:1")
    clock.advance(0.5)  # one token back at 2/s
    assert (await limiter.take("k:1")) == Decision(True, 0, 0, 5)
    assert not (await limiter.take("k:1")).allowed
    clock.advance(1.25)  # 2.5 tokens
    assert (await limiter.take("k:1", 0)).remaining == 2
    clock.advance(3600)  # never beyond the capacity
    assert (await limiter.take("k:1")).remaining == 4


@pytest.mark.parametrize(
    ("rate", "elapsed", "cost", "retry_after"),
    [
        (2.0, 0.0, 1, 1),  # 0.5 s rounds up to 1
        (2.0, 0.0, 5, 3),  # 2.5 s
        (2.0, 0.25, 1, 1),  # half a token missing: 0.25 s
        (0.5, 0.0, 1, 2),
        (0.5, 1.0, 3, 5),  # 0.5 tokens there, 2.5 missing at 0.5/s
        (0.1, 0.0, 1, 10),  # not exact in binary, still exactly 10
        (1 / 60, 0.0, 1, 60),  # one a minute
    ],
)
async def test_memory_retry_after_is_exact_and_honest(
    rate: float, elapsed: float, cost: int, retry_after: int
) -> None:
    clock = FakeClock()
    limiter = memory(10, rate, clock)
    await drain(limiter, "k:1")
    clock.advance(elapsed)
    refused = await limiter.take("k:1", cost)
    assert not refused.allowed
    assert refused.retry_after == retry_after
    # The promise: after Retry-After the same request passes, and not a second earlier.
    clock.advance(retry_after - 1)
    assert not (await limiter.take("k:1", cost)).allowed
    clock.advance(1)
    assert (await limiter.take("k:1", cost)).allowed


async def test_memory_cost_above_one() -> None:
    limiter = memory(10, SLOW)
    assert (await limiter.take("consent:1", 7)).remaining == 3
    refused = await limiter.take("consent:1", 4)
    assert not refused.allowed and not refused.too_costly
    assert refused.remaining == 3  # a refusal takes nothing
    assert (await limiter.take("consent:1", 3)).remaining == 0


async def test_memory_too_costly_is_never_allowed_and_takes_nothing() -> None:
    clock = FakeClock()
    limiter = memory(10, 2, clock)
    refused = await limiter.take("consent:1", 11)
    assert refused.too_costly and not refused.allowed
    assert refused.retry_after == 5  # the time to fill the bucket: at least 1, never 0
    assert refused.remaining == 10
    clock.advance(3600)
    assert (await limiter.take("consent:1", 11)).too_costly
    assert (await limiter.take("consent:1", 10)).allowed  # exactly the capacity is fine


async def test_memory_drops_full_buckets() -> None:
    clock = FakeClock()
    limiter = memory(4, 2, clock)  # full again 2 s after being emptied
    await limiter.take("k:peek", 0)
    assert len(limiter) == 0  # looking does not allocate
    await limiter.take("k:a", 4)
    await limiter.take("k:b", 1)
    assert len(limiter) == 2
    clock.advance(0.6)  # k:b (1 token short) is full again, k:a is not
    await limiter.take("k:c", 1)  # a take passing by sweeps the front
    # k:a is older than k:b but not yet full, so it stays, and so (behind it) does k:b.
    assert len(limiter) == 3
    clock.advance(1.5)
    await limiter.take("k:c", 0)
    assert len(limiter) == 0
    # A refund that fills the bucket removes it at once.
    await limiter.take("k:d", 2)
    await limiter.refund("k:d", 2)
    assert len(limiter) == 0


async def test_memory_idle_keys_do_not_accumulate() -> None:
    clock = FakeClock()
    limiter = memory(10, 10, clock)  # full 1 s after being emptied
    for i in range(10_000):
        await limiter.take(f"consent:{i}", 10)
        clock.advance(0.001)
    # Only the buckets touched within the last second can still be short of tokens.
    assert len(limiter) <= 1001


async def test_memory_max_keys_drops_least_recently_used() -> None:
    clock = FakeClock()
    limiter = MemoryRateLimiter(BucketPolicy(3, SLOW), clock, max_keys=3)
    for key in ("k:1", "k:2", "k:3"):
        await limiter.take(key, 3)
    await limiter.take("k:1", 0)  # k:1 is now the most recently used
    await limiter.take("k:4", 1)
    assert len(limiter) == 3
    assert (await limiter.take("k:2", 0)).remaining == 3  # dropped: forgotten, a fresh bucket
    assert (await limiter.take("k:1", 0)).remaining == 0  # kept


async def test_memory_clock_stepping_back_does_not_drain() -> None:
    clock = FakeClock()
    limiter = memory(5, 1, clock)
    await limiter.take("k:1", 2)
    clock.advance(-100)
    assert (await limiter.take("k:1", 0)).remaining == 3


async def test_memory_concurrent_takes_never_over_admit() -> None:
    limiter = memory(20, SLOW)
    decisions = await asyncio.gather(*(limiter.take("consent:1") for _ in range(50)))
    assert sum(d.allowed for d in decisions) == 20


# --- Redis backend ----------------------------------------------------------------------------


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


async def _connect() -> Redis:
    client = Redis.from_url(REDIS_URL, socket_connect_timeout=1, socket_timeout=5)
    try:
        await client.ping()
    except (RedisError, OSError) as exc:
        await client.aclose()
        # The URL may carry a password: name only the host and port.
        url = urlsplit(REDIS_URL)
        reason = (
            f"no Redis at {url.hostname}:{url.port or 6379} ({exc}); "
            "start one or set ALIF_GRAPH_TEST_REDIS_URL"
        )
        if _in_ci():
            pytest.fail(f"Redis is required under CI=true: {reason}")
        pytest.skip(reason)
    return client


@pytest.fixture
async def redis_client() -> AsyncIterator[Redis]:
    client = await _connect()
    yield client
    await client.aclose()


@pytest.fixture
async def other_redis_client(redis_client: Redis) -> AsyncIterator[Redis]:
    """A second client with its own connection pool: a second API process."""
    client = await _connect()
    yield client
    await client.aclose()


@pytest.fixture
async def prefix(redis_client: Redis) -> AsyncIterator[str]:
    value = f"alif-graph-test:{uuid.uuid4().hex}:"
    yield value
    keys = [key async for key in redis_client.scan_iter(match=value + "*")]
    if keys:
        await redis_client.delete(*keys)


async def test_redis_script_hash_matches_the_server(redis_client: Redis) -> None:
    # EVALSHA only ever hits if our locally computed SHA1 is the one Redis computes.
    assert await redis_client.script_load(_SCRIPT) == _SCRIPT_SHA


async def test_redis_burst_then_refusal(redis_client: Redis, prefix: str) -> None:
    limiter = RedisRateLimiter(redis_client, BucketPolicy(5, SLOW), prefix)
    remaining = [(await limiter.take("client:a")).remaining for _ in range(5)]
    assert remaining == [4, 3, 2, 1, 0]
    refused = await limiter.take("client:a")
    assert refused == Decision(allowed=False, remaining=0, retry_after=1000, limit=5)
    assert (await limiter.take("client:b")).remaining == 4


async def test_redis_refill(redis_client: Redis, prefix: str) -> None:
    limiter = RedisRateLimiter(redis_client, BucketPolicy(2, 20), prefix)
    await drain(limiter, "k:1")
    refused = await limiter.take("k:1")
    assert not refused.allowed and refused.retry_after == 1
    await asyncio.sleep(0.12)  # >= 2.4 tokens at 20/s, capped at 2
    assert (await limiter.take("k:1", 2)).allowed


async def test_redis_cost_and_too_costly(redis_client: Redis, prefix: str) -> None:
    limiter = RedisRateLimiter(redis_client, BucketPolicy(10, SLOW), prefix)
    assert (await limiter.take("consent:1", 7)).remaining == 3
    refused = await limiter.take("consent:1", 4)
    assert not refused.allowed and not refused.too_costly
    assert refused.remaining == 3
    assert refused.retry_after == 1000  # 1 token missing at 0.001/s (minus elapsed ms)
    too_costly = await limiter.take("consent:1", 11)
    assert too_costly.too_costly and not too_costly.allowed
    assert too_costly.retry_after == 10_000
    assert (await limiter.take("consent:1", 0)).remaining == 3


async def test_redis_state_has_a_ttl_and_full_buckets_vanish(
    redis_client: Redis, prefix: str
) -> None:
    limiter = RedisRateLimiter(redis_client, BucketPolicy(10, 1), prefix)
    name = prefix + "consent:1"
    await limiter.take("consent:1", 0)
    assert await redis_client.exists(name) == 0  # a peek writes nothing
    await limiter.take("consent:1", 3)
    state = await redis_client.hgetall(name)
    assert set(state) == {b"tokens", b"ts"}
    assert float(state[b"tokens"]) == pytest.approx(7, abs=0.1)
    # Expires when it would be full again: 3 tokens at 1/s.
    ttl = await redis_client.pttl(name)
    assert 2_500 < ttl <= 3_000
    await limiter.refund("consent:1", 3)
    assert await redis_client.exists(name) == 0


async def test_redis_two_processes_share_one_bucket(
    redis_client: Redis, other_redis_client: Redis, prefix: str
) -> None:
    policy = BucketPolicy(5, SLOW)
    first = RedisRateLimiter(redis_client, policy, prefix)
    second = RedisRateLimiter(other_redis_client, policy, prefix)
    assert (await first.take("client:a", 3)).remaining == 2
    assert (await second.take("client:a", 2)).remaining == 0
    assert not (await first.take("client:a")).allowed
    # Another prefix is another namespace.
    elsewhere = RedisRateLimiter(redis_client, policy, prefix + "other:")
    assert (await elsewhere.take("client:a")).remaining == 4


async def test_redis_concurrent_takes_never_over_admit(
    redis_client: Redis, other_redis_client: Redis, prefix: str
) -> None:
    policy = BucketPolicy(20, SLOW)
    limiters = [
        RedisRateLimiter(redis_client, policy, prefix),
        RedisRateLimiter(other_redis_client, policy, prefix),
    ]
    decisions = await asyncio.gather(*(limiters[i % 2].take("consent:1") for i in range(50)))
    assert sum(d.allowed for d in decisions) == 20
    assert sorted(d.remaining for d in decisions if d.allowed) == list(range(20))


async def test_redis_time_comes_from_redis(redis_client: Redis, prefix: str) -> None:
    # The bucket's timestamp is the Redis server's clock (microseconds), not an API host's, so
    # processes whose clocks disagree still share one timeline.
    limiter = RedisRateLimiter(redis_client, BucketPolicy(5, SLOW), prefix)
    await limiter.take("k:1")
    seconds, micros = await redis_client.time()
    raw = await redis_client.hget(prefix + "k:1", "ts")
    assert raw is not None
    stamp = int(raw)
    assert 0 <= seconds * 1_000_000 + micros - stamp < 5_000_000


class _ForgetfulRedis:
    """Answers NOSCRIPT to the first EVALSHA, as a restarted or flushed Redis would, without
    flushing the shared server's script cache."""

    def __init__(self, inner: Redis) -> None:
        self.inner = inner
        self.evals = 0
        self.forgot = False

    async def evalsha(self, *args: Any) -> Any:
        if not self.forgot:
            self.forgot = True
            raise NoScriptError("NOSCRIPT No matching script. Please use EVAL.")
        return await self.inner.evalsha(*args)

    async def eval(self, *args: Any) -> Any:
        self.evals += 1
        return await self.inner.eval(*args)


async def test_redis_falls_back_to_eval_on_noscript(redis_client: Redis, prefix: str) -> None:
    fake = _ForgetfulRedis(redis_client)
    limiter = RedisRateLimiter(fake, BucketPolicy(5, SLOW), prefix)  # type: ignore[arg-type]
    assert (await limiter.take("k:1")).remaining == 4
    assert (await limiter.take("k:1")).remaining == 3
    assert fake.evals == 1
    assert (await redis_client.script_exists(_SCRIPT_SHA)) == [True]


async def test_redis_unreachable_raises_unavailable() -> None:
    limiter = limiter_from_url("redis://127.0.0.1:1/0", BucketPolicy(5, 1), timeout=0.5)
    try:
        with pytest.raises(RateLimiterUnavailable):
            await limiter.take("client:a")
    finally:
        await limiter.aclose()


async def test_limiter_from_url_works_against_redis(redis_client: Redis, prefix: str) -> None:
    limiter = limiter_from_url(REDIS_URL, BucketPolicy(2, SLOW), prefix=prefix)
    try:
        assert (await limiter.take("client:a")).remaining == 1
        assert await redis_client.exists(prefix + "client:a") == 1
    finally:
        await limiter.aclose()


# --- take_all over both backends --------------------------------------------------------------

LimiterFactory = Callable[[BucketPolicy], RateLimiter]


@pytest.fixture(params=["memory", "redis"])
async def make_limiter(request: pytest.FixtureRequest) -> AsyncIterator[LimiterFactory]:
    if request.param == "memory":
        clock = FakeClock()
        yield lambda policy: MemoryRateLimiter(policy, clock)
        return
    client = await _connect()
    value = f"alif-graph-test:{uuid.uuid4().hex}:"
    try:
        yield lambda policy: RedisRateLimiter(client, policy, value)
    finally:
        keys = [key async for key in client.scan_iter(match=value + "*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


async def remaining(limiter: RateLimiter, key: str) -> int:
    return (await limiter.take(key, 0)).remaining


async def test_take_all_takes_from_every_bucket(make_limiter: LimiterFactory) -> None:
    per_client = make_limiter(BucketPolicy(10, SLOW))
    per_consent = make_limiter(BucketPolicy(4, SLOW))
    limits = [(per_client, "client:a"), (per_consent, "consent:1")]
    decision = await take_all(limits, 3)
    # The tighter bucket is the one to report.
    assert decision == Decision(allowed=True, remaining=1, retry_after=0, limit=4)
    assert await remaining(per_client, "client:a") == 7


async def test_take_all_refunds_when_a_later_bucket_refuses(
    make_limiter: LimiterFactory,
) -> None:
    per_client = make_limiter(BucketPolicy(10, SLOW))
    per_consent = make_limiter(BucketPolicy(4, SLOW))
    limits = [(per_client, "client:a"), (per_consent, "consent:1")]
    assert (await take_all(limits, 2)).allowed
    assert (await take_all(limits, 2)).allowed
    refused = await take_all(limits, 2)
    assert not refused.allowed and refused.limit == 4 and refused.retry_after >= 1
    # The client bucket took 2 for the refused request and got them back.
    assert await remaining(per_client, "client:a") == 6
    assert await remaining(per_consent, "consent:1") == 0


async def test_take_all_first_bucket_refusing_takes_nothing(make_limiter: LimiterFactory) -> None:
    per_client = make_limiter(BucketPolicy(2, SLOW))
    per_consent = make_limiter(BucketPolicy(10, SLOW))
    await per_client.take("client:a", 2)
    refused = await take_all([(per_client, "client:a"), (per_consent, "consent:1")])
    assert not refused.allowed and refused.limit == 2
    assert await remaining(per_consent, "consent:1") == 10


async def test_take_all_too_costly_touches_nothing(make_limiter: LimiterFactory) -> None:
    per_client = make_limiter(BucketPolicy(100, SLOW))
    per_consent = make_limiter(BucketPolicy(10, SLOW))
    refused = await take_all([(per_client, "client:a"), (per_consent, "consent:1")], 11)
    assert refused.too_costly and refused.limit == 10
    assert await remaining(per_client, "client:a") == 100


class _Broken:
    def __init__(self, policy: BucketPolicy) -> None:
        self.policy = policy

    async def take(self, key: str, cost: int = 1) -> Decision:
        raise RateLimiterUnavailable("down")

    async def refund(self, key: str, cost: int) -> None:
        raise AssertionError("never taken, never refunded")

    async def aclose(self) -> None:
        return None


async def test_take_all_refunds_when_a_backend_fails(make_limiter: LimiterFactory) -> None:
    per_client = make_limiter(BucketPolicy(10, SLOW))
    with pytest.raises(RateLimiterUnavailable):
        await take_all([(per_client, "client:a"), (_Broken(BucketPolicy(10, 1)), "consent:1")])
    assert await remaining(per_client, "client:a") == 10


async def test_take_all_concurrently_never_over_admits(make_limiter: LimiterFactory) -> None:
    per_client = make_limiter(BucketPolicy(30, SLOW))
    per_consent = make_limiter(BucketPolicy(12, SLOW))
    limits = [(per_client, "client:a"), (per_consent, "consent:1")]
    requests: list[Awaitable[Decision]] = [take_all(limits) for _ in range(50)]
    decisions = await asyncio.gather(*requests)
    admitted = sum(d.allowed for d in decisions)
    # Refunds may briefly refuse a request that could have passed, never admit one too many.
    assert 0 < admitted <= 12
    assert await remaining(per_client, "client:a") == 30 - admitted
    assert await remaining(per_consent, "consent:1") == 12 - admitted


async def test_take_all_needs_limits() -> None:
    with pytest.raises(ValueError):
        await take_all([])
