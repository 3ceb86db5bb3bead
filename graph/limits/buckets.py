"""Rate limits: token buckets per key, in process memory or shared through Redis.

A bucket holds up to `capacity` tokens and gains `refill_per_second` of them continuously; a
request takes `cost` tokens (1 for a token request, the estimated query cost for GraphQL) or is
refused with the whole seconds after which the same request would pass. A bucket that has
refilled to capacity carries no information, so both backends drop it: an absent bucket is a
full one. That is what keeps memory bounded and lets Redis keys simply expire.

Keys name who is limited, e.g. `client:<client_id>` or `consent:<consent_id>` (see
`client_key`/`consent_key`). They end up in Redis key names and in logs, so they must never
contain a secret: never key a bucket by an access token, refresh token, code or client secret.

See docs/rate-limits.md for the policies, the keys and the HTTP headers.
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from redis.asyncio import Redis
from redis.exceptions import NoScriptError, RedisError

log = logging.getLogger("graph.limits.buckets")

DEFAULT_PREFIX = "alif-graph:rl:"

# Float tolerance in tokens: a bucket that refilled to 0.9999999999 of a token after exactly the
# advertised Retry-After must admit the request, or clients would be told to wait in vain.
_EPSILON = 1e-9
_MAX_KEY_LENGTH = 200
# Printable ASCII without spaces: keys go into Redis key names and log lines verbatim.
_KEY_SHAPE = re.compile(r"[\x21-\x7e]{1,200}")
# A JWT (access token) starts with a base64url `{"` header: "eyJ". A net, not a guarantee.
_LOOKS_LIKE_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]+\.")


class RateLimiterUnavailable(Exception):
    """The shared backend (Redis) did not answer; the caller decides to fail open or closed."""


@dataclass(frozen=True, slots=True)
class BucketPolicy:
    """Burst `capacity` (tokens) and sustained rate `refill_per_second` (tokens per second)."""

    capacity: int
    refill_per_second: float

    def __post_init__(self) -> None:
        if self.capacity < 1:
            raise ValueError("a bucket's capacity must be at least 1 token")
        if not (self.refill_per_second > 0 and math.isfinite(self.refill_per_second)):
            raise ValueError("a bucket's refill rate must be a positive number of tokens/second")

    @property
    def seconds_to_fill(self) -> float:
        """Time an empty bucket takes to refill completely; also the longest useful TTL."""
        return self.capacity / self.refill_per_second

    def wait_for(self, deficit: float) -> int:
        """Whole seconds until `deficit` tokens have refilled; at least 1 (Retry-After: 0 invites
        a tight retry loop)."""
        return max(1, math.ceil(deficit / self.refill_per_second - _EPSILON))


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of a take.

    `remaining` is the whole tokens left after it, `limit` the bucket's capacity, and
    `retry_after` (0 when allowed, >= 1 when refused) the whole seconds after which the same
    request would pass if nothing else used the bucket. `too_costly` marks a request costing
    more than the capacity: it can never pass, waiting does not help (its `retry_after` is the
    time to fill the bucket, only so that a client honouring it does not spin).
    """

    allowed: bool
    remaining: int
    retry_after: int
    limit: int
    too_costly: bool = False

    def headers(self) -> dict[str, str]:
        """The headers for the response: X-RateLimit-Limit/-Remaining, plus Retry-After when
        refused."""
        out = {"X-RateLimit-Limit": str(self.limit), "X-RateLimit-Remaining": str(self.remaining)}
        if not self.allowed:
            out["Retry-After"] = str(self.retry_after)
        return out


def client_key(client_id: str | int) -> str:
    """The bucket key of an app: its public client id (never its secret)."""
    return f"client:{client_id}"


def consent_key(consent_id: str | int) -> str:
    """The bucket key of a consent: its id (never the token that carries it)."""
    return f"consent:{consent_id}"


def _check_key(key: str) -> None:
    if len(key) > _MAX_KEY_LENGTH or not _KEY_SHAPE.fullmatch(key):
        raise ValueError(
            f"a rate-limit key is 1-{_MAX_KEY_LENGTH} printable ASCII characters without spaces"
        )
    if _LOOKS_LIKE_JWT.search(key):
        # Refuse loudly: a token as a key would be written to Redis and to logs.
        raise ValueError("a rate-limit key must not contain a token; key by client or consent id")


def _check_cost(cost: int) -> None:
    if cost < 0:
        raise ValueError("a cost is a non-negative number of tokens; use refund() to give back")


def _too_costly(policy: BucketPolicy, tokens: float) -> Decision:
    return Decision(
        allowed=False,
        remaining=math.floor(tokens + _EPSILON),
        retry_after=policy.wait_for(policy.capacity),
        limit=policy.capacity,
        too_costly=True,
    )


class RateLimiter(Protocol):
    """A set of token buckets with one policy, addressed by key."""

    @property
    def policy(self) -> BucketPolicy: ...

    async def take(self, key: str, cost: int = 1) -> Decision:
        """Take `cost` tokens from the bucket of `key`, or refuse and take nothing."""
        ...

    async def refund(self, key: str, cost: int) -> None:
        """Give back `cost` tokens taken earlier (never beyond the capacity)."""
        ...

    async def aclose(self) -> None:
        """Release the backend's resources (connections); call once at shutdown."""
        ...


class MemoryRateLimiter:
    """Buckets in this process's memory: right for one API process, wrong for several (each
    would grant the full rate).

    Safe under asyncio without a lock because a take never awaits between reading and writing a
    bucket; it is not meant to be shared between threads or event loops.

    Memory is bounded twice: buckets are kept in least-recently-used order, so the ones at the
    front that have refilled to capacity are dropped as each take passes by (amortised O(1));
    and beyond `max_keys` live buckets the least recently used one is dropped even though it is
    not full. That forgets its debt (that key gets a fresh burst), so size `max_keys` well above
    the number of clients and consents active within `policy.seconds_to_fill`.
    """

    def __init__(
        self,
        policy: BucketPolicy,
        clock: Callable[[], float] = time.monotonic,
        *,
        max_keys: int = 100_000,
    ) -> None:
        if max_keys < 1:
            raise ValueError("max_keys must be at least 1")
        self.policy = policy
        self._clock = clock
        self._max_keys = max_keys
        # key -> (tokens, time of that level); absent means full.
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._warned_overflow = False

    def __len__(self) -> int:
        """Buckets held in memory (the full ones are not)."""
        return len(self._buckets)

    async def take(self, key: str, cost: int = 1) -> Decision:
        _check_key(key)
        _check_cost(cost)
        policy = self.policy
        now = self._clock()
        tokens = self._level(key, now)
        if cost > policy.capacity:
            return _too_costly(policy, tokens)
        if tokens + _EPSILON < cost:
            return Decision(
                allowed=False,
                remaining=math.floor(tokens + _EPSILON),
                retry_after=policy.wait_for(cost - tokens),
                limit=policy.capacity,
            )
        tokens = max(0.0, tokens - cost)
        self._store(key, tokens, now)
        return Decision(
            allowed=True,
            remaining=math.floor(tokens + _EPSILON),
            retry_after=0,
            limit=policy.capacity,
        )

    async def refund(self, key: str, cost: int) -> None:
        _check_key(key)
        _check_cost(cost)
        now = self._clock()
        self._store(key, min(float(self.policy.capacity), self._level(key, now) + cost), now)

    async def aclose(self) -> None:
        self._buckets.clear()

    def _level(self, key: str, now: float) -> float:
        state = self._buckets.get(key)
        if state is None:
            return float(self.policy.capacity)
        tokens, stamp = state
        # max(): a clock that steps back must not drain the bucket.
        refilled = tokens + max(0.0, now - stamp) * self.policy.refill_per_second
        return min(float(self.policy.capacity), refilled)

    def _store(self, key: str, tokens: float, now: float) -> None:
        if tokens + _EPSILON >= self.policy.capacity:
            self._buckets.pop(key, None)
        else:
            self._buckets[key] = (tokens, now)
            self._buckets.move_to_end(key)
        self._evict(now)

    def _evict(self, now: float) -> None:
        capacity = self.policy.capacity
        rate = self.policy.refill_per_second
        while self._buckets:
            key, (tokens, stamp) = next(iter(self._buckets.items()))
            if tokens + max(0.0, now - stamp) * rate + _EPSILON < capacity:
                break
            del self._buckets[key]
        while len(self._buckets) > self._max_keys:
            self._buckets.popitem(last=False)
            if not self._warned_overflow:
                self._warned_overflow = True
                log.warning(
                    "rate limiter over %d live buckets: dropping unrefilled ones; raise max_keys",
                    self._max_keys,
                )


# One script for take (cost >= 0) and refund (cost < 0), so every change to a bucket is atomic
# in Redis. Time comes from Redis TIME, not from the caller: API processes with skewed clocks
# then agree on one timeline. Calling TIME before a write needs effects replication, the
# default since Redis 5 (and the only mode since 7).
# KEYS[1]: hash {tokens, ts (microseconds)}; absent = full.
# ARGV: capacity, refill per second, cost.  Returns {allowed, remaining, retry_after, too_costly}.
_SCRIPT = """
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local eps = 1e-9
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil or ts == nil then
  tokens = capacity
elseif now > ts then
  tokens = math.min(capacity, tokens + (now - ts) * rate / 1000000)
end
if cost > capacity then
  return {0, math.floor(tokens + eps), math.max(1, math.ceil(capacity / rate - eps)), 1}
end
if cost > 0 and tokens + eps < cost then
  return {0, math.floor(tokens + eps), math.max(1, math.ceil((cost - tokens) / rate - eps)), 0}
end
if cost ~= 0 then
  tokens = math.min(capacity, math.max(0, tokens - cost))
  if tokens + eps >= capacity then
    redis.call('DEL', KEYS[1])
  else
    redis.call('HSET', KEYS[1], 'tokens', tokens, 'ts', now)
    -- Expire when the bucket would be full again: an absent bucket is a full one.
    redis.call('PEXPIRE', KEYS[1], math.max(1, math.ceil((capacity - tokens) / rate * 1000)))
  end
end
return {1, math.floor(tokens + eps), 0, 0}
"""
_SCRIPT_SHA = hashlib.sha1(_SCRIPT.encode(), usedforsecurity=False).hexdigest()


class RedisRateLimiter:
    """Buckets in Redis, shared by every API process using the same Redis and prefix.

    Each take or refund is one EVALSHA of a Lua script (EVAL once when the server has not
    cached it), so concurrent processes never over-admit. The bucket is a hash at
    `prefix + key` expiring when it would be full again. Several limiters (e.g. one per
    policy) can share one client; a key must always be used with the same policy.
    Redis failures raise RateLimiterUnavailable.
    """

    def __init__(
        self,
        redis_client: Redis,
        policy: BucketPolicy,
        prefix: str = DEFAULT_PREFIX,
        *,
        owns_client: bool = False,
    ) -> None:
        self.policy = policy
        self.prefix = prefix
        self._redis = redis_client
        self._owns_client = owns_client

    async def take(self, key: str, cost: int = 1) -> Decision:
        _check_key(key)
        _check_cost(cost)
        allowed, remaining, retry_after, too_costly = await self._run(key, cost)
        return Decision(
            allowed=bool(allowed),
            remaining=int(remaining),
            retry_after=int(retry_after),
            limit=self.policy.capacity,
            too_costly=bool(too_costly),
        )

    async def refund(self, key: str, cost: int) -> None:
        _check_key(key)
        _check_cost(cost)
        if cost:
            await self._run(key, -cost)

    async def aclose(self) -> None:
        if self._owns_client:
            await self._redis.aclose()

    async def _run(self, key: str, cost: int) -> Sequence[Any]:
        args = (
            self.prefix + key,
            self.policy.capacity,
            repr(float(self.policy.refill_per_second)),
            cost,
        )
        try:
            try:
                result = await self._redis.evalsha(_SCRIPT_SHA, 1, *args)
            except NoScriptError:
                # First use on this server, or after SCRIPT FLUSH / restart; EVAL caches it.
                result = await self._redis.eval(_SCRIPT, 1, *args)
        except RedisError as exc:
            raise RateLimiterUnavailable(f"rate limiter backend failed: {exc}") from exc
        return list(result)


def limiter_from_url(
    redis_url: str | None,
    policy: BucketPolicy,
    *,
    prefix: str = DEFAULT_PREFIX,
    timeout: float = 1.0,
) -> RateLimiter:
    """Redis when a URL is given (several processes), else memory (one process).

    The Redis client connects lazily and is closed by the limiter's aclose(). `timeout`
    bounds connecting and each command, so a stuck Redis delays a request by at most that
    much before RateLimiterUnavailable.
    """
    if not redis_url:
        return MemoryRateLimiter(policy)
    client = Redis.from_url(redis_url, socket_connect_timeout=timeout, socket_timeout=timeout)
    return RedisRateLimiter(client, policy, prefix, owns_client=True)


async def take_all(limits: Iterable[tuple[RateLimiter, str]], cost: int = 1) -> Decision:
    """Take `cost` from every (limiter, key) or from none of them.

    Checking all buckets and then consuming would race (two requests both see room in the
    last token), so each bucket is consumed in order and, when one refuses (or fails), the
    ones already taken are refunded. Meanwhile those tokens were briefly unavailable, so a
    concurrent request may be refused that could have passed: the error is on the side of
    refusing, never of over-admitting. A cost over any capacity is refused before anything is
    taken.

    Returns the refusal, or when all allow, the decision with the fewest tokens remaining
    (the one to report in the X-RateLimit headers).
    """
    pairs = list(limits)
    if not pairs:
        raise ValueError("take_all needs at least one (limiter, key)")
    _check_cost(cost)
    for limiter, _ in pairs:
        if cost > limiter.policy.capacity:
            # Tokens left are unknown without asking the backend; 0 says "do not count on it".
            return _too_costly(limiter.policy, 0.0)
    taken: list[tuple[RateLimiter, str]] = []
    decisions: list[Decision] = []
    try:
        for limiter, key in pairs:
            decision = await limiter.take(key, cost)
            if not decision.allowed:
                await _refund_all(taken, cost)
                return decision
            taken.append((limiter, key))
            decisions.append(decision)
    except BaseException:
        await _refund_all(taken, cost)
        raise
    return min(decisions, key=lambda d: d.remaining)


async def _refund_all(taken: list[tuple[RateLimiter, str]], cost: int) -> None:
    # Pop before awaiting: a refund interrupted by cancellation is not repeated (refunding
    # twice would hand out tokens nobody paid for; not refunding only errs on the strict side).
    while taken:
        limiter, key = taken.pop()
        try:
            await limiter.refund(key, cost)
        except Exception:
            # Best effort: an unrefunded take only makes that bucket stricter for a while.
            log.warning("rate limit refund failed for %s", key, exc_info=True)
