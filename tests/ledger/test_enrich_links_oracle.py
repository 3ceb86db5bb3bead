"""The link rules' matching (`duplicates.matches`, `own_transfers.pairs`) against the rules
as their docstrings state them, checked over every pair of rows: whatever the matching
skips to be fast (days apart, rows outside the focus, credits no index names), it must
find exactly these links."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

import pytest

from ledger import fx
from ledger.enrich import duplicates, own_transfers
from ledger.enrich.candidates import Candidate

DAY0 = date(2026, 3, 1)
ACCOUNTS = {
    1: ("20202972100049668601", "••••8601", "TJS", 1),
    2: ("20202972100049668602", "••••8602", "TJS", 1),
    3: ("20202972100049668601", "••••8601", "TJS", 2),  # account 1 through another bank
    4: ("20202840100049668604", "••••8604", "USD", 1),
}


def _rows(rng: random.Random, n: int, days: int) -> list[Candidate]:
    rows = []
    for i in range(1, n + 1):
        account = rng.choice(list(ACCOUNTS))
        number, masked, currency, connection = ACCOUNTS[account]
        other = ACCOUNTS[rng.choice(list(ACCOUNTS))]
        amount = rng.choice([5_00, 7_00, 100_00]) * rng.choice([-1, 1])
        rows.append(
            Candidate(
                id=i,
                account_id=account,
                connection_id=connection,
                external_id=rng.choice([f"x{i}", f"x{i}", "shared"]),
                booking_date=DAY0 + timedelta(days=rng.randrange(days)),
                amount_minor=amount if currency == "TJS" else amount // 10,
                currency=currency,
                type=rng.choice(["CARD_PAYMENT", "TRANSFER_OUT", "CURRENCY_EXCHANGE"]),
                description=rng.choice([None, "Перевод", "перевод "]),
                counterparty_name=None,
                counterparty_account=rng.choice([None, None, other[0], other[1], "999"]),
                merchant_name=rng.choice([None, "Tcell", "TCELL", "Babilon-T"]),
                card_external_id=rng.choice([None, "c1"]),
                transfer_external_id=rng.choice([None, None, "t1", "t2"]),
                duplicate_of_id=None,
                not_duplicate=rng.random() < 0.05,
                internal_transfer_leg_id=rng.choice([None] * 15 + [999]),
                account_number=number,
                account_masked=masked,
                account_currency=currency,
            )
        )
    # A few rows already linked as duplicates of earlier ones.
    for k in rng.sample(range(1, len(rows)), min(3, len(rows) - 1)):
        rows[k] = rows[k]._replace(duplicate_of_id=rows[k - 1].id)
    return rows


def _matches_over_every_pair(
    rows: list[Candidate], focus: set[int] | None
) -> list[duplicates.Match]:
    taken = {i for r in rows if r.duplicate_of_id is not None for i in (r.id, r.duplicate_of_id)}
    found = []
    for i, a in enumerate(rows):
        for b in rows[i + 1 :]:
            if (a.amount_minor, a.currency) != (b.amount_minor, b.currency):
                continue
            gap = abs((a.booking_date - b.booking_date).days)
            if gap > duplicates.WINDOW_DAYS or (focus is not None and not {a.id, b.id} & focus):
                continue
            eligible = all(
                not r.not_duplicate and r.internal_transfer_leg_id is None for r in (a, b)
            )
            rule = duplicates.rule_of(a, b)
            if eligible and rule and duplicates.payees_agree(a, b):
                score = duplicates.score_of(rule, a.booking_date, b.booking_date)
                found.append((-score, gap, min(a.id, b.id), max(a.id, b.id), rule, score))
    result = []
    for _, _, earlier, later, rule, score in sorted(found):
        if not {earlier, later} & taken:
            taken |= {earlier, later}
            result.append(duplicates.Match(earlier, later, rule, score))
    return result


def _pairs_over_every_pair(
    rows: list[Candidate], books: dict[str, fx.RateBook], focus: set[int] | None
) -> list[own_transfers.Pair]:
    usable = [r for r in rows if r.duplicate_of_id is None and r.internal_transfer_leg_id is None]
    found = []
    for debit in (r for r in usable if r.amount_minor < 0):
        for credit in (r for r in usable if r.amount_minor > 0):
            if debit.account_id == credit.account_id:
                continue
            if focus is not None and not {debit.id, credit.id} & focus:
                continue
            gap = abs((debit.booking_date - credit.booking_date).days)
            signal = own_transfers.signal_of(debit, credit)
            if gap > own_transfers.WINDOW_DAYS or signal is None:
                continue
            off = own_transfers.deviation(debit, credit, books[credit.currency])
            if off is None:
                if debit.currency == credit.currency or signal == own_transfers.EXCHANGE_LEGS:
                    continue
                off = Decimal(1)
            elif off > own_transfers.RATE_TOLERANCE:
                continue
            strength = own_transfers._STRENGTH[signal]
            found.append((strength, gap, off, debit.id, credit.id, signal))
    result, taken = [], set()
    for *_, debit_id, credit_id, signal in sorted(found):
        if not {debit_id, credit_id} & taken:
            taken |= {debit_id, credit_id}
            result.append(own_transfers.Pair(debit_id, credit_id, signal))
    return result


@pytest.mark.parametrize("seed", range(40))
def test_both_rules_find_what_every_pair_checked_finds(seed: int) -> None:
    rng = random.Random(seed)
    rows = _rows(rng, rng.randrange(2, 160), rng.choice([1, 4, 10, 30]))
    books = {c: fx.RateBook(c, []) for c in {r.currency for r in rows}}
    focus_account = rng.choice(list(ACCOUNTS))
    for focus in (None, {r.id for r in rows if r.account_id == focus_account}):
        assert duplicates.matches(rows, focus=focus) == _matches_over_every_pair(rows, focus)
        expected = _pairs_over_every_pair(rows, books, focus)
        assert own_transfers.pairs(rows, books, focus=focus) == expected
        shuffled = rows[:]
        rng.shuffle(shuffled)
        assert duplicates.matches(shuffled, focus=focus) == _matches_over_every_pair(rows, focus)


@pytest.mark.parametrize("seed", range(40))
def test_any_focus_finds_what_every_pair_checked_finds(seed: int) -> None:
    """Whatever share of a same-amount group the focus holds (the matching walks a group
    mostly of the focus's rows whole, and from the focus's rows by day otherwise): any
    subset as the focus, empty and whole included, over dense days (many rows a day meet
    across the window's edges), finds exactly the pairs touching it, for both rules."""
    rng = random.Random(1000 + seed)
    rows = _rows(rng, rng.randrange(2, 240), rng.choice([1, 2, 5, 8]))
    books = {c: fx.RateBook(c, []) for c in {r.currency for r in rows}}
    ids = [r.id for r in rows]
    for focus in (set(), set(ids), set(rng.sample(ids, rng.randrange(1, len(ids) + 1)))):
        assert duplicates.matches(rows, focus=focus) == _matches_over_every_pair(rows, focus)
        expected = _pairs_over_every_pair(rows, books, focus)
        assert own_transfers.pairs(rows, books, focus=focus) == expected


def test_the_generated_rows_link_in_every_way() -> None:
    """The oracle test above is only as good as its rows: across its seeds they make links
    of every rule and pair on every signal, inside and outside the focus."""
    rules, signals = set(), set()
    for seed in range(40):
        rng = random.Random(seed)
        rows = _rows(rng, rng.randrange(2, 160), rng.choice([1, 4, 10, 30]))
        books = {c: fx.RateBook(c, []) for c in {r.currency for r in rows}}
        rules |= {m.rule for m in duplicates.matches(rows)}
        signals |= {p.rule for p in own_transfers.pairs(rows, books)}
    assert rules == set(duplicates.BASE_SCORES)
    assert signals >= {own_transfers.SHARED_REFERENCE, own_transfers.COUNTERPARTY_ACCOUNT}
