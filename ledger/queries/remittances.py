"""What cross-border transfers really cost: `remittance_summary`.

The cost of one transfer, the way the World Bank's Remittance Prices Worldwide (RPW)
database measures it (docs/fx-and-remittances.md): the fee plus the exchange-rate margin,
as a share of the amount sent. The margin is the difference between what the amount sent
is worth at the official rate of the day and what the recipient got, valued at the same
rate. Our official rate is NBT's (TJS per unit) of the day the transfer was created
(Dushanbe time), the latest publication on or before it. Every amount is valued in TJS,
exactly (Decimal), and rounded half-even to diram only once per group total.

    sent      = the sender's amount x NBT(sent currency)       (outbound: the debited amount,
                                                               inbound: the source amount)
    received  = the recipient's amount x NBT(its currency)     (outbound: destination amount,
                                                               inbound: the credited amount)
    margin    = sent - received              (0 when both legs are in one currency)
    fee       = the fee x NBT(fee currency)
    cost %    = (fee + margin) / sent x 100

A group's `total_cost_percent` is its total cost over its total sent (what the money as a
whole lost); `average_cost_percent` is the plain mean of its transfers' percentages, as
RPW averages a corridor's offers. Only COMPLETED transfers are priced; FAILED, CANCELLED
and RETURNED ones are counted apart; a transfer with no NBT rate for a currency it needs
is counted as `unpriced`. The time to complete is from the first status of its history
(else its creation) to its COMPLETED status (else its completion time); the median of a
group's completed transfers, in whole seconds (half-even).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from statistics import median

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ledger import fx
from ledger.models import Transfer, TransferEvent, table
from ledger.money import Money, exponent
from ledger.queries import BANK_TIMEZONE, bank_day_start
from ledger.queries.results import TRANSFER, TransferRow, fetch

TRANSFERS = table(Transfer)
EVENTS = table(TransferEvent)

GROUPINGS = ("CORRIDOR", "MONTH", "COUNTERPARTY")
# The TransferRail values that cross a border (Korti Milli, the national card system, is a
# card scheme, not a rail: no transfer carries it).
CROSS_BORDER_RAILS = ("VISA_DIRECT", "SWIFT", "MONEY_TRANSFER_SYSTEM")
ENDED_BADLY = ("FAILED", "CANCELLED", "RETURNED")
HUNDRED = Decimal(100)
CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class TransferCost:
    """One completed transfer, valued in TJS at NBT's rate of its day."""

    sent: Decimal
    received: Decimal
    fee: Decimal

    @property
    def margin(self) -> Decimal:
        return self.sent - self.received

    @property
    def cost_percent(self) -> Decimal:
        return (self.fee + self.margin) / self.sent * HUNDRED if self.sent else Decimal(0)


@dataclass(slots=True)
class RemittanceGroup:
    key: str
    corridor: str | None = None
    rail: str | None = None
    month: str | None = None
    counterparty: str | None = None
    count: int = 0
    completed: int = 0
    failed: int = 0
    cancelled: int = 0
    returned: int = 0
    in_progress: int = 0
    unpriced: int = 0
    sent: dict[str, int] = field(default_factory=dict)  # currency -> minor, as sent
    costs: list[TransferCost] = field(default_factory=list)
    durations: list[float] = field(default_factory=list)

    def money_sent(self) -> list[Money]:
        return [Money(m, c) for c, m in sorted(self.sent.items())]

    def _tjs(self, value: Decimal) -> Money:
        return Money(int(value.scaleb(exponent(fx.HOME)).to_integral_value(ROUND_HALF_EVEN)), "TJS")

    @property
    def sent_tjs(self) -> Money:
        return self._tjs(sum((c.sent for c in self.costs), Decimal(0)))

    @property
    def received_tjs(self) -> Money:
        return self._tjs(sum((c.received for c in self.costs), Decimal(0)))

    @property
    def fees_tjs(self) -> Money:
        return self._tjs(sum((c.fee for c in self.costs), Decimal(0)))

    @property
    def fx_margin_tjs(self) -> Money:
        return self._tjs(sum((c.margin for c in self.costs), Decimal(0)))

    @property
    def total_cost_percent(self) -> Decimal | None:
        sent = sum((c.sent for c in self.costs), Decimal(0))
        if not sent:
            return None
        cost = sum((c.fee + c.margin for c in self.costs), Decimal(0))
        return (cost / sent * HUNDRED).quantize(CENT, ROUND_HALF_EVEN)

    @property
    def average_cost_percent(self) -> Decimal | None:
        if not self.costs:
            return None
        mean = sum((c.cost_percent for c in self.costs), Decimal(0)) / len(self.costs)
        return mean.quantize(CENT, ROUND_HALF_EVEN)

    @property
    def median_completion_seconds(self) -> int | None:
        if not self.durations:
            return None
        return int(Decimal(str(median(self.durations))).to_integral_value(ROUND_HALF_EVEN))


def legs(row: TransferRow) -> tuple[Money, Money]:
    """(sent, received) of a transfer; a missing other leg is the same amount."""
    if row.direction == "INBOUND":
        return (row.source_amount or row.amount), row.amount
    return row.amount, (row.destination_amount or row.amount)


def price(row: TransferRow, book: fx.RateBook, day: date) -> TransferCost | None:
    """The transfer valued in TJS at NBT's rate of `day`; None without a needed rate."""
    sent, received = legs(row)
    fee = row.fee or Money.zero(sent.currency)

    def value(money: Money) -> Decimal | None:
        if money.currency == fx.HOME:
            return money.amount
        rate = book.on(money.currency, day)
        return None if rate is None else money.amount * rate.rate

    values = [value(sent), value(received), value(fee) if fee.minor else Decimal(0)]
    if any(v is None for v in values):
        return None
    s, r, f = (v for v in values if v is not None)
    if sent.currency == received.currency:
        r = s  # one currency: no exchange, no margin
    return TransferCost(sent=s, received=r, fee=f)


def _group_key(row: TransferRow, group_by: str, day: date) -> tuple[str, dict[str, str | None]]:
    if group_by == "MONTH":
        month = f"{day:%Y-%m}"
        return month, {"month": month}
    if group_by == "COUNTERPARTY":
        name = row.counterparty_name or ""
        return name, {"counterparty": name or None}
    corridor = row.corridor or ""
    return f"{corridor} {row.rail}".strip(), {"corridor": row.corridor, "rail": row.rail}


def _duration(row: TransferRow, events: Sequence[tuple[str, datetime]]) -> float | None:
    start = min((at for _, at in events), default=row.initiated_at)
    done = [at for status, at in events if status == "COMPLETED"]
    end = done[0] if done else row.completed_at
    if end is None:
        return None
    return max(0.0, (end - start).total_seconds())


async def remittance_summary(
    session: AsyncSession,
    account_ids: Sequence[int],
    date_from: date,
    date_to: date,
    *,
    group_by: str,
) -> list[RemittanceGroup]:
    """Cross-border transfers (a corridor, or a cross-border rail) of `account_ids` created
    in `[date_from, date_to]` (Dushanbe days), grouped; largest amount sent first."""
    if group_by not in GROUPINGS:
        raise ValueError(f"unknown grouping {group_by!r}")
    if not account_ids:
        return []
    stmt = (
        select(*TRANSFER.columns)
        .where(
            TRANSFERS.c.account_id.in_(account_ids),
            TRANSFERS.c.initiated_at >= bank_day_start(date_from),
            TRANSFERS.c.initiated_at < bank_day_start(date_to + timedelta(days=1)),
            or_(TRANSFERS.c.corridor.is_not(None), TRANSFERS.c.rail.in_(CROSS_BORDER_RAILS)),
        )
        .order_by(TRANSFERS.c.initiated_at, TRANSFERS.c.id)
    )
    rows = await fetch(session, stmt, TRANSFER)
    if not rows:
        return []
    events: dict[int, list[tuple[str, datetime]]] = defaultdict(list)
    ids = [r.id for r in rows]
    for start in range(0, len(ids), 1000):
        found = await session.execute(
            select(EVENTS.c.transfer_id, EVENTS.c.status, EVENTS.c.at)
            .where(and_(EVENTS.c.transfer_id.in_(ids[start : start + 1000])))
            .order_by(EVENTS.c.transfer_id, EVENTS.c.at, EVENTS.c.id)
        )
        for transfer_id, status, at in found.all():
            events[transfer_id].append((status, at))
    currencies = sorted(
        {m.currency for r in rows for m in (*legs(r), r.fee) if m is not None} - {fx.HOME}
    )
    book = await fx.rate_book(session, fx.HOME, currencies, date_to)

    groups: dict[str, RemittanceGroup] = {}
    for row in rows:
        day = row.initiated_at.astimezone(BANK_TIMEZONE).date()
        key, facets = _group_key(row, group_by, day)
        group = groups.get(key)
        if group is None:
            group = groups[key] = RemittanceGroup(key=key, **facets)  # type: ignore[arg-type]
        group.count += 1
        status = row.status
        if status in ENDED_BADLY:
            setattr(group, status.lower(), getattr(group, status.lower()) + 1)
            continue
        if status != "COMPLETED":
            group.in_progress += 1
            continue
        group.completed += 1
        sent, _ = legs(row)
        group.sent[sent.currency] = group.sent.get(sent.currency, 0) + sent.minor
        cost = price(row, book, day)
        if cost is None:
            group.unpriced += 1
        else:
            group.costs.append(cost)
        took = _duration(row, events.get(row.id, []))
        if took is not None:
            group.durations.append(took)
    return sorted(groups.values(), key=lambda g: (-g.sent_tjs.minor, g.key))


def overall(groups: Sequence[RemittanceGroup]) -> RemittanceGroup:
    """All groups as one (the same transfers, whatever the grouping)."""
    total = RemittanceGroup(key="")
    for g in groups:
        for name in ("count", "completed", "failed", "cancelled", "returned"):
            setattr(total, name, getattr(total, name) + getattr(g, name))
        total.in_progress += g.in_progress
        total.unpriced += g.unpriced
        for currency, minor in g.sent.items():
            total.sent[currency] = total.sent.get(currency, 0) + minor
        total.costs.extend(g.costs)
        total.durations.extend(g.durations)
    return total
