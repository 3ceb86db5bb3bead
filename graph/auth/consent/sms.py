"""Sending one-time codes and security alerts to customers' phones: a pluggable sender.

No SMS gateway is wired in yet. The development sender logs the code (so a developer can
type it) and keeps the last one per phone, and the lockout alerts, in memory for the demo
and the tests; in production it does neither, and only says that a text went to a masked
number.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Protocol

log = logging.getLogger("graph.auth.consent.sms")


class CodeSender(Protocol):
    async def send(self, phone: str, code: str, *, lang: str) -> None:
        """Deliver `code` to `phone` in the customer's language."""
        ...

    async def alert_locked(self, phone: str, until: datetime, *, lang: str) -> None:
        """Tell the customer that failed attempts have locked their number until `until`
        (RTS Art. 4(3)(b)): someone else may be trying."""
        ...


def masked(phone: str) -> str:
    """+992 90 *** ** 67: enough to recognise a number, not to dial it."""
    return phone[:6] + "*" * max(0, len(phone) - 8) + phone[-2:]


class DevelopmentSender:
    def __init__(self, *, reveal_codes: bool) -> None:
        self._reveal = reveal_codes
        self._last: dict[str, str] = {}
        self._alerts: dict[str, list[datetime]] = {}

    async def send(self, phone: str, code: str, *, lang: str) -> None:
        if not self._reveal:
            log.info("one-time code sent to %s", masked(phone))
            return
        self._last[phone] = code
        log.warning("DEVELOPMENT one-time code for %s: %s", masked(phone), code)

    async def alert_locked(self, phone: str, until: datetime, *, lang: str) -> None:
        log.warning("lockout alert sent to %s: locked until %s", masked(phone), until.isoformat())
        if self._reveal:
            self._alerts.setdefault(phone, []).append(until)

    def last_code(self, phone: str) -> str | None:
        """The last code sent to `phone` (development only; None in production)."""
        return self._last.get(phone)

    def lockout_alerts(self, phone: str) -> list[datetime]:
        """The lock ends announced to `phone` (development only; empty in production)."""
        return list(self._alerts.get(phone, []))


def sender_for(production: bool) -> DevelopmentSender:
    return DevelopmentSender(reveal_codes=not production)
