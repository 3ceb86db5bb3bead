"""Retry policy: which failures are worth repeating, and how long to wait first.

Backoff follows stripe-python: 0.5 s doubling per attempt, capped at 5 s, with "equal
jitter" (a random point in the upper half of the window) so that many workers failing
together do not retry in lockstep, while no retry comes sooner than half the window.
A 429 waits exactly what the server asked for, when that is within our patience.
OBP's own rate-limit headers (`RateLimitingUtil.underCallLimits`) count seconds:
`X-Rate-Limit-Reset` is the time to live of the current period, not an epoch instant.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime

from connectors.errors import UpstreamError, UpstreamRateLimited
from connectors.obp.dates import to_utc

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


def _seconds(value: str) -> float | None:
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return seconds if 0 <= seconds < math.inf else None


def _until_date(value: str, now: datetime) -> float | None:
    """An HTTP-date (RFC 9110: IMF-fixdate, or the obsolete RFC 850 and asctime forms) as
    seconds from `now`; a date already past means "now"."""
    try:
        moment = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, (to_utc(moment) - to_utc(now)).total_seconds())


def retry_after_seconds(headers: Mapping[str, str], now: datetime) -> float | None:
    """The server's requested wait: `Retry-After` (delta seconds or an HTTP-date, measured
    from `now`), else `X-Rate-Limit-Reset` (seconds). A value we cannot read falls through
    to the next header and finally to ordinary backoff; so does a date already past when
    the reset header is there (otherwise a past date means "now", as RFC 9110 says)."""
    reset = headers.get("X-Rate-Limit-Reset")
    reset_seconds = None if reset is None else _seconds(reset)
    retry_after = headers.get("Retry-After")
    if retry_after is not None:
        seconds = _seconds(retry_after)
        if seconds is None:
            seconds = _until_date(retry_after, now)
            # A date already past (the bank's clock behind ours) says nothing of when the
            # limit lifts; the period's reset, when the bank sends it, does.
            if seconds == 0.0 and reset_seconds:
                return reset_seconds
        if seconds is not None:
            return seconds
    return reset_seconds


def exhausted_for(headers: Mapping[str, str]) -> float | None:
    """Seconds until the bank's rate-limit period resets, when it says no call remains in
    it (`X-Rate-Limit-Remaining: 0`); None while calls remain or the headers are absent.
    OBP sends -1 for both when no limit is configured."""
    remaining = headers.get("X-Rate-Limit-Remaining")
    reset = headers.get("X-Rate-Limit-Reset")
    if remaining is None or reset is None or remaining.strip() != "0":
        return None
    seconds = _seconds(reset)
    return seconds if seconds else None
