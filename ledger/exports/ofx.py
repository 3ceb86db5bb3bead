"""OFX 2.2 (XML), the bank statement GnuCash, Moneydance and most personal-finance tools
import: one `STMTRS` of the account.

Mapping: `BANKID` is the bank's BIC cut to OFX's 9 characters (its first 8 name the bank,
country and location), else the institution code; `ACCTID` the account number (22 at
most); `CURDEF` its currency; `DTSTART`/`DTEND` the period's first and last instants
(Dushanbe time, +5); one `STMTTRN` per movement: `TRNTYPE` CREDIT or DEBIT by sign, signed
`TRNAMT`, `DTPOSTED` the booking date, `DTUSER` the value date, `FITID` the bank's
transaction id (stable across exports, so importers never count a movement twice),
`NAME` the counterparty (32 characters), `MEMO` the description (255); `LEDGERBAL` is the
closing balance.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime
from xml.sax.saxutils import escape

from ledger.exports.camt053 import message_id
from ledger.exports.source import ExportHead, ExportRow
from ledger.exports.text import amount, chunks, clean

LANGUAGES = {"ru": "RUS", "tg": "TGK", "uz": "UZB", "en": "ENG"}


def _t(tag: str, text: str) -> str:
    return f"<{tag}>{escape(text)}</{tag}>"


def _day(day: date, clock: str = "000000") -> str:
    return f"{day:%Y%m%d}{clock}.000[+5:TJT]"


def _instant(at: datetime) -> str:
    return f"{at:%Y%m%d%H%M%S}.000[+0:UTC]"


def _head(head: ExportHead) -> str:
    status = "<STATUS><CODE>0</CODE><SEVERITY>INFO</SEVERITY></STATUS>"
    bank_id = (head.bic or head.bank_code.upper())[:9]
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n'
        '<?OFX OFXHEADER="200" VERSION="220" SECURITY="NONE" OLDFILEUID="NONE" '
        'NEWFILEUID="NONE"?>\n'
        "<OFX><SIGNONMSGSRSV1><SONRS>"
        f"{status}{_t('DTSERVER', _instant(head.created_at))}"
        f"{_t('LANGUAGE', LANGUAGES.get(head.locale, 'RUS'))}"
        "</SONRS></SIGNONMSGSRSV1>\n"
        f"<BANKMSGSRSV1><STMTTRNRS>{_t('TRNUID', message_id(head))}{status}<STMTRS>"
        f"{_t('CURDEF', head.currency)}"
        f"<BANKACCTFROM>{_t('BANKID', bank_id)}{_t('ACCTID', clean(head.account_ref, 22))}"
        "<ACCTTYPE>CHECKING</ACCTTYPE></BANKACCTFROM>\n"
        f"<BANKTRANLIST>{_t('DTSTART', _day(head.date_from))}"
        f"{_t('DTEND', _day(head.date_to, '235959'))}\n"
    )


def _entry(row: ExportRow, currency: str) -> str:
    name, memo = clean(row.counterparty, 32), clean(row.description, 255)
    user = _t("DTUSER", _day(row.value_date)) if row.value_date else ""
    return (
        f"<STMTTRN>{_t('TRNTYPE', 'DEBIT' if row.amount_minor < 0 else 'CREDIT')}"
        f"{_t('DTPOSTED', _day(row.booking_date))}{user}"
        f"{_t('TRNAMT', amount(row.amount_minor, currency))}"
        f"{_t('FITID', clean(row.external_id, 255))}"
        f"{_t('NAME', name) if name else ''}{_t('MEMO', memo) if memo else ''}</STMTTRN>\n"
    )


async def _lines(head: ExportHead, rows: AsyncIterator[ExportRow]) -> AsyncIterator[str]:
    yield _head(head)
    async for row in rows:
        yield _entry(row, head.currency)
    closing = amount(head.figures.closing.minor, head.currency)
    yield (
        f"</BANKTRANLIST><LEDGERBAL>{_t('BALAMT', closing)}"
        f"{_t('DTASOF', _day(head.date_to, '235959'))}</LEDGERBAL>"
        "</STMTRS></STMTTRNRS></BANKMSGSRSV1></OFX>\n"
    )


def render(head: ExportHead, rows: AsyncIterator[ExportRow]) -> AsyncIterator[bytes]:
    return chunks(_lines(head, rows))
