"""Retry policy: which failures are worth repeating, and how long to wait first.

Backoff follows stripe-python: 0.5 s doubling per attempt, capped at 5 s, with "equal
jitter" (a random point in the upper half of the window) so that many workers failing
together do not retry in lockstep, while no retry comes sooner than half the window.
A 429 waits exactly what the server asked for, when that is within our patience.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from connectors.errors import UpstreamError, UpstreamRateLimited

BASE_DELAY = 0.5
MAX_DELAY = 5.0


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_retries: int = 3
    base_delay: float = BASE_DELAY
    max_delay: float = MAX_DELAY
    # A 429 asking for a longer wait than this is raised at once: blocking a worker for
    # an hour helps nobody; the caller reschedules using `retry_after`.
    max_rate_limit_wait: float = 60.0

    def backoff(self, attempt: int, random: Callable[[], float]) -> float:
        """Delay before retry number `attempt` (0-based)."""
        window = min(self.max_delay, self.base_delay * 2**attempt)
        return window / 2 + random() * window / 2

    def delay(
        self, error: UpstreamError, attempt: int, random: Callable[[], float]
    ) -> float | None:
        """Seconds to wait before retrying `error`, or None when it must not be retried."""
        if not error.should_retry or attempt >= self.max_retries:
            return None
        if isinstance(error, UpstreamRateLimited) and error.retry_after is not None:
            if error.retry_after > self.max_rate_limit_wait:
                return None
            return error.retry_after
        return self.backoff(attempt, random)


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """The server's requested wait: `Retry-After` (delta seconds), else `X-Rate-Limit-Reset`.

    An HTTP-date `Retry-After` is not used (OBP sends seconds); a value we cannot read
    falls through to the next header and finally to ordinary backoff.
    """
    for name in ("Retry-After", "X-Rate-Limit-Reset"):
        value = headers.get(name)
        if value is None:
            continue
        try:
            seconds = float(value.strip())
        except ValueError:
            continue
        if 0 <= seconds < float("inf"):
            return seconds
    return None
