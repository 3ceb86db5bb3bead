"""Category codes as Beancount account names: the one mapping (docs/exports.md).

A code is the taxonomy's (`ledger.enrich.taxonomy`: a primary such as `FOOD_AND_DRINK`, or
a detailed `PRIMARY_DETAIL` such as `FOOD_AND_DRINK_GROCERIES`); a bank's own key not
enriched yet (`groceries`, `transfers`, ...) is first read as the taxonomy code it means,
by the money's direction (`taxonomy.bank_code`, the one table of them).

A Plaid code becomes `Root:Primary[:Detail]`: the longest Plaid primary that prefixes the
code names the second component, what follows it the third, each word capitalised and
joined with `-` (`FOOD_AND_DRINK_GROCERIES` -> `Expenses:Food-And-Drink:Groceries`). The
root is `Income` for INCOME and TRANSFER_IN (`INCOME_WAGES` -> `Income:Income:Wages`),
`Expenses` for every other primary (a refund posts a negative amount there). No code, or
an unknown one, falls back by the movement's sign: `Income:Uncategorized` for money in,
`Expenses:Uncategorized` out.
"""

from __future__ import annotations

from ledger.enrich import taxonomy

PLAID_PRIMARY = tuple(taxonomy.PRIMARY)
_INCOME_ROOTS = frozenset({"INCOME", "TRANSFER_IN"})
# Longest first, so a primary that prefixes another could never shadow it.
_BY_LENGTH = sorted(PLAID_PRIMARY, key=len, reverse=True)
UNCATEGORIZED_IN = "Income:Uncategorized"
UNCATEGORIZED_OUT = "Expenses:Uncategorized"


def _component(words: str) -> str:
    return "-".join(word.capitalize() for word in words.split("_") if word)


def beancount_account(code: str | None, amount_minor: int) -> str:
    """The Beancount account a movement's category posts to."""
    if code:
        code = taxonomy.bank_code(code, credit=amount_minor > 0) or code
    for primary in _BY_LENGTH:
        if code is None or not code.startswith(primary):
            continue
        detail = code[len(primary) :]
        if detail and not detail.startswith("_"):
            continue  # a longer word that happens to start with a primary's letters
        root = "Income" if primary in _INCOME_ROOTS else "Expenses"
        parts = [root, _component(primary)]
        if _component(detail):
            parts.append(_component(detail))
        return ":".join(parts)
    return UNCATEGORIZED_IN if amount_minor > 0 else UNCATEGORIZED_OUT
