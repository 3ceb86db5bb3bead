"""One account's transactions in (posted, id) order: lazy blocks, then an in-memory tail.

Index arithmetic does the paging: transaction i lives in block i // block_size while
i < history_count, and in the tail after that. Only a few blocks are kept (LRU), so
memory stays flat however long the history is.

Transfers per block are not known until a block is generated, so their paging keeps a
count per block (learned as blocks are generated) and running totals from the newest block
back: an offset then maps to (block, index) by bisection, and a page costs its own blocks.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from itertools import accumulate, islice
from operator import attrgetter

from connectors.sandbox.data import AccountGenerator, Batch, settle_events
from connectors.sandbox.ids import uuid_from
from connectors.sandbox.models import BOOKED, PENDING, Transaction, Transfer

_POSTED = attrgetter("posted")
_START_DATE = attrgetter("start_date")
_CACHED_BLOCKS = 8
_UNKNOWN = -1


class AccountHistory:
    def __init__(self, generator: AccountGenerator) -> None:
        self.generator = generator
        tail = generator.tail()
        self._tail: list[Transaction] = tail.transactions
        self._tail_transfers: list[Transfer] = tail.transfers
        self._by_id = {t.id: t for t in self._tail}
        self._blocks: OrderedDict[int, Batch] = OrderedDict()
        self._extra_sequence = 0
        # How many blocks were generated (cache misses); tests assert laziness with it.
        self.generated_blocks = 0
        # Transfers per block (_UNKNOWN until generated once), and running totals over the
        # newest blocks: _newest_totals[r] counts the transfers of the r + 1 newest blocks.
        # Both are a few bytes per block, so they are kept for the whole history.
        self._transfer_counts = array("i", [_UNKNOWN]) * generator.block_count
        self._newest_totals = array("q")
        # The tail's transfers newest first; None when the tail changed since it was sorted.
        self._sorted_tail: list[Transfer] | None = None
        # Reversed (removed) history rows: their sorted indexes in the generated history,
        # and running sums of their amounts, by which every later new_balance shifts down.
        # The tail is rewritten in place instead; empty lists keep the lazy fast paths.
        self._removed: list[int] = []
        self._removed_amounts: list[int] = []
        self._removed_sums: list[int] = []

    @property
    def account_id(self) -> str:
        return self.generator.account_id

    def __len__(self) -> int:
        return self.generator.history_count - len(self._removed) + len(self._tail)

    def _block(self, block: int) -> Batch:
        cached = self._blocks.get(block)
        if cached is not None:
            self._blocks.move_to_end(block)
            return cached
        batch = self.generator.block(block)
        self.generated_blocks += 1
        self._transfer_counts[block] = len(batch.transfers)
        self._blocks[block] = batch
        if len(self._blocks) > _CACHED_BLOCKS:
            self._blocks.popitem(last=False)
        return batch

    def slice(self, start: int, stop: int) -> list[Transaction]:
        """Transactions [start, stop) in ascending order; O(stop - start + block)."""
        start, stop = max(0, start), min(len(self), stop)
        if start >= stop or not self._removed:
            return self._generated_slice(start, stop)
        kept = self.generator.history_count - len(self._removed)
        out: list[Transaction] = []
        if start < kept:
            first, last = self._generated_index(start), self._generated_index(min(stop, kept) - 1)
            rows = self._generated_slice(first, last + 1)
            removed = set(self._removed)
            out.extend(
                self._reversal_shifted(i, t) for i, t in enumerate(rows, first) if i not in removed
            )
        if stop > kept:
            out.extend(self._tail[max(start, kept) - kept : stop - kept])
        return out

    def _generated_index(self, index: int) -> int:
        """Where the `index`-th remaining history row sits in the generated history."""
        for removed in self._removed:
            if removed > index:
                break
            index += 1
        return index

    def _reversal_shifted(self, index: int, transaction: Transaction) -> Transaction:
        """A generated history row with the reversals before it taken out of its balance."""
        before = bisect_left(self._removed, index)
        if not before or transaction.new_balance_minor is None:
            return transaction
        shifted = transaction.new_balance_minor - self._removed_sums[before - 1]
        return replace(transaction, new_balance_minor=shifted)

    def _generated_slice(self, start: int, stop: int) -> list[Transaction]:
        """Rows [start, stop) of the generated history and tail, before any reversal."""
        history = self.generator.history_count
        out: list[Transaction] = []
        position = start
        while position < min(stop, history):
            block = position // self.generator.block_size
            first, last = self.generator.block_bounds(block)
            end = min(stop, last)
            out.extend(self._block(block).transactions[position - first : end - first])
            position = end
        if stop > history:
            out.extend(self._tail[max(start, history) - history : stop - history])
        return out

    def __iter__(self) -> Iterator[Transaction]:
        removed = set(self._removed)
        for block in range(self.generator.block_count):
            first = self.generator.block_bounds(block)[0]
            rows = self._block(block).transactions
            if not removed:
                yield from rows
                continue
            for index, row in enumerate(rows, first):
                if index not in removed:
                    yield self._reversal_shifted(index, row)
        yield from list(self._tail)

    def bisect(self, moment: datetime, *, right: bool = False) -> int:
        """Index of the first transaction posted at or after `moment` (after it, if right)."""
        index = self._generated_bisect(moment, right)
        return index - bisect_left(self._removed, index)

    def _generated_bisect(self, moment: datetime, right: bool) -> int:
        find = bisect_right if right else bisect_left
        gen = self.generator
        # Only the last block starting at or before `moment` can straddle it.
        block = bisect_right(range(gen.block_count), moment, key=gen.block_start) - 1
        if block >= 0:
            first, last = gen.block_bounds(block)
            position = find(self._block(block).transactions, moment, key=_POSTED)
            if first + position < last:
                return first + position
            if last < gen.history_count:
                return last
        elif gen.block_count:
            return 0
        return gen.history_count + find(self._tail, moment, key=_POSTED)

    def find(self, transaction_id: str) -> Transaction | None:
        recent = self._by_id.get(transaction_id)
        if recent is not None:
            return recent
        index = self._history_index(transaction_id)
        if index is None:
            return None
        block = index // self.generator.block_size
        row = self._block(block).transactions[index - self.generator.block_bounds(block)[0]]
        return self._reversal_shifted(index, row)

    def _history_index(self, transaction_id: str) -> int | None:
        """The generated-history index an id encodes, unless absent or reversed."""
        index = self.generator.codec.decode(transaction_id)
        if index is None or index >= self.generator.history_count:
            return None
        position = bisect_left(self._removed, index)
        if position < len(self._removed) and self._removed[position] == index:
            return None
        return index

    # balances -----------------------------------------------------------------------------

    def booked_balance(self) -> int:
        """The last booked transaction's new balance."""
        for transaction in reversed(self._tail):
            if transaction.new_balance_minor is not None:
                return transaction.new_balance_minor
        reversed_total = self._removed_sums[-1] if self._removed_sums else 0
        return self.generator.history_end_balance - reversed_total

    def pending(self) -> list[Transaction]:
        return [t for t in self._tail if t.status == PENDING]

    def held(self) -> int:
        """Pending debits: reserved, not yet booked."""
        return sum(max(0, -t.amount_minor) for t in self.pending())

    def available_balance(self) -> int:
        return self.booked_balance() - self.held()

    # transfers ----------------------------------------------------------------------------

    def transfers(self) -> Iterator[Transfer]:
        """Newest first: the recent days by start date, then the history backwards."""
        yield from sorted(self._tail_transfers, key=_START_DATE, reverse=True)
        for block in reversed(range(self.generator.block_count)):
            yield from reversed(self._block(block).transfers)

    def transfers_page(self, offset: int, limit: int | None) -> list[Transfer]:
        """`transfers()[offset : offset + limit]`, without walking the transfers before
        `offset`: O(limit + a block) once the counts of the newer blocks are known."""
        tail = self._newest_tail()
        page = tail[offset:] if limit is None else tail[offset : offset + limit]
        wanted = None if limit is None else limit - len(page)
        if wanted != 0:
            older = self._history_transfers_from(max(0, offset - len(tail)))
            page.extend(islice(older, wanted))
        return page

    def _history_transfers_from(self, index: int) -> Iterator[Transfer]:
        """The history's transfers newest first, from its `index`-th on."""
        found = self._locate_transfer(index)
        if found is None:
            return
        rank, skip = found
        for block in reversed(range(self.generator.block_count - rank)):
            yield from islice(reversed(self._block(block).transfers), skip, None)
            skip = 0

    def _newest_tail(self) -> list[Transfer]:
        # Sorted once per change of the tail, not per page (appends can make it long).
        if self._sorted_tail is None:
            self._sorted_tail = sorted(self._tail_transfers, key=_START_DATE, reverse=True)
        return self._sorted_tail

    def _locate_transfer(self, index: int) -> tuple[int, int] | None:
        """(rank of the block from the newest, position in its reversed transfers) of the
        history's `index`-th transfer newest first; None past the oldest."""
        totals = self._newest_totals
        while len(totals) < self.generator.block_count and (not totals or totals[-1] <= index):
            # Learn one more block's count: only blocks newer than `index` are generated.
            block = self.generator.block_count - 1 - len(totals)
            totals.append((totals[-1] if totals else 0) + self._transfer_count(block))
        rank = bisect_right(totals, index)
        if rank == len(totals):
            return None
        return rank, index - (totals[rank - 1] if rank else 0)

    def _transfer_count(self, block: int) -> int:
        count = self._transfer_counts[block]
        return len(self._block(block).transfers) if count == _UNKNOWN else count

    # changes (admin hooks) ----------------------------------------------------------------

    def _next_moment(self, now: datetime) -> datetime:
        """`now`, but strictly after every transaction, so the order stays (posted, id)."""
        floor = self._tail[-1].posted + timedelta(seconds=1) if self._tail else self.generator.as_of
        return max(now.replace(microsecond=0), floor)

    def book_pending(self, now: Callable[[], datetime]) -> list[tuple[str, Transaction]]:
        """Book every pending transaction under a new id, dated now, as real banks do."""
        pending = self.pending()
        if not pending:
            return []
        when = self._next_moment(now())
        balance = self.booked_balance()
        booked: list[tuple[str, Transaction]] = []
        for offset, old in enumerate(pending):
            balance += old.amount_minor
            moment = when + timedelta(seconds=offset)
            attributes = (
                *((name, BOOKED if name == "STATUS" else value) for name, value in old.attributes),
                ("PENDING_TRANSACTION_ID", old.id),
            )
            new = replace(
                old,
                id=uuid_from(self.generator.seed, self.account_id, "booked", old.id),
                posted=moment,
                completed=moment,
                new_balance_minor=balance,
                status=BOOKED,
                attributes=attributes,
            )
            booked.append((old.id, new))
        for old in pending:
            del self._by_id[old.id]
        self._tail = [t for t in self._tail if t.status != PENDING] + [n for _, n in booked]
        self._by_id.update((n.id, n) for _, n in booked)
        renamed = {old_id: new for old_id, new in booked}
        self._tail_transfers = [self._settle(t, renamed) for t in self._tail_transfers]
        self._sorted_tail = None
        return booked

    @staticmethod
    def _settle(transfer: Transfer, renamed: dict[str, Transaction]) -> Transfer:
        if not any(i in renamed for i in transfer.transaction_ids):
            return transfer
        booked_at = renamed[transfer.transaction_ids[0]].posted
        history = settle_events(transfer, booked_at)
        return replace(
            transfer,
            status="COMPLETED",
            end_date=history[-1].at,
            history=history,
            transaction_ids=tuple(
                renamed[i].id if i in renamed else i for i in transfer.transaction_ids
            ),
        )

    def append(self, count: int, now: Callable[[], datetime]) -> list[Transaction]:
        """`count` new booked transactions dated now (one second apart)."""
        start = self._next_moment(now())
        times = [start + timedelta(seconds=i) for i in range(count)]
        batch = self.generator.appended(
            self._extra_sequence, times, self.booked_balance(), self.held()
        )
        self._extra_sequence += count
        self._tail.extend(batch.transactions)
        self._tail_transfers.extend(batch.transfers)
        self._sorted_tail = None
        self._by_id.update((t.id, t) for t in batch.transactions)
        return batch.transactions

    def remove(self, transaction_id: str) -> Transaction | None:
        """Reverse a booked row: it leaves the history, and every later new_balance and the
        booked balance shift by its amount, so the account stays self-consistent."""
        found = self.find(transaction_id)
        if found is None or found.status != BOOKED:
            return None
        if transaction_id in self._by_id:
            self._tail.remove(self._by_id.pop(transaction_id))
        else:
            index = self._history_index(transaction_id)
            assert index is not None
            position = bisect_left(self._removed, index)
            self._removed.insert(position, index)
            self._removed_amounts.insert(position, found.amount_minor)
            self._removed_sums = list(accumulate(self._removed_amounts))
        for position, row in enumerate(self._tail):
            if row.new_balance_minor is not None and row.posted > found.posted:
                shifted = row.new_balance_minor - found.amount_minor
                self._tail[position] = replace(row, new_balance_minor=shifted)
        self._by_id.update((t.id, t) for t in self._tail)
        return found
