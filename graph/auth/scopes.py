"""Consent scopes: what a customer can allow an app to read, and to correct."""

from __future__ import annotations

ACCOUNTS_READ = "accounts:read"
BALANCES_READ = "balances:read"
TRANSACTIONS_READ = "transactions:read"
STATEMENTS_READ = "statements:read"
CARDS_READ = "cards:read"
TRANSFERS_READ = "transfers:read"
PAYMENTS_READ = "payments:read"
# Corrections the customer makes through an app (e.g. `transactionMarkNotDuplicate`).
TRANSACTIONS_WRITE = "transactions:write"
# The one write scope: the customer's own categories and rules (graph/categories/).
CATEGORIES_WRITE = "categories:write"

ALL_SCOPES = (
    ACCOUNTS_READ,
    BALANCES_READ,
    TRANSACTIONS_READ,
    STATEMENTS_READ,
    CARDS_READ,
    TRANSFERS_READ,
    PAYMENTS_READ,
    TRANSACTIONS_WRITE,
    CATEGORIES_WRITE,
)


def parse_scopes(text: str) -> frozenset[str]:
    """Space- or comma-separated scopes; unknown ones are refused, not ignored."""
    scopes = frozenset(s for s in text.replace(",", " ").split() if s)
    unknown = scopes - set(ALL_SCOPES)
    if unknown:
        raise ValueError(f"unknown scope(s): {', '.join(sorted(unknown))}")
    return scopes
