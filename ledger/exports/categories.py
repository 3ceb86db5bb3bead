"""Category codes as Beancount account names: the one mapping (docs/exports.md).

A code is either Plaid's taxonomy (issue 13: a primary such as `FOOD_AND_DRINK`, or a
detailed `PRIMARY_DETAIL` such as `FOOD_AND_DRINK_GROCERIES`) or one of the legacy codes
the ledger carries today (`groceries`, `mobile`, ..., graph/transactions/categories.py),
which are first translated to the Plaid code they mean.

A Plaid code becomes `Root:Primary[:Detail]`: the longest Plaid primary that prefixes the
code names the second component, what follows it the third, each word capitalised and
joined with `-` (`FOOD_AND_DRINK_GROCERIES` -> `Expenses:Food-And-Drink:Groceries`). The
root is `Income` for INCOME and TRANSFER_IN (`INCOME_WAGES` -> `Income:Income:Wages`),
`Expenses` for every other primary (a refund posts a negative amount there). No code, or
an unknown one, falls back by the movement's sign: `Income:Uncategorized` for money in,
`Expenses:Uncategorized` out.
"""

from __future__ import annotations

PLAID_PRIMARY = (
    "INCOME",
    "TRANSFER_IN",
    "TRANSFER_OUT",
    "LOAN_PAYMENTS",
    "BANK_FEES",
    "ENTERTAINMENT",
    "FOOD_AND_DRINK",
    "GENERAL_MERCHANDISE",
    "HOME_IMPROVEMENT",
    "MEDICAL",
    "PERSONAL_CARE",
    "GENERAL_SERVICES",
    "GOVERNMENT_AND_NON_PROFIT",
    "TRANSPORTATION",
    "TRAVEL",
    "RENT_AND_UTILITIES",
)
_INCOME_ROOTS = frozenset({"INCOME", "TRANSFER_IN"})
# Longest first, so a primary that prefixes another could never shadow it.
_BY_LENGTH = sorted(PLAID_PRIMARY, key=len, reverse=True)

# Today's codes, as the Plaid code each means. `transfers` depends on the direction.
LEGACY: dict[str, str] = {
    "groceries": "FOOD_AND_DRINK_GROCERIES",
    "restaurants": "FOOD_AND_DRINK_RESTAURANT",
    "transport": "TRANSPORTATION",
    "mobile": "RENT_AND_UTILITIES_TELEPHONE",
    "internet": "RENT_AND_UTILITIES_INTERNET_AND_CABLE",
    "utilities": "RENT_AND_UTILITIES",
    "electricity": "RENT_AND_UTILITIES_GAS_AND_ELECTRICITY",
    "water": "RENT_AND_UTILITIES_WATER",
    "cash_withdrawal": "TRANSFER_OUT_WITHDRAWAL",
    "shopping": "GENERAL_MERCHANDISE",
    "health": "MEDICAL_PHARMACIES_AND_SUPPLEMENTS",
    "education": "GENERAL_SERVICES_EDUCATION",
    "taxes_fines": "GOVERNMENT_AND_NON_PROFIT_TAX_PAYMENT",
    "gov_services": "GOVERNMENT_AND_NON_PROFIT",
    "installments": "LOAN_PAYMENTS",
    "cashback": "INCOME_OTHER_INCOME",
    "fees": "BANK_FEES",
    "salary_income": "INCOME_WAGES",
    "remittance_in": "TRANSFER_IN_OTHER_TRANSFER_IN",
}
UNCATEGORIZED_IN = "Income:Uncategorized"
UNCATEGORIZED_OUT = "Expenses:Uncategorized"


def _component(words: str) -> str:
    return "-".join(word.capitalize() for word in words.split("_") if word)


def beancount_account(code: str | None, amount_minor: int) -> str:
    """The Beancount account a movement's category posts to."""
    if code == "transfers":
        code = "TRANSFER_IN" if amount_minor > 0 else "TRANSFER_OUT"
    elif code is not None:
        code = LEGACY.get(code, code)
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
