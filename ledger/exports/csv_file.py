"""CSV (RFC 4180) for spreadsheets: UTF-8 with a byte order mark, so Excel and LibreOffice
show Cyrillic and Tajik letters; CRLF line ends; fields quoted where needed.

Columns: date, booking status, signed amount (the currency's exact decimals, dot), currency,
description, counterparty, category, balance after, transaction id (the ledger's id).

CSV injection (OWASP): a text cell starting with `=`, `+`, `-`, `@`, a tab or a carriage
return would be read as a formula; it is prefixed with `'`. The numbers are ours (written
from integer minor units), never text from the bank, and stay numbers.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator

from ledger.exports.source import ExportHead, ExportRow
from ledger.exports.text import amount, chunks

HEADER = (
    "date",
    "status",
    "amount",
    "currency",
    "description",
    "counterparty",
    "category",
    "balance_after",
    "transaction_id",
)
BOM = "\ufeff"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralised(text: str | None) -> str:
    """A text cell a spreadsheet will not evaluate."""
    if not text:
        return ""
    return "'" + text if text.startswith(_FORMULA_START) else text


class _Lines:
    """csv.writer over a reusable string buffer: one formatted line at a time."""

    def __init__(self) -> None:
        self._out = io.StringIO()
        self._writer = csv.writer(self._out, lineterminator="\r\n")

    def line(self, cells: tuple[str, ...] | list[str]) -> str:
        self._out.seek(0)
        self._out.truncate()
        self._writer.writerow(cells)
        return self._out.getvalue()


async def _lines(head: ExportHead, rows: AsyncIterator[ExportRow]) -> AsyncIterator[str]:
    lines, currency = _Lines(), head.currency
    yield BOM + lines.line(HEADER)
    async for row in rows:
        balance = row.balance_after_minor
        yield lines.line(
            [
                row.booking_date.isoformat(),
                row.status,
                amount(row.amount_minor, currency),
                currency,
                neutralised(row.description),
                neutralised(row.counterparty),
                neutralised(row.category),
                "" if balance is None else amount(balance, currency),
                str(row.id),
            ]
        )


def render(head: ExportHead, rows: AsyncIterator[ExportRow]) -> AsyncIterator[bytes]:
    return chunks(_lines(head, rows))
