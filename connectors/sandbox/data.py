"""The deterministic, lazy transaction generator: one `AccountGenerator` per account.

An account's history is cut into blocks of `block_size` transactions. Block b owns a fixed
slice of time and runs from a *planned* balance S(b) to S(b + 1), both pure functions of
(seed, account, b). So any block can be generated alone, from its own random stream,
without touching the blocks before it: a page at offset N costs one or two blocks, not N
transactions. Inside a block the random walk is steered towards S(b + 1) and the last
transaction (a cash deposit or withdrawal at the branch) lands on it exactly.

After the history come the last few days (the "tail"), small and generated eagerly: they
hold the pending transactions. Balances are integer minor units throughout; every booked
transaction's new balance is the previous one plus its amount, and none goes below zero.
"""

from __future__ import annotations

import math
from calendar import monthrange
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from random import Random

from connectors.sandbox.builders import (
    ALIF_PARTY,
    BUILDERS,
    Draft,
    TransferDraft,
    cash_deposit,
    cash_withdrawal_at_branch,
)
from connectors.sandbox.ids import TransactionIdCodec, rng_for, uuid_from
from connectors.sandbox.models import (
    BOOKED,
    PENDING,
    Account,
    Transaction,
    Transfer,
    TransferEvent,
)
from connectors.sandbox.population import Holding

# Card payments happen 08:00-22:00 in Dushanbe (UTC+5): the generator's clock only runs
# in these "active seconds", which keeps night-time purchases out of the data.
ACTIVE_START = 3 * 3600
ACTIVE_SECONDS = 14 * 3600
TAIL_DAYS = 3
PENDING_WINDOW = timedelta(hours=48)
PENDING_PER_ACCOUNT = 2
DAYS_PER_MONTH = 30.4375

_PENDING_CAPABLE = frozenset(
    {"card", "atm", "service", "p2p_out", "visa_direct", "swift_out", "remittance_in"}
)


@dataclass(slots=True)
class Batch:
    transactions: list[Transaction] = field(default_factory=list)
    transfers: list[Transfer] = field(default_factory=list)
    balance: int = 0  # booked balance after the batch
    held: int = 0  # pending debits outstanding after the batch


class Timeline:
    """Maps "active second" v >= 0 to a UTC moment, strictly increasing."""

    def __init__(self, origin: date) -> None:
        self.origin = datetime.combine(origin, time(), UTC)

    def at(self, v: int) -> datetime:
        day, second = divmod(v, ACTIVE_SECONDS)
        return self.origin + timedelta(days=day, seconds=ACTIVE_START + second)

    def index_of(self, moment: datetime) -> int:
        """The smallest v with at(v) >= moment (negative before the origin)."""
        delta = moment - self.origin
        second = delta.seconds + (1 if delta.microseconds else 0)
        if second <= ACTIVE_START:
            return delta.days * ACTIVE_SECONDS
        if second >= ACTIVE_START + ACTIVE_SECONDS:
            return (delta.days + 1) * ACTIVE_SECONDS
        return delta.days * ACTIVE_SECONDS + second - ACTIVE_START


def months_before(day: date, months: int) -> date:
    year, month0 = divmod(day.year * 12 + day.month - 1 - months, 12)
    return date(year, month0 + 1, min(day.day, monthrange(year, month0 + 1)[1]))


class AccountGenerator:
    """Everything about one account's transactions that can be computed, lazily."""

    def __init__(
        self,
        seed: int,
        holding: Holding,
        *,
        as_of: datetime,
        months: int,
        total: int | None,
        block_size: int,
    ) -> None:
        self.seed = seed
        self.holding = holding
        self.account_id = holding.account.id
        self.as_of = as_of
        self.block_size = block_size
        self.codec = TransactionIdCodec(seed, self.account_id)
        kinds = holding.profile.kinds
        monthly = sum(k.weight for k in kinds)
        self._credit_share = sum(k.weight for k in kinds if k.credit) / monthly
        self._candidates = {
            (credit, pair, pending): [
                k
                for k in kinds
                if k.credit == credit
                and (pair or k.fee is None)
                and (not pending or k.builder in _PENDING_CAPABLE)
            ]
            for credit in (False, True)
            for pair in (False, True)
            for pending in (False, True)
        }

        history_end = as_of.date() - timedelta(days=TAIL_DAYS)
        days = max(1, (history_end - months_before(as_of.date(), months)).days)
        realistic_tail = max(1, round(monthly * TAIL_DAYS / DAYS_PER_MONTH)) + PENDING_PER_ACCOUNT
        if total is None:
            jitter = rng_for(seed, self.account_id, "volume").uniform(0.9, 1.1)
            self.tail_count = realistic_tail
            self.history_count = round(monthly * days / DAYS_PER_MONTH * jitter)
        else:
            self.tail_count = min(realistic_tail, total // 4)
            self.history_count = total - self.tail_count
            # At most one transaction per two active seconds: stretch the history if needed.
            days = max(days, math.ceil(2 * self.history_count / ACTIVE_SECONDS))
        self.pending_count = min(PENDING_PER_ACCOUNT, self.tail_count)
        self.timeline = Timeline(history_end - timedelta(days=days))
        self.history_span = days * ACTIVE_SECONDS
        self.block_count = math.ceil(self.history_count / block_size)

    # geometry ---------------------------------------------------------------------------

    def block_bounds(self, block: int) -> tuple[int, int]:
        """[start, stop) transaction indexes of a block."""
        start = block * self.block_size
        return start, min(start + self.block_size, self.history_count)

    def _window(self, block: int) -> tuple[int, int]:
        span, blocks = self.history_span, self.block_count
        return span * block // blocks, span * (block + 1) // blocks

    def block_start(self, block: int) -> datetime:
        """No transaction of `block` is earlier, none of `block - 1` is this late."""
        return self.timeline.at(self._window(block)[0])

    def planned_balance(self, block: int) -> int:
        """The booked balance before `block` (after the history when block == count)."""
        profile = self.holding.profile
        raw = rng_for(self.seed, self.account_id, "balance", block).randint(
            profile.balance_lo, profile.balance_hi
        )
        # Alternating parity: neighbouring blocks never plan the same balance, so even a
        # one-transaction block has a non-zero amount to land on.
        return raw - raw % 2 + block % 2

    @property
    def history_end_balance(self) -> int:
        return self.planned_balance(self.block_count)

    # generation -------------------------------------------------------------------------

    def block(self, block: int) -> Batch:
        start, stop = self.block_bounds(block)
        low, high = self._window(block)
        target = (self.planned_balance(block), self.planned_balance(block + 1))
        attempt = 0
        while True:
            rng = rng_for(self.seed, self.account_id, "block", block, attempt)
            moments = sorted(rng.sample(range(low, high), stop - start))
            times = [self.timeline.at(v) for v in moments]
            batch = self._fill(
                rng, times, lambda i: self.codec.encode(start + i), target[0], 0, target=target
            )
            if batch is not None:
                return batch
            attempt += 1  # the walk ended exactly on target before the last slot

    def tail(self) -> Batch:
        """The last days before `as_of`, pending transactions included."""
        rng = rng_for(self.seed, self.account_id, "tail")
        low, high = self.history_span, self.timeline.index_of(self.as_of)
        moments = sorted(rng.sample(range(low, high), min(self.tail_count, high - low)))
        times = [self.timeline.at(v) for v in moments]
        cutoff = self.as_of - PENDING_WINDOW
        eligible = [i for i, moment in enumerate(times) if moment >= cutoff]
        chosen = set(rng.sample(eligible, min(self.pending_count, len(eligible))))
        batch = self._fill(
            rng,
            times,
            lambda i: uuid_from(self.seed, self.account_id, "tail", i),
            self.history_end_balance,
            0,
            pending=[i in chosen for i in range(len(times))],
        )
        assert batch is not None
        failed = self._failed_transfer(rng, self.timeline.at(rng.randrange(low, high)))
        if failed is not None:
            batch.transfers.append(failed)
        return batch

    def appended(self, sequence: int, times: list[datetime], balance: int, held: int) -> Batch:
        """New booked transactions at `times` (the admin "add-transactions" hook)."""
        rng = rng_for(self.seed, self.account_id, "extra", sequence)
        batch = self._fill(
            rng,
            times,
            lambda i: uuid_from(self.seed, self.account_id, "extra", sequence + i),
            balance,
            held,
        )
        assert batch is not None
        return batch

    def _failed_transfer(self, rng: Random, when: datetime) -> Transfer | None:
        """One rejected outbound transfer, which never moved money."""
        kinds = [k for k in self.holding.profile.kinds if k.builder in ("p2p_out", "visa_direct")]
        if not kinds:
            return None
        kind = rng.choice(kinds)
        draft = BUILDERS[kind.builder](self.holding, kind, rng, when)
        assert draft.transfer is not None
        events = (
            TransferEvent("CREATED", when),
            TransferEvent(
                "FAILED", when + timedelta(seconds=4), "Карта получателя отклонила перевод"
            ),
        )
        return self._transfer(
            uuid_from(self.seed, self.account_id, "failed-transfer"),
            draft,
            "FAILED",
            events,
            (),
        )

    # the random walk --------------------------------------------------------------------

    def _credit_odds(
        self, balance: int, step: int, steps: int, target: tuple[int, int] | None
    ) -> float:
        if target is None:
            return self._credit_share
        goal = target[0] + (target[1] - target[0]) * (step + 1) // steps
        return max(self._credit_share, 0.6) if balance < goal else self._credit_share / 2

    def _draft(
        self, rng: Random, when: datetime, credit: bool, pair: bool, available: int, pending: bool
    ) -> tuple[Draft, bool]:
        kinds = (
            self._candidates[(credit, pair, pending)]
            or self._candidates[(not credit, pair, pending)]
        )
        if not kinds:  # nothing of this account can be pending in this slot
            pending = False
            kinds = self._candidates[(credit, pair, False)]
        kind = rng.choices(kinds, weights=[k.weight for k in kinds])[0]
        draft = BUILDERS[kind.builder](self.holding, kind, rng, when)
        if draft.cost > available:
            # Never below zero: an unaffordable payment becomes a booked credit.
            credits = self._candidates[(True, pair, False)]
            kind = rng.choices(credits, weights=[k.weight for k in credits])[0]
            return BUILDERS[kind.builder](self.holding, kind, rng, when), False
        return draft, pending

    def _fill(
        self,
        rng: Random,
        times: list[datetime],
        ids: Callable[[int], str],
        balance: int,
        held: int,
        *,
        pending: list[bool] | None = None,
        target: tuple[int, int] | None = None,
    ) -> Batch | None:
        """Transactions for `times`, one each, starting from `balance`.

        With a `target`, the last slot is a branch deposit or withdrawal landing exactly on
        target[1]; None when that would need a zero amount (the caller retries).
        """
        out = Batch(balance=balance, held=held)
        slots = len(times)
        last = slots - 1 if target is not None else slots
        j = 0
        while j < last:
            in_pending = bool(pending and pending[j])
            pair = j + 1 < last and (not pending or pending[j + 1] == in_pending)
            credit = rng.random() < self._credit_odds(out.balance, j, slots, target)
            draft, is_pending = self._draft(
                rng, times[j], credit, pair, out.balance - out.held, in_pending
            )
            fee_when = None
            if draft.fee:
                fee_when = min(times[j] + timedelta(seconds=rng.randint(1, 5)), times[j + 1])
            self._emit(out, draft, times[j], ids(j), fee_when, ids(j + 1), is_pending)
            j += 2 if draft.fee else 1
        if target is not None:
            needed = target[1] - out.balance
            if needed == 0:
                return None
            draft = (
                cash_deposit(self.holding, needed)
                if needed > 0
                else cash_withdrawal_at_branch(-needed)
            )
            self._emit(out, draft, times[-1], ids(slots - 1), None, "", False)
        return out

    def _emit(
        self,
        out: Batch,
        draft: Draft,
        when: datetime,
        tx_id: str,
        fee_when: datetime | None,
        fee_id: str,
        pending: bool,
    ) -> None:
        transfer_id = uuid_from(self.seed, "transfer", tx_id) if draft.transfer else None
        linked = (("TRANSFER_ID", transfer_id),) if transfer_id else ()
        ids = [self._transaction(out, tx_id, when, draft, linked, pending)]
        if fee_when is not None:
            fee = Draft(-draft.fee, "FEE", "fees", draft.fee_summary, ALIF_PARTY)
            ids.append(self._transaction(out, fee_id, fee_when, fee, linked, pending))
        if draft.transfer is not None and transfer_id is not None:
            events = self._transfer_events(draft.transfer, when, pending)
            status = "PENDING" if pending else "COMPLETED"
            out.transfers.append(self._transfer(transfer_id, draft, status, events, tuple(ids)))

    def _transaction(
        self,
        out: Batch,
        tx_id: str,
        when: datetime,
        draft: Draft,
        linked: tuple[tuple[str, str], ...],
        pending: bool,
    ) -> str:
        head = attribute_head(PENDING if pending else BOOKED, draft)
        if pending:
            out.held += max(0, -draft.amount)
            new_balance = None
        else:
            out.balance += draft.amount
            new_balance = out.balance
        out.transactions.append(
            Transaction(
                id=tx_id,
                account_id=self.account_id,
                posted=when,
                completed=None if pending else when,
                amount_minor=draft.amount,
                currency=self.holding.account.currency,
                new_balance_minor=new_balance,
                status=PENDING if pending else BOOKED,
                type=draft.type,
                description=draft.description,
                counterparty=draft.counterparty,
                attributes=(*head, *draft.attributes, *linked),
            )
        )
        return tx_id

    def _transfer_events(
        self, draft: TransferDraft, when: datetime, pending: bool
    ) -> tuple[TransferEvent, ...]:
        """The status history of a transfer whose money moved (or is held) at `when`."""
        if draft.direction == "INBOUND":
            created = when - timedelta(seconds=draft.lead_seconds)
            money_transfer = draft.rail == "MONEY_TRANSFER_SYSTEM"
            accepted = f"Перевод принят: {draft.counterparty.bank}" if money_transfer else None
            events = [TransferEvent("CREATED", created, accepted)]
            if money_transfer:
                events.append(TransferEvent("SENT", created + timedelta(seconds=60)))
                if pending:
                    note = "Дополнительная проверка данных получателя"
                    events.append(TransferEvent("ON_HOLD", created + timedelta(seconds=120), note))
                else:
                    events.append(
                        TransferEvent("AVAILABLE_FOR_PAYOUT", when - timedelta(seconds=1))
                    )
            if not pending:
                events.append(TransferEvent("COMPLETED", when, "Зачислен на счёт"))
            return tuple(events)
        events = [TransferEvent("CREATED", when)]
        if pending:
            events.append(TransferEvent("PENDING", when, "Ожидает подтверждения"))
        else:
            if draft.settle_seconds:
                events.append(TransferEvent("SENT", when))
            done = min(when + timedelta(seconds=draft.settle_seconds), self.as_of)
            events.append(TransferEvent("COMPLETED", max(done, when)))
        return tuple(events)

    def _transfer(
        self,
        transfer_id: str,
        draft: Draft,
        status: str,
        events: tuple[TransferEvent, ...],
        transaction_ids: tuple[str, ...],
    ) -> Transfer:
        td = draft.transfer
        assert td is not None
        final = status in ("COMPLETED", "FAILED")
        return Transfer(
            id=transfer_id,
            account_id=self.account_id,
            type=td.type,
            rail=td.rail,
            direction=td.direction,
            status=status,
            start_date=events[0].at,
            end_date=events[-1].at if final else None,
            currency=self.holding.account.currency,
            amount_minor=abs(draft.amount),
            fee_minor=0 if status == "FAILED" else draft.fee,
            fee_summary=draft.fee_summary,
            foreign_currency=td.foreign_currency,
            foreign_minor=td.foreign_minor,
            fx_rate=td.fx_rate,
            corridor=td.corridor,
            counterparty=td.counterparty,
            description=td.description,
            history=events,
            transaction_ids=transaction_ids,
        )


def attribute_head(status: str, draft: Draft) -> tuple[tuple[str, str], ...]:
    """STATUS, TYPE and CATEGORY: the attributes every transaction starts with."""
    head = (("STATUS", status), ("TYPE", draft.type))
    return (*head, ("CATEGORY", draft.category)) if draft.category else head


def booked_row(account: Account, tx_id: str, when: datetime, draft: Draft) -> Transaction:
    """A booked transaction made outside the generator; its new balance is left for
    whoever places it in the history to compute."""
    return Transaction(
        id=tx_id,
        account_id=account.id,
        posted=when,
        completed=when,
        amount_minor=draft.amount,
        currency=account.currency,
        new_balance_minor=None,
        status=BOOKED,
        type=draft.type,
        description=draft.description,
        counterparty=draft.counterparty,
        attributes=(*attribute_head(BOOKED, draft), *draft.attributes),
    )


def settle_events(transfer: Transfer, when: datetime) -> tuple[TransferEvent, ...]:
    """A pending transfer's history once its money is booked at `when`."""
    done: tuple[TransferEvent, ...]
    if transfer.rail == "MONEY_TRANSFER_SYSTEM" and transfer.direction == "INBOUND":
        done = (TransferEvent("AVAILABLE_FOR_PAYOUT", when), TransferEvent("COMPLETED", when))
    elif transfer.direction == "INBOUND":
        done = (TransferEvent("COMPLETED", when),)
    else:
        done = (TransferEvent("SENT", when), TransferEvent("COMPLETED", when))
    return transfer.history + done
