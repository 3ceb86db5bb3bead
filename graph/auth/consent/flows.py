"""Server-side state of a browser flow (authorising a consent, managing consents).

The browser holds only a random flow id in a signed, HttpOnly, SameSite=Lax cookie; the
state (step, phone, consent, CSRF token, language) stays on the server: in memory for one
process, in Redis (ALIF_GRAPH_REDIS_URL) when several processes serve the pages.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Protocol

import orjson
from redis.asyncio import Redis

from connectors.keys import Keyring

FLOW_TTL_SECONDS = 15 * 60
_MAX_MEMORY_FLOWS = 100_000


class FlowStore(Protocol):
    async def get(self, flow_id: str) -> dict[str, Any] | None: ...

    async def put(self, flow_id: str, state: dict[str, Any]) -> None: ...

    async def delete(self, flow_id: str) -> None: ...


class MemoryFlowStore:
    """Flows in this process; each expires FLOW_TTL_SECONDS after its last write."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._flows: OrderedDict[str, tuple[float, bytes]] = OrderedDict()

    async def get(self, flow_id: str) -> dict[str, Any] | None:
        entry = self._flows.get(flow_id)
        if entry is None or entry[0] <= self._clock():
            return None
        state: dict[str, Any] = orjson.loads(entry[1])
        return state

    async def put(self, flow_id: str, state: dict[str, Any]) -> None:
        now = self._clock()
        self._flows[flow_id] = (now + FLOW_TTL_SECONDS, orjson.dumps(state))
        self._flows.move_to_end(flow_id)
        # Oldest writes first: drop the expired ones, and the oldest beyond the bound.
        while self._flows:
            oldest = next(iter(self._flows.values()))
            if oldest[0] > now and len(self._flows) <= _MAX_MEMORY_FLOWS:
                break
            self._flows.popitem(last=False)

    async def delete(self, flow_id: str) -> None:
        self._flows.pop(flow_id, None)


class RedisFlowStore:
    def __init__(self, redis_client: Redis, prefix: str = "alif-graph:flow:") -> None:
        self._redis = redis_client
        self._prefix = prefix

    async def get(self, flow_id: str) -> dict[str, Any] | None:
        raw = await self._redis.get(self._prefix + flow_id)
        if raw is None:
            return None
        state: dict[str, Any] = orjson.loads(raw)
        return state

    async def put(self, flow_id: str, state: dict[str, Any]) -> None:
        await self._redis.set(self._prefix + flow_id, orjson.dumps(state), ex=FLOW_TTL_SECONDS)

    async def delete(self, flow_id: str) -> None:
        await self._redis.delete(self._prefix + flow_id)


def store_from_url(redis_url: str | None) -> FlowStore:
    if not redis_url:
        return MemoryFlowStore()
    return RedisFlowStore(Redis.from_url(redis_url, socket_connect_timeout=1, socket_timeout=1))


class CookieSigner:
    """`<flow id>.<HMAC>`: a forged or altered cookie is refused before any lookup. The
    current key signs; a cookie signed by an old key (a flow begun before the secret was
    rotated) is still accepted."""

    def __init__(self, keys: Keyring, purpose: str) -> None:
        self._keys = keys.cookie_keys(purpose)

    def new_id(self) -> tuple[str, str]:
        """(flow id, cookie value)."""
        flow_id = secrets.token_urlsafe(24)
        return flow_id, f"{flow_id}.{self._mac(flow_id)}"

    def flow_id(self, cookie: str | None) -> str | None:
        if not cookie or len(cookie) > 200:
            return None
        flow_id, _, mac = cookie.rpartition(".")
        if not flow_id:
            return None
        matches = [hmac.compare_digest(mac, self._mac(flow_id, key)) for key in self._keys]
        return flow_id if any(matches) else None

    def _mac(self, flow_id: str, key: bytes | None = None) -> str:
        signing = self._keys[0] if key is None else key
        return hmac.new(signing, flow_id.encode(), hashlib.sha256).hexdigest()[:32]
