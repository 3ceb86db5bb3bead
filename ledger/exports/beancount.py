"""Beancount (plain-text double-entry) that `bean-check` accepts.

Mapping: the account is one asset account, `Assets:<Bank>:<Type>-<last four>` in its own
currency; each movement is a transaction on its booking date (`*` booked, `!` pending)
with the counterparty as payee and the description as narration, the ledger's and the
bank's ids as metadata, one posting on the asset account and the other, left for Beancount
to balance, on the category's income or expense account (`ledger.exports.categories`).
The opening balance is one transaction against `Equity:Opening-Balances` the day before the
period. Balance assertions hold at the period's start (the opening balance) and the day
after its end (the closing balance), exactly (`~ 0.00`: Beancount would otherwise tolerate
a difference in the last digit), so `bean-check` proves the movements add up to the
statement. The accounts are opened the day before the period, listed after the movements
(Beancount orders by date, not by place in the file), so the file streams.

Prices: an account in another currency than the operating one (TJS) carries `price`
directives at the National Bank of Tajikistan's official rates (`ExportHead.prices`: the
rate in force on the period's first day, dated the day it was published, and every later
publication in the period), so Fava and `bean-query` value it in TJS as the ledger does
(`ledger.fx`). Where no rate is stored there are none: no rate is guessed.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta

from ledger.exports.categories import beancount_account
from ledger.exports.source import ExportHead, ExportRow
from ledger.exports.text import amount, chunks, clean

OPENING_ACCOUNT = "Equity:Opening-Balances"
OPERATING_CURRENCY = "TJS"
_NOT_NAME = re.compile(r"[^A-Za-z0-9]+")


def _name(text: str, fallback: str) -> str:
    words = [w for w in _NOT_NAME.split(text) if w]
    return "-".join(w.capitalize() for w in words) or fallback


def asset_account(head: ExportHead) -> str:
    digits = "".join(c for c in head.account_ref if c.isalnum())[-4:] or str(head.account_id)
    bank = _name(head.bank_code, "Bank")
    return f"Assets:{bank}:{_name(head.account_type, 'Account')}-{digits.upper()}"


def _string(text: str | None) -> str:
    return '"' + clean(text).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _head(head: ExportHead, asset: str) -> str:
    f, ccy = head.figures, head.currency
    before = head.date_from - timedelta(1)
    title = (
        f"{head.bank_name} {head.number_masked} {ccy} "
        f"{head.date_from.isoformat()}..{head.date_to.isoformat()}"
    )
    lines = [
        f"; alif-graph export, created {head.created_at.isoformat(timespec='seconds')}",
        f"option {_string('title')} {_string(title)}",
        f'option "operating_currency" "{OPERATING_CURRENCY}"',
        "",
        f"{before.isoformat()} open {asset} {ccy}",
        f"{before.isoformat()} open {OPENING_ACCOUNT}",
    ]
    if f.opening.minor != 0:
        lines += [
            f'{before.isoformat()} * "Opening balance"',
            f"  {asset}  {amount(f.opening.minor, ccy)} {ccy}",
            f"  {OPENING_ACCOUNT}",
        ]
    lines += [
        f"{day.isoformat()} price {ccy} {rate:f} {OPERATING_CURRENCY}" for day, rate in head.prices
    ]
    exact = amount(0, ccy)  # no tolerance: the assertion holds to the minor unit
    opening = amount(f.opening.minor, ccy)
    lines += [f"{head.date_from.isoformat()} balance {asset}  {opening} ~ {exact} {ccy}"]
    return "\n".join(lines) + "\n\n"


def _entry(row: ExportRow, asset: str, other: str, currency: str) -> str:
    flag = "*" if row.status == "BOOKED" else "!"
    return (
        f"{row.booking_date.isoformat()} {flag} {_string(row.counterparty)} "
        f"{_string(row.description)}\n"
        f'  id: "{row.id}"\n'
        f"  bank-id: {_string(row.external_id)}\n"
        f"  {asset}  {amount(row.amount_minor, currency)} {currency}\n"
        f"  {other}\n\n"
    )


async def _lines(head: ExportHead, rows: AsyncIterator[ExportRow]) -> AsyncIterator[str]:
    asset, ccy = asset_account(head), head.currency
    yield _head(head, asset)
    used: set[str] = set()  # bounded by the categories, not by the rows
    async for row in rows:
        other = beancount_account(row.category, row.amount_minor)
        used.add(other)
        yield _entry(row, asset, other, ccy)
    after = head.date_to + timedelta(1)
    closing = amount(head.figures.closing.minor, ccy)
    yield f"{after.isoformat()} balance {asset}  {closing} ~ {amount(0, ccy)} {ccy}\n\n"
    before = (head.date_from - timedelta(1)).isoformat()
    for name in sorted(used):
        yield f"{before} open {name}\n"


def render(head: ExportHead, rows: AsyncIterator[ExportRow]) -> AsyncIterator[bytes]:
    return chunks(_lines(head, rows))
