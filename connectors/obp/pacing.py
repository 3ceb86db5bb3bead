"""Holding requests back while the bank says no call remains in its rate-limit period,
so that the next request does not provoke a 429.

The client's retry waits go through `Pacer.pause` too, so a 429's `Retry-After` and the
bank's reset announced on the same answer are slept once, not twice.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta

from connectors.errors import UpstreamRateLimited
from connectors.obp.retry import exhausted_for


class Pacer:
    def __init__(
        self,
        *,
        clock: Callable[[], datetime],
        sleep: Callable[[float], Awaitable[None]],
        patience: float,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        # A bank-imposed wait longer than this is raised instead of slept (see RetryPolicy).
        self._patience = patience
        self._not_before: datetime | None = None

    def observe(self, headers: Mapping[str, str]) -> None:
        """Read OBP's `X-Rate-Limit-Remaining` / `X-Rate-Limit-Reset` off any answer."""
        seconds = exhausted_for(headers)
        if seconds is None:
            return
        moment = self._clock() + timedelta(seconds=seconds)
        if self._not_before is None or moment > self._not_before:
            self._not_before = moment

    async def pause(self, seconds: float) -> None:
        """A retry's own wait; it also serves a bank hold that ends within it."""
        ends = self._clock() + timedelta(seconds=seconds)
        await self._sleep(seconds)
        if self._not_before is not None and self._not_before <= ends:
            self._not_before = None

    async def wait(self, endpoint: str) -> None:
        """Before a request: sleep until the bank's period resets; raise, without sending,
        when that is further away than our patience (the caller reschedules with
        `retry_after`)."""
        deadline = self._not_before
        if deadline is None:
            return
        seconds = (deadline - self._clock()).total_seconds()
        if seconds > self._patience:
            raise UpstreamRateLimited(
                f"the bank's rate limit allows no call for {seconds:.0f}s",
                retry_after=seconds,
                endpoint=endpoint,
            )
        if seconds > 0:
            await self._sleep(seconds)
        if self._not_before == deadline:  # a later hold set meanwhile stays
            self._not_before = None
