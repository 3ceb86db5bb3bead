"""The one category -> Beancount account mapping: Plaid primaries and detailed codes, the
legacy codes, and the fallbacks by sign; every name is one Beancount accepts."""

from __future__ import annotations

import re

import pytest

from ledger.enrich.taxonomy import BANK_CODES
from ledger.exports.categories import (
    PLAID_PRIMARY,
    UNCATEGORIZED_IN,
    UNCATEGORIZED_OUT,
    beancount_account,
)

# Beancount's account grammar: a root, then components starting with a capital or a digit.
ACCOUNT = re.compile(r"^(Assets|Liabilities|Equity|Income|Expenses)(:[A-Z0-9][A-Za-z0-9-]*)+$")


def component(words: str) -> str:
    return "-".join(w.capitalize() for w in words.split("_"))


@pytest.mark.parametrize("primary", PLAID_PRIMARY)
@pytest.mark.parametrize("amount", [-1, 0, 1])
def test_plaid_codes_name_their_primary_and_detail(primary: str, amount: int):
    root = "Income" if primary in ("INCOME", "TRANSFER_IN") else "Expenses"

    assert beancount_account(primary, amount) == f"{root}:{component(primary)}"
    for detail in ("OTHER", "GAS_AND_ELECTRICITY", "X1"):
        name = beancount_account(f"{primary}_{detail}", amount)
        assert name == f"{root}:{component(primary)}:{component(detail)}"
        assert ACCOUNT.match(name)


def test_the_longest_primary_wins_and_a_longer_word_is_not_a_primary():
    assert beancount_account("TRANSFER_IN_DEPOSIT", 5) == "Income:Transfer-In:Deposit"
    assert beancount_account("TRANSFER_OUT_DEPOSIT", -5) == "Expenses:Transfer-Out:Deposit"
    assert beancount_account("TRAVELLING", -5) == UNCATEGORIZED_OUT
    assert beancount_account("INCOMES_WAGES", 5) == UNCATEGORIZED_IN


def test_every_bank_key_has_a_valid_account_through_its_taxonomy_code():
    for code, plaid in BANK_CODES.items():
        for amount in (-100,) if code == "transfers" else (-100, 100):
            name = beancount_account(code, amount)
            assert name == beancount_account(plaid, amount)
            assert ACCOUNT.match(name), name
            assert name not in (UNCATEGORIZED_IN, UNCATEGORIZED_OUT)


def test_transfers_follow_the_direction_and_unknown_codes_the_sign():
    assert beancount_account("transfers", 1) == "Income:Transfer-In:From-Person"
    assert beancount_account("transfers", -1) == "Expenses:Transfer-Out:To-Person"
    for code in (None, "", "teleport", "food_and_drink"):
        assert beancount_account(code, 1) == UNCATEGORIZED_IN
        assert beancount_account(code, -1) == UNCATEGORIZED_OUT
        assert beancount_account(code, 0) == UNCATEGORIZED_OUT
