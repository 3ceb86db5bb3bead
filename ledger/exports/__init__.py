"""Statement exports in the formats accounting software imports: camt.053, 1C, OFX,
Beancount, CSV and a PDF statement (docs/exports.md).

One module per format (`camt053`, `onec`, `ofx`, `beancount`, `csv_file`, `pdf`), each a
`render(head, rows)` that turns the statement's head and its streamed rows into chunks of
bytes; `source` reads both (the figures are `ledger.queries.statements`', so every file's
totals are the statement's); `text` is the shared formatting (amounts from integer minor
units, zero as 0.00). Who may export which account is the caller's decision: these
functions take an account id the caller may read.

Two exports of the same account, period and options are byte-identical except where the
creation time (`created_at`, passed in) is written.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from ledger.exports import beancount, camt053, csv_file, ofx, onec, pdf
from ledger.exports.source import ExportHead, ExportRow, load_head, stream_rows

Renderer = Callable[[ExportHead, AsyncIterator[ExportRow]], AsyncIterator[bytes]]


class ExportFormat(StrEnum):
    CAMT053 = "camt053"
    CSV = "csv"
    OFX = "ofx"
    BEANCOUNT = "beancount"
    ONE_C = "1c"
    PDF = "pdf"


@dataclass(frozen=True, slots=True)
class FormatInfo:
    extension: str  # also the REST path's suffix: statement.<extension>
    media_type: str
    render: Renderer


FORMATS: dict[ExportFormat, FormatInfo] = {
    ExportFormat.CAMT053: FormatInfo("camt053.xml", "application/xml", camt053.render),
    ExportFormat.CSV: FormatInfo("csv", "text/csv; charset=utf-8", csv_file.render),
    ExportFormat.OFX: FormatInfo("ofx", "application/x-ofx", ofx.render),
    ExportFormat.BEANCOUNT: FormatInfo("beancount", "text/plain; charset=utf-8", beancount.render),
    ExportFormat.ONE_C: FormatInfo("1c.txt", "text/plain; charset=windows-1251", onec.render),
    ExportFormat.PDF: FormatInfo("pdf", "application/pdf", pdf.render),
}
BY_EXTENSION = {info.extension: fmt for fmt, info in FORMATS.items()}
LOCALES = ("ru", "tg", "uz", "en")


class ExportTooLarge(ValueError):
    """A period with more rows than the format can hold (the PDF's MAX_ROWS)."""


@dataclass(frozen=True, slots=True)
class Export:
    head: ExportHead
    format: ExportFormat
    body: AsyncIterator[bytes]  # read it once, inside the session it was opened with

    @property
    def info(self) -> FormatInfo:
        return FORMATS[self.format]

    @property
    def filename(self) -> str:
        h = self.head
        digits = "".join(c for c in h.account_ref if c.isalnum())[-4:] or str(h.account_id)
        period = f"{h.date_from.isoformat()}-{h.date_to.isoformat()}"
        return f"statement-{digits}-{period}.{self.info.extension}"


async def open_export(
    session: AsyncSession,
    account_id: int,
    date_from: date,
    date_to: date,
    format: ExportFormat,
    *,
    created_at: datetime,
    locale: str = "ru",
    booked_only: bool = True,
) -> Export | None:
    """The export of an account's period, ready to stream; None when there is no such
    account. Raises ExportTooLarge before reading any row when the format cannot hold
    the period."""
    head = await load_head(
        session,
        account_id,
        date_from,
        date_to,
        booked_only=booked_only,
        created_at=created_at,
        locale=locale if locale in LOCALES else "ru",
    )
    if head is None:
        return None
    if format is ExportFormat.PDF and head.figures.count > pdf.MAX_ROWS:
        raise ExportTooLarge(
            f"{head.figures.count} transactions: a PDF holds at most {pdf.MAX_ROWS}; "
            "export a shorter period, or camt053, csv or 1c"
        )
    body = FORMATS[format].render(head, stream_rows(session, head))
    return Export(head, format, body)


@dataclass(frozen=True, slots=True)
class Written:
    size: int
    sha256: str


async def write(export: Export, sink: Callable[[bytes], object]) -> Written:
    """Streams the export into `sink`, chunk by chunk; its size and SHA-256."""
    digest, size = hashlib.sha256(), 0
    async for chunk in export.body:
        digest.update(chunk)
        size += len(chunk)
        sink(chunk)
    return Written(size, digest.hexdigest())
