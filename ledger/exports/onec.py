# ruff: noqa: RUF002  (the format's keys and texts are Russian words)
"""1C:Enterprise client-bank exchange (`1CClientBankExchange`, format 1.03): the text file
1C:Accounting imports a bank statement from ("Банк и касса" -> "Выписки" -> "Загрузить").

Lines `Key=Value`, CRLF, encoded in Windows-1251 as `Кодировка=Windows` declares. A header
(version, sender, creation date and time, the period, the account), one `СекцияРасчСчет`
with НачальныйОстаток / ВсегоПоступило / ВсегоСписано / КонечныйОстаток (the statement's
figures), one `СекцияДокумент` ... `КонецДокумента` per movement, and `КонецФайла`.

A movement: `Платежное поручение` for transfers, `Банковский ордер` otherwise; Номер the
ledger's id, Дата the booking date, Сумма unsigned with a dot; money in: the counterparty
pays (ПлательщикСчет / Плательщик), the account receives (ПолучательСчет), ДатаПоступило
set; money out: the other way round, ДатаСписано set; НазначениеПлатежа the description.
The ledger knows no tax ids (ИНН) or the holder's legal name: those keys are left empty,
for 1C to fill from its own directory of the organisation's accounts.

Windows-1251 lacks six Tajik letters; they are written as the Russian letters they are
conventionally replaced by (ҳ->х, қ->к, ғ->г, ӯ->у, ҷ->ч, ӣ->и); anything else it cannot
encode becomes `?`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from ledger.exports.source import ExportHead, ExportRow
from ledger.exports.text import chunks, clean, magnitude

ENCODING = "cp1251"
_TAJIK = str.maketrans("ҲҳҚқҒғӮӯҶҷӢӣ", "ХхКкГгУуЧчИи")
TRANSFER_TYPES = frozenset({"TRANSFER_IN", "TRANSFER_OUT", "INTERNATIONAL_TRANSFER"})


def encode(text: str) -> bytes:
    return text.translate(_TAJIK).encode(ENCODING, errors="replace")


def _day(value: object) -> str:
    return f"{value:%d.%m.%Y}"


def _lines_of(pairs: list[tuple[str, str]]) -> str:
    return "".join(f"{key}={value}\r\n" for key, value in pairs)


def _head(head: ExportHead) -> str:
    f, ccy, account = head.figures, head.currency, clean(head.account_ref)
    period = [("ДатаНачала", _day(head.date_from)), ("ДатаКонца", _day(head.date_to))]
    return (
        "1CClientBankExchange\r\n"
        + _lines_of(
            [
                ("ВерсияФормата", "1.03"),
                ("Кодировка", "Windows"),
                ("Отправитель", f"alif-graph ({clean(head.bank_name)})"),
                ("Получатель", ""),
                ("ДатаСоздания", _day(head.created_at)),
                ("ВремяСоздания", f"{head.created_at:%H:%M:%S}"),
                *period,
                ("РасчСчет", account),
                ("Документ", "Платежное поручение"),
                ("Документ", "Банковский ордер"),
            ]
        )
        + "СекцияРасчСчет\r\n"
        + _lines_of(
            [
                *period,
                ("РасчСчет", account),
                ("НачальныйОстаток", _signed(f.opening.minor, ccy)),
                ("ВсегоПоступило", magnitude(f.credits.minor, ccy)),
                ("ВсегоСписано", magnitude(f.debits.minor, ccy)),
                ("КонечныйОстаток", _signed(f.closing.minor, ccy)),
            ]
        )
        + "КонецРасчСчет\r\n"
    )


def _signed(minor: int, currency: str) -> str:
    # A balance may be negative (an overdraft): 1C reads the sign.
    return ("-" if minor < 0 else "") + magnitude(minor, currency)


def _document(row: ExportRow, head: ExportHead) -> str:
    kind = "Платежное поручение" if row.type in TRANSFER_TYPES else "Банковский ордер"
    ours, theirs = clean(head.account_ref), clean(row.counterparty_account)
    name = clean(row.counterparty)
    day = _day(row.booking_date)
    incoming = row.amount_minor > 0
    payer = [("ПлательщикСчет", theirs), ("Плательщик", name), ("ПлательщикИНН", "")]
    payee = [("ПолучательСчет", ours), ("Получатель", ""), ("ПолучательИНН", "")]
    if not incoming:
        payer = [("ПлательщикСчет", ours), ("Плательщик", ""), ("ПлательщикИНН", "")]
        payee = [("ПолучательСчет", theirs), ("Получатель", name), ("ПолучательИНН", "")]
    return (
        f"СекцияДокумент={kind}\r\n"
        + _lines_of(
            [
                ("Номер", str(row.id)),
                ("Дата", day),
                ("Сумма", magnitude(row.amount_minor, head.currency)),
                *payer,
                *payee,
                ("ДатаПоступило" if incoming else "ДатаСписано", day),
                ("НазначениеПлатежа", clean(row.description, 210)),
            ]
        )
        + "КонецДокумента\r\n"
    )


async def _lines(head: ExportHead, rows: AsyncIterator[ExportRow]) -> AsyncIterator[str]:
    yield _head(head)
    async for row in rows:
        yield _document(row, head)
    yield "КонецФайла\r\n"


def render(head: ExportHead, rows: AsyncIterator[ExportRow]) -> AsyncIterator[bytes]:
    return chunks(_lines(head, rows), encode)
