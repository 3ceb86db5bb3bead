"""Booked rows the bank changes, removes or adds after the fact, over a lazy history.

`RevisedHistory` wraps an `AccountHistory` (the generated rows, left untouched) with an
override map: rows replaced in place, rows removed, and rows inserted (own-account
transfer legs, a row moved by a changed date, a pending row booked on its own). The map is
applied whenever rows are served, from a lazily generated block or from the tail, so a
change deep in a million-row history costs no more than the page that shows it.

The bank stays self-consistent: a served booked row's new balance is the generated one
shifted by every override before it (a removal takes its amount out, a change its
difference, an insertion adds its amount), so the chain holds and the booked balance is
the last new balance. With no override the wrapper only delegates.
"""

from __future__ import annotations

import heapq
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from operator import itemgetter

from connectors.sandbox.builders import own_account_transfer
from connectors.sandbox.data import AccountGenerator, booked_row, settle_events
from connectors.sandbox.history import AccountHistory
from connectors.sandbox.ids import uuid_from
from connectors.sandbox.models import BOOKED, PENDING, Account, Party, Transaction, Transfer

PENDING_LINK = "PENDING_TRANSACTION_ID"
# A pending row's transfer starts at most hours before it; stop looking a week back.
_TRANSFER_LOOKBACK = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class Revision:
    """One change the bank made to a row it had already booked."""

    transaction_id: str
    kind: str  # CHANGED | REMOVED
    before: Transaction
    after: Transaction | None  # None when removed
    at: datetime


def _key(transaction: Transaction) -> tuple[datetime, str]:
    return transaction.posted, transaction.id


class RevisedHistory:
    def __init__(self, inner: AccountHistory) -> None:
        self.inner = inner
        # Generated rows changed in place: id -> (as generated, as the bank holds it now).
        self._replaced: dict[str, tuple[Transaction, Transaction]] = {}
        self._removed: dict[str, Transaction] = {}  # generated rows no longer served
        self._inserted: dict[str, Transaction] = {}  # rows the generator never made
        self._unlinked: set[str] = set()  # booked rows served without PENDING_LINK
        self._settled: dict[str, Transfer] = {}  # transfers completed by a partial booking
        self.revisions: list[Revision] = []

    @property
    def account_id(self) -> str:
        return self.inner.account_id

    @property
    def generator(self) -> AccountGenerator:
        return self.inner.generator

    @property
    def generated_blocks(self) -> int:
        return self.inner.generated_blocks

    def _active(self) -> bool:
        return bool(self._replaced or self._removed or self._inserted or self._unlinked)

    # positions --------------------------------------------------------------------------

    def _locate(self, key: tuple[datetime, str]) -> int:
        """How many generated rows sort before `key` in (posted, id) order."""
        position = self.inner.bisect(key[0])
        while position < len(self.inner):
            row = self.inner.slice(position, position + 1)[0]
            if _key(row) >= key:
                break
            position += 1
        return position

    def _layout(self) -> tuple[list[int], list[Transaction], list[int]]:
        """Removed generated positions, inserted rows in order, and where each goes."""
        removed = sorted(self._locate(_key(t)) for t in self._removed.values())
        inserted = sorted(self._inserted.values(), key=_key)
        return removed, inserted, [self._locate(_key(t)) for t in inserted]

    # balances ---------------------------------------------------------------------------

    def _shift(self, key: tuple[datetime, str]) -> int:
        """What the overrides before `key` (and an in-place change at it) add to the
        generated new balance there."""
        shift = 0
        for old in self._removed.values():
            if old.status == BOOKED and _key(old) < key:
                shift -= old.amount_minor
        for old, new in self._replaced.values():
            if _key(old) <= key:
                shift += new.amount_minor - old.amount_minor
        for extra in self._inserted.values():
            if extra.status == BOOKED and _key(extra) < key:
                shift += extra.amount_minor
        return shift

    def opening_balance(self) -> int:
        """The booked balance before the account's first transaction: what its history
        starts from. Changes and reversals of rows never move it."""
        return self.generator.planned_balance(0)

    def earliest_booked(self) -> Transaction | None:
        """The account's first booked transaction as served now."""
        position = 0
        while position < len(self):
            for row in self.slice(position, position + 16):
                if row.status == BOOKED:
                    return row
            position += 16
        return None

    def _original(self, transaction_id: str) -> Transaction:
        """The row as the generator made it."""
        found = self.inner.find(transaction_id)
        assert found is not None
        return found

    def _generated_balance_before(self, key: tuple[datetime, str]) -> int:
        position = self._locate(key)
        while position > 0:
            row = self.inner.slice(position - 1, position)[0]
            if row.new_balance_minor is not None:
                return row.new_balance_minor
            position -= 1
        return self.generator.planned_balance(0)

    def _present(self, row: Transaction, *, inserted: bool = False) -> Transaction:
        """A generated (or inserted) row as the bank serves it now."""
        if inserted:
            if row.status == BOOKED:
                key = _key(row)
                balance = self._generated_balance_before(key) + self._shift(key)
                row = replace(row, new_balance_minor=balance + row.amount_minor)
        else:
            row = self._replaced[row.id][1] if row.id in self._replaced else row
            if row.new_balance_minor is not None and self._active():
                balance = row.new_balance_minor + self._shift(_key(row))
                row = replace(row, new_balance_minor=balance)
        if row.id in self._unlinked:
            kept = tuple(a for a in row.attributes if a[0] != PENDING_LINK)
            row = replace(row, attributes=kept)
        return row

    def booked_balance(self) -> int:
        total = self.inner.booked_balance()
        total -= sum(t.amount_minor for t in self._removed.values() if t.status == BOOKED)
        total += sum(new.amount_minor - old.amount_minor for old, new in self._replaced.values())
        return total + sum(t.amount_minor for t in self._inserted.values() if t.status == BOOKED)

    def pending(self) -> list[Transaction]:
        return [t for t in self.inner.pending() if t.id not in self._removed]

    def held(self) -> int:
        return sum(max(0, -t.amount_minor) for t in self.pending())

    def available_balance(self) -> int:
        return self.booked_balance() - self.held()

    # the sequence -----------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.inner) - len(self._removed) + len(self._inserted)

    def slice(self, start: int, stop: int) -> list[Transaction]:
        """Rows [start, stop) in (posted, id) order, overrides applied."""
        if not self._active():
            return self.inner.slice(start, stop)
        start, stop = max(0, start), min(len(self), stop)
        if start >= stop:
            return []
        removed, inserted, places = self._layout()
        gone = set(removed)
        # A generated row at position i is served at i - (removed before) + (inserted
        # before), so the rows served in [start, stop) lie in this generated range.
        low = max(0, start - len(inserted))
        high = min(len(self.inner), stop + len(removed))
        served: list[tuple[int, Transaction]] = []
        for position, row in enumerate(self.inner.slice(low, high), low):
            index = position - bisect_left(removed, position) + bisect_right(places, position)
            if position not in gone and start <= index < stop:
                served.append((index, self._present(row)))
        for rank, (row, place) in enumerate(zip(inserted, places, strict=True)):
            index = place - bisect_left(removed, place) + rank
            if start <= index < stop:
                served.append((index, self._present(row, inserted=True)))
        served.sort(key=itemgetter(0))
        return [row for _, row in served]

    def __iter__(self) -> Iterator[Transaction]:
        if not self._active():
            yield from self.inner
            return
        generated = (self._present(t) for t in self.inner if t.id not in self._removed)
        inserted = (
            self._present(t, inserted=True) for t in sorted(self._inserted.values(), key=_key)
        )
        yield from heapq.merge(generated, inserted, key=_key)

    def bisect(self, moment: datetime, *, right: bool = False) -> int:
        """Index of the first row posted at or after `moment` (after it, if right)."""
        before = self.inner.bisect(moment, right=right)
        if not self._active():
            return before

        def earlier(row: Transaction) -> bool:
            return row.posted <= moment if right else row.posted < moment

        before -= sum(1 for t in self._removed.values() if earlier(t))
        return before + sum(1 for t in self._inserted.values() if earlier(t))

    def served(self, transaction_id: str) -> Transaction:
        found = self.find(transaction_id)
        assert found is not None
        return found

    def find(self, transaction_id: str) -> Transaction | None:
        extra = self._inserted.get(transaction_id)
        if extra is not None:
            return self._present(extra, inserted=True)
        if transaction_id in self._removed:
            return None
        found = self.inner.find(transaction_id)
        return None if found is None else self._present(found)

    # transfers --------------------------------------------------------------------------

    def transfers(self) -> Iterator[Transfer]:
        return (self._settled.get(t.id, t) for t in self.inner.transfers())

    def transfers_page(self, offset: int, limit: int | None) -> list[Transfer]:
        return [self._settled.get(t.id, t) for t in self.inner.transfers_page(offset, limit)]

    # changes ----------------------------------------------------------------------------

    def next_moment(self, now: datetime) -> datetime:
        """`now`, but strictly after every row, so a new row is the newest."""
        last = self.slice(len(self) - 1, len(self))
        floor = last[0].posted + timedelta(seconds=1) if last else self.generator.as_of
        return max(now.replace(microsecond=0), floor)

    def remove(self, transaction_id: str) -> Transaction | None:
        """A reversal in the generated rows (the mid_read_removals fault)."""
        if transaction_id in self._inserted.keys() | self._replaced.keys() | self._removed.keys():
            return None
        return self.inner.remove(transaction_id)

    def append(self, count: int, now: Callable[[], datetime]) -> list[Transaction]:
        return [self._present(t) for t in self.inner.append(count, now)]

    def insert(self, row: Transaction) -> Transaction:
        """Add a row the generator never made (an own-account transfer leg)."""
        if self.find(row.id) is not None:
            raise ValueError(f"transaction {row.id} already exists on this account")
        self._inserted[row.id] = row
        return self._present(row, inserted=True)

    def change_booked(
        self,
        transaction_id: str,
        at: datetime,
        *,
        amount_minor: int | None = None,
        posted: datetime | None = None,
        counterparty: Party | None = None,
        description: str | None = None,
    ) -> Transaction:
        """Change a booked row; a new date moves it (and the balances between)."""
        before = self._booked(transaction_id)
        changes: dict[str, object] = {}
        if amount_minor is not None:
            changes["amount_minor"] = amount_minor
        if posted is not None:
            changes["posted"] = changes["completed"] = posted.replace(microsecond=0)
        if counterparty is not None:
            changes["counterparty"] = counterparty
        if description is not None:
            changes["description"] = description
        if not changes:
            raise ValueError(
                "nothing to change: give amount_minor, posted, counterparty or description"
            )
        after = replace(before, **changes)  # type: ignore[arg-type]
        if after.posted == before.posted and transaction_id not in self._inserted:
            # Kept with the generated balance: serving adds the shift, this change's included.
            original = self._original(transaction_id)
            stored = replace(after, new_balance_minor=original.new_balance_minor)
            self._replaced[transaction_id] = (original, stored)
        else:
            self._drop(transaction_id)
            self._inserted[transaction_id] = after
        served = self.served(transaction_id)
        self.revisions.append(Revision(transaction_id, "CHANGED", before, served, at))
        return served

    def remove_booked(self, transaction_id: str, at: datetime) -> Transaction:
        """Take a booked row away, as a bank reversing it silently does."""
        before = self._booked(transaction_id)
        self._drop(transaction_id)
        self.revisions.append(Revision(transaction_id, "REMOVED", before, None, at))
        return before

    def _booked(self, transaction_id: str) -> Transaction:
        found = self.find(transaction_id)
        if found is None:
            raise KeyError(transaction_id)
        if found.status != BOOKED:
            raise ValueError(f"transaction {transaction_id} is not booked")
        return found

    def _drop(self, transaction_id: str) -> None:
        """Stop serving a row (as it is now), wherever it came from."""
        if self._inserted.pop(transaction_id, None) is not None:
            return
        self._replaced.pop(transaction_id, None)
        self._removed[transaction_id] = self._original(transaction_id)

    def book_pending(
        self,
        now: Callable[[], datetime],
        only: Collection[str] | None = None,
        *,
        link: bool = True,
    ) -> list[tuple[str, Transaction]]:
        """Book pending rows (all, or those in `only`) under new ids, dated now. Without
        `link`, the booked rows do not say which pending row they replace."""
        pending = self.pending()
        unknown = set(only or ()) - {t.id for t in pending}
        if unknown:
            raise ValueError(f"not pending here: {', '.join(sorted(unknown))}")
        if only is None and not any(t.status == PENDING for t in self._removed.values()):
            booked = [(old, self._present(new)) for old, new in self.inner.book_pending(now)]
        else:
            chosen = [t for t in pending if only is None or t.id in only]
            booked = self._book_here(chosen, self.next_moment(now()))
        if not link:
            self._unlinked.update(new.id for _, new in booked)
            booked = [(old, self.served(new.id)) for old, new in booked]
        return booked

    def _book_here(
        self, chosen: list[Transaction], when: datetime
    ) -> list[tuple[str, Transaction]]:
        """Book some pending rows through the override map (the others stay pending)."""
        renamed: dict[str, str] = {}
        for offset, old in enumerate(chosen):
            moment = when + timedelta(seconds=offset)
            attributes = (
                *((n, BOOKED if n == "STATUS" else v) for n, v in old.attributes),
                (PENDING_LINK, old.id),
            )
            new = replace(
                old,
                id=uuid_from(self.generator.seed, self.account_id, "booked", old.id),
                posted=moment,
                completed=moment,
                status=BOOKED,
                attributes=attributes,
            )
            self._removed[old.id] = old
            self._inserted[new.id] = new
            renamed[old.id] = new.id
            self._settle(old, moment, renamed)
        return [
            (old_id, self._present(self._inserted[new_id], inserted=True))
            for old_id, new_id in renamed.items()
        ]

    def _settle(self, old: Transaction, when: datetime, renamed: dict[str, str]) -> None:
        """Rename the booked row in its transfer; complete the transfer once none of its
        rows is pending any more."""
        transfer_id = old.attribute("TRANSFER_ID")
        if transfer_id is None:
            return
        for transfer in self.transfers():
            if transfer.start_date < old.posted - _TRANSFER_LOOKBACK:
                return
            if transfer.id == transfer_id:
                break
        else:
            return
        ids = tuple(renamed.get(i, i) for i in transfer.transaction_ids)
        still_pending = {t.id for t in self.pending()} & set(ids)
        if still_pending:
            self._settled[transfer.id] = replace(transfer, transaction_ids=ids)
            return
        history = settle_events(transfer, when)
        self._settled[transfer.id] = replace(
            transfer,
            status="COMPLETED",
            end_date=history[-1].at,
            history=history,
            transaction_ids=ids,
        )


def own_transfer(
    debit_side: RevisedHistory,
    credit_side: RevisedHistory,
    source: Account,
    target: Account,
    amount_minor: int,
    ids: tuple[str, str],
    now: datetime,
) -> tuple[Transaction, Transaction]:
    """Book both legs of a transfer between two accounts of one customer, dated now."""
    if source.id == target.id or source.owner != target.owner:
        raise ValueError("an own-account transfer needs two accounts of one customer")
    if source.currency != target.currency:
        raise ValueError("an own-account transfer needs two accounts in one currency")
    available = debit_side.available_balance()
    if isinstance(amount_minor, bool) or not isinstance(amount_minor, int):
        raise ValueError("amount_minor must be an integer")
    if not 1 <= amount_minor <= available:
        raise ValueError(f"amount_minor must be in 1..{available} (the available balance)")
    when = max(debit_side.next_moment(now), credit_side.next_moment(now))
    debit, credit = own_account_transfer(source, target, amount_minor)
    return (
        debit_side.insert(booked_row(source, ids[0], when, debit)),
        credit_side.insert(booked_row(target, ids[1], when, credit)),
    )
