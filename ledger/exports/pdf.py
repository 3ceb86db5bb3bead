"""The PDF statement an auditor signs off, in ru, tg, uz or en (ReportLab, DejaVu Sans:
it has every Tajik letter, ҳ қ ғ ӯ ҷ ӣ).

It shows the bank (name, BIC) and the account (name, masked number, currency), the period,
the opening and closing balances, the totals of credits and debits, the count, whether the
statement's arithmetic holds and the sync's reconciliation against the bank, every movement
(date, description, amount, balance after), the generation time and "page n of m".

Unlike the text formats a PDF is laid out whole: the rows are gathered first (at most
MAX_ROWS, checked against the statement's count before any is read) and the document is
built in a worker thread. ReportLab's invariant mode keeps the file's own metadata fixed,
so two exports of a period differ only where the generation time is printed.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import LongTable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from ledger.exports.pdf_labels import label
from ledger.exports.source import ExportHead, ExportRow
from ledger.exports.text import amount, clean

MAX_ROWS = 20_000  # about 500 pages; larger periods: camt.053, CSV or 1C, which stream
FONT, BOLD = "DejaVuSans", "DejaVuSans-Bold"
FONT_DIRS = (
    Path("/usr/share/fonts/truetype/dejavu"),  # Debian's fonts-dejavu-core
    Path("/usr/share/fonts/dejavu"),
    Path("/usr/local/share/fonts"),
)


class PdfUnavailable(RuntimeError):
    """The fonts the statement needs are not installed."""


def _register_fonts() -> None:
    if FONT in pdfmetrics.getRegisteredFontNames():
        return
    for directory in FONT_DIRS:
        regular, bold = directory / "DejaVuSans.ttf", directory / "DejaVuSans-Bold.ttf"
        if regular.is_file() and bold.is_file():
            pdfmetrics.registerFont(TTFont(FONT, str(regular)))
            pdfmetrics.registerFont(TTFont(BOLD, str(bold)))
            return
    raise PdfUnavailable("DejaVu Sans is not installed (Debian: fonts-dejavu-core)")


def _numbered(locale: str, footer: str) -> type[Canvas]:
    """A canvas that writes "page n of m" and the generation time on every page."""

    class Numbered(Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:  # ReportLab's name
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for state in self._pages:
                self.__dict__.update(state)
                self.setFont(FONT, 7)
                page = label("page", locale).format(page=self._pageNumber, pages=total)
                self.drawString(15 * mm, 10 * mm, footer)
                self.drawRightString(A4[0] - 15 * mm, 10 * mm, page)
                super().showPage()
            super().save()

    return Numbered


def _build(head: ExportHead, rows: list[ExportRow]) -> bytes:
    _register_fonts()
    loc, ccy, f = head.locale, head.currency, head.figures
    text = ParagraphStyle("text", fontName=FONT, fontSize=9, leading=11)
    small = ParagraphStyle("small", fontName=FONT, fontSize=7.5, leading=9)
    title = ParagraphStyle("title", fontName=BOLD, fontSize=14, leading=18)
    heading = ParagraphStyle("heading", fontName=BOLD, fontSize=10, leading=13)

    def p(value: str, style: ParagraphStyle = text) -> Paragraph:
        return Paragraph(value.replace("&", "&amp;").replace("<", "&lt;"), style)

    def money(minor: int) -> str:
        return f"{amount(minor, ccy)} {ccy}"

    if head.reconciled is None:
        reconciled = label("reconciled_none", loc)
    else:
        reconciled = label("reconciled_yes" if head.reconciled else "reconciled_no", loc)
    balanced = label("balanced_yes" if f.reconciled else "balanced_no", loc)
    bank = head.bank_name + (f" (BIC {head.bic})" if head.bic else "")
    period = f"{head.date_from.isoformat()} — {head.date_to.isoformat()}"
    facts = [
        (label("bank", loc), bank),
        (label("account", loc), f"{clean(head.account_name)} {head.number_masked}"),
        (label("currency", loc), ccy),
        (label("period", loc), period),
        (label("opening", loc), money(f.opening.minor)),
        (label("credits", loc), money(f.credits.minor)),
        (label("debits", loc), money(f.debits.minor)),
        (label("closing", loc), money(f.closing.minor)),
        (label("count", loc), str(f.count)),
        (label("balanced", loc), balanced),
        (label("reconciliation", loc), reconciled),
    ]
    summary = Table([[p(k), p(v)] for k, v in facts], colWidths=[55 * mm, 120 * mm])
    summary.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    header = [p(label(k, loc), heading) for k in ("date", "description", "amount", "balance_after")]
    pending = label("pending", loc)
    lines: list[list[Any]] = [header]
    for row in rows:
        description = clean(row.description) or clean(row.counterparty)
        if row.status != "BOOKED":
            description = f"[{pending}] {description}"
        balance = row.balance_after_minor
        lines.append(
            [
                p(row.booking_date.isoformat(), small),
                p(description, small),
                p(amount(row.amount_minor, ccy), small),
                p("" if balance is None else amount(balance, ccy), small),
            ]
        )
    movements = LongTable(lines, colWidths=[22 * mm, 99 * mm, 27 * mm, 27 * mm], repeatRows=1)
    movements.setStyle(
        TableStyle(
            [
                ("LINEBELOW", (0, 0), (-1, 0), 0.6, colors.black),
                ("LINEBELOW", (0, 1), (-1, -1), 0.2, colors.grey),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    generated = f"{label('generated', loc)}: {head.created_at.isoformat(timespec='seconds')}"
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=18 * mm,
        title=f"{label('title', loc)} {head.number_masked} {period}",
        author=head.bank_name,
        creator="alif-graph",
        invariant=1,
    )
    story = [
        p(label("title", loc), title),
        Spacer(1, 4 * mm),
        summary,
        p(generated, small),
        Spacer(1, 6 * mm),
        p(label("movements", loc), heading),
        movements,
    ]
    doc.build(story, canvasmaker=_numbered(loc, f"{head.bank_name} · {generated}"))
    return out.getvalue()


async def render(head: ExportHead, rows: AsyncIterator[ExportRow]) -> AsyncIterator[bytes]:
    gathered = [row async for row in rows]
    yield await asyncio.to_thread(_build, head, gathered)
