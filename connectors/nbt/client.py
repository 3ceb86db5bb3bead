"""An async httpx client for NBT's daily rates export, and the rates sync.

`NbtClient.day(d)` asks `<url>?date=YYYY-MM-DD&export=xmlout` and parses the answer
strictly (`feed.parse`). One choke point for HTTP, as in `connectors/obp/client.py`:
transport errors and timeouts, 5xx and 429 become `UpstreamUnavailable`, other statuses
`UpstreamBadRequest`, a body that is not a valid export `UpstreamMalformed` whose message
says what is wrong. A short bounded retry covers a transient failure.

`sync_rates` reads every day of a period, then stores all publications in ONE transaction
(`ledger.rates`): a malformed day anywhere refuses the whole period and stores nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from connectors.errors import UpstreamBadRequest, UpstreamMalformed, UpstreamUnavailable
from connectors.nbt.feed import FeedDay, MalformedFeed, parse
from ledger import rates

DEFAULT_URL = "https://nbt.tj/ru/kurs/export_xml.php"
MAX_DAYS = 3660  # ten years per sync: a typo in a year should not mean a million requests
_ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class DayOutcome:
    """What a sync learned about one day: published (with how many rates), or not, in
    which case `carried_from` is the latest earlier publication it uses (None: none known)."""

    day: date
    published: bool
    rates: int = 0
    carried_from: date | None = None


@dataclass(slots=True)
class RatesSyncReport:
    date_from: date
    date_to: date
    days: list[DayOutcome] = field(default_factory=list)
    stored: int = 0

    @property
    def published(self) -> int:
        return sum(1 for d in self.days if d.published)


class NbtClient:
    def __init__(
        self,
        url: str = DEFAULT_URL,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 15.0,
        sleep: Callable[[float], object] | None = None,
    ) -> None:
        self.url = url
        self._http = httpx.AsyncClient(transport=transport, timeout=timeout)
        self._sleep = sleep or asyncio.sleep

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> NbtClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def day(self, day: date) -> FeedDay:
        """The export for `day`, parsed; retried twice on a transient failure."""
        for attempt in range(_ATTEMPTS):
            try:
                return await self._request(day)
            except UpstreamUnavailable:
                if attempt == _ATTEMPTS - 1:
                    raise
                pause = self._sleep(0.5 * 2**attempt)
                if asyncio.iscoroutine(pause):
                    await pause
        raise AssertionError("unreachable")  # pragma: no cover

    async def _request(self, day: date) -> FeedDay:
        params = {"date": day.isoformat(), "export": "xmlout"}
        endpoint = f"NBT rates {day.isoformat()}"
        try:
            response = await self._http.get(self.url, params=params)
        except httpx.TransportError as exc:
            raise UpstreamUnavailable(
                f"cannot reach the NBT rates feed ({type(exc).__name__})", endpoint=endpoint
            ) from exc
        if response.status_code == 429 or response.status_code >= 500:
            raise UpstreamUnavailable(
                "the NBT rates feed did not answer", status=response.status_code, endpoint=endpoint
            )
        if response.status_code != 200:
            raise UpstreamBadRequest(
                "the NBT rates feed refused the request",
                status=response.status_code,
                endpoint=endpoint,
                should_retry=False,
            )
        try:
            return parse(response.content)
        except MalformedFeed as exc:
            raise UpstreamMalformed(
                f"malformed NBT rates feed: {exc}",
                status=200,
                endpoint=endpoint,
                should_retry=False,
            ) from exc


def days_of(date_from: date, date_to: date) -> list[date]:
    if date_to < date_from:
        raise ValueError("the period ends before it starts")
    count = (date_to - date_from).days + 1
    if count > MAX_DAYS:
        raise ValueError(f"at most {MAX_DAYS} days per rates sync")
    return [date_from + timedelta(days=i) for i in range(count)]


async def sync_rates(
    sessions: async_sessionmaker[AsyncSession],
    client: NbtClient,
    date_from: date,
    date_to: date,
) -> RatesSyncReport:
    """Read NBT's rates of every day of `[date_from, date_to]` and store them in one
    transaction. A day the feed answers with no rates, or with an earlier publication's
    date, is a day without a publication: it uses the latest earlier rate, and the report
    says which. Raises the client's errors (nothing stored) on any failure."""
    days = days_of(date_from, date_to)
    found: dict[date, FeedDay] = {}
    for day in days:
        answer = await client.day(day)
        if answer.on_date > day:
            raise UpstreamMalformed(
                f"malformed NBT rates feed: asked for {day}, answered with "
                f"{answer.on_date}, a later day",
                endpoint=f"NBT rates {day.isoformat()}",
                should_retry=False,
            )
        if answer.rates:
            found.setdefault(answer.on_date, answer)
    publications = [rates.Publication(d, found[d].rates) for d in sorted(found)]
    report = RatesSyncReport(date_from, date_to)
    async with sessions.begin() as session:
        report.stored = await rates.store_publications(session, publications)
        before = await rates.latest_publication_before(session, date_from)
    latest = before
    for day in days:
        if day in found:
            latest = day
            report.days.append(DayOutcome(day, True, len(found[day].rates)))
        else:
            report.days.append(DayOutcome(day, False, carried_from=latest))
    return report
