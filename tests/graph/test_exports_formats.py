# ruff: noqa: RUF001  (Tajik letters are the point of the PDF checks)
"""Every export format checked by the tool that receives it (lxml with the official XSD,
ofxtools, bean-check, cp1251 decoding, the csv module, pdftotext and pdftoppm), its totals
against the statement and against sums computed here from the generated rows, and two
exports of a period byte-identical but for the creation time."""

from __future__ import annotations

import asyncio
import csv
import io
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree
from ofxtools.Parser import OFXTree
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ledger import exports
from ledger.exports import ExportFormat
from ledger.exports.camt053 import NAMESPACE, SCHEMA
from ledger.exports.csv_file import BOM
from ledger.models import AccountReconciliation, ExchangeRate, SyncRun, Transaction, table
from ledger.money import format_minor
from ledger.queries import BANK_TIMEZONE
from ledger.queries.statements import statement_figures

from .ledger_data import OPENING_WALLET, AccountData, LedgerData

XSD = etree.XMLSchema(etree.parse(str(SCHEMA)))
NS = {"c": NAMESPACE}
TX = table(Transaction)
RATES = table(ExchangeRate)
CREATED = datetime(2026, 12, 2, 6, 30, 15, tzinfo=UTC)
LATER = datetime(2027, 1, 9, 23, 1, 44, tzinfo=UTC)
# Periods: a month, a quarter across months, one day, before the ledger, the whole ledger.
PERIODS = [
    (date(2025, 1, 1), date(2025, 1, 31)),
    (date(2025, 2, 15), date(2025, 4, 30)),
    (date(2025, 3, 20), date(2025, 3, 20)),
    (date(2024, 11, 1), date(2024, 11, 30)),
    (date(2025, 1, 1), date(2025, 6, 30)),
]
# The receiving tools, by absolute path: bean-check beside this interpreter (the venv's).
BEAN_CHECK = str(Path(sys.executable).parent / "bean-check")
PDFTOTEXT = shutil.which("pdftotext") or "/usr/bin/pdftotext"
PDFTOPPM = shutil.which("pdftoppm") or "/usr/bin/pdftoppm"


def run_tool(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(list(args), capture_output=True, timeout=120, check=False)  # noqa: S603


@dataclass(frozen=True)
class Expected:
    """The statement from first principles, from the rows as the test inserted them."""

    opening: int
    closing: int
    credits: int
    debits: int
    count: int
    ids: list[int]

    def text(self, minor: int, currency: str) -> str:
        return format_minor(minor, currency)


def expected(account: AccountData, held_before: int, first: date, last: date) -> Expected:
    booked = [t for t in account.counted() if t["status"] == "BOOKED"]
    period = [t for t in booked if first <= t["booking_date"] <= last]
    opening = held_before + sum(t["amount_minor"] for t in booked if t["booking_date"] < first)
    return Expected(
        opening=opening,
        closing=opening + sum(t["amount_minor"] for t in period),
        credits=sum(t["amount_minor"] for t in period if t["amount_minor"] > 0),
        debits=-sum(t["amount_minor"] for t in period if t["amount_minor"] < 0),
        count=len(period),
        ids=sorted(t["id"] for t in period),
    )


async def render(
    sessions: async_sessionmaker[AsyncSession],
    account_id: int,
    fmt: ExportFormat,
    first: date,
    last: date,
    *,
    created_at: datetime = CREATED,
    locale: str = "ru",
    booked_only: bool = True,
) -> bytes:
    out = bytearray()
    async with sessions() as session:
        found = await exports.open_export(
            session, account_id, first, last, fmt,
            created_at=created_at, locale=locale, booked_only=booked_only,
        )  # fmt: skip
        assert found is not None
        await exports.write(found, out.extend)
    return bytes(out)


def dec(minor: int, currency: str = "TJS") -> Decimal:
    return Decimal(format_minor(minor, currency))


# camt.053 -------------------------------------------------------------------------------


@pytest.mark.parametrize(("first", "last"), PERIODS)
async def test_camt053_is_valid_and_its_figures_are_the_statements(
    sessions: async_sessionmaker[AsyncSession], ledger: LedgerData, first: date, last: date
):
    body = await render(sessions, ledger.wallet.id, ExportFormat.CAMT053, first, last)

    doc = etree.fromstring(body)
    XSD.assertValid(doc)
    want = expected(ledger.wallet, OPENING_WALLET, first, last)
    stmt = doc.find("c:BkToCstmrStmt/c:Stmt", NS)
    assert stmt.findtext("c:Acct/c:Id/c:Othr/c:Id", namespaces=NS) == "20202972100049668601"
    assert stmt.findtext("c:Acct/c:Svcr/c:FinInstnId/c:BICFI", namespaces=NS) == "ALIFTJ22"
    balances = {
        b.findtext("c:Tp/c:CdOrPrtry/c:Cd", namespaces=NS): b for b in stmt.findall("c:Bal", NS)
    }
    assert set(balances) == {"OPBD", "CLBD"}

    def signed(element: etree._Element) -> Decimal:
        value = Decimal(element.findtext("c:Amt", namespaces=NS))
        assert value >= 0
        return -value if element.findtext("c:CdtDbtInd", namespaces=NS) == "DBIT" else value

    assert signed(balances["OPBD"]) == dec(want.opening)
    assert signed(balances["CLBD"]) == dec(want.closing)
    entries = stmt.findall("c:Ntry", NS)
    assert sorted(int(e.findtext("c:NtryRef", namespaces=NS)) for e in entries) == want.ids
    assert {e.findtext("c:Sts/c:Cd", namespaces=NS) for e in entries} <= {"BOOK"}
    credits = sum(
        (Decimal(e.findtext("c:Amt", namespaces=NS)) for e in entries
         if e.findtext("c:CdtDbtInd", namespaces=NS) == "CRDT"),
        Decimal(0),
    )  # fmt: skip
    debits = sum(
        (Decimal(e.findtext("c:Amt", namespaces=NS)) for e in entries
         if e.findtext("c:CdtDbtInd", namespaces=NS) == "DBIT"),
        Decimal(0),
    )  # fmt: skip
    assert (credits, debits) == (dec(want.credits), dec(want.debits))
    assert signed(balances["OPBD"]) + credits - debits == signed(balances["CLBD"])
    async with sessions() as session:  # and they are `statement(...)`'s figures
        figures = await statement_figures(session, ledger.wallet.id, first, last, booked_only=True)
    assert (figures.opening.minor, figures.closing.minor) == (want.opening, want.closing)
    assert (figures.credits.minor, figures.debits.minor, figures.count) == (
        want.credits,
        want.debits,
        want.count,
    )
    summary = stmt.find("c:TxsSummry", NS)
    assert summary.findtext("c:TtlNtries/c:NbOfNtries", namespaces=NS) == str(want.count)
    assert Decimal(summary.findtext("c:TtlCdtNtries/c:Sum", namespaces=NS)) == credits
    assert Decimal(summary.findtext("c:TtlDbtNtries/c:Sum", namespaces=NS)) == debits
    for entry in entries:
        assert entry.findtext("c:BookgDt/c:Dt", namespaces=NS)
        assert entry.findtext("c:ValDt/c:Dt", namespaces=NS)


async def test_the_xsd_rejects_a_broken_camt053(
    sessions: async_sessionmaker[AsyncSession], ledger: LedgerData
):
    body = await render(sessions, ledger.wallet.id, ExportFormat.CAMT053, *PERIODS[0])
    assert XSD.validate(etree.fromstring(body))

    negative = re.sub(rb"(<Ntry><NtryRef>\d+</NtryRef><Amt Ccy=\"TJS\">)", rb"\1-", body, count=1)
    no_status = re.sub(rb"<Sts><Cd>BOOK</Cd></Sts>", b"", body, count=1)
    bad_indicator = body.replace(b"<CdtDbtInd>DBIT</CdtDbtInd>", b"<CdtDbtInd>MINUS</CdtDbtInd>", 1)
    for broken in (negative, no_status, bad_indicator):
        assert broken != body
        assert not XSD.validate(etree.fromstring(broken))


# OFX ------------------------------------------------------------------------------------


def parse_ofx(body: bytes):
    tree = OFXTree()
    tree.parse(io.BytesIO(body))
    return tree.convert().statements[0]


@pytest.mark.parametrize(("first", "last"), PERIODS[:3])
async def test_ofx_parses_with_ofxtools_and_its_fitids_are_stable(
    sessions: async_sessionmaker[AsyncSession], ledger: LedgerData, first: date, last: date
):
    body = await render(sessions, ledger.usd.id, ExportFormat.OFX, first, last)
    again = await render(sessions, ledger.usd.id, ExportFormat.OFX, first, last, created_at=LATER)

    statement, repeat = parse_ofx(body), parse_ofx(again)
    want = expected(ledger.usd, 200_00, first, last)
    assert statement.curdef == "USD"
    assert statement.account.acctid == "20206840500049668603"
    assert len(statement.transactions) == want.count
    amounts = [t.trnamt for t in statement.transactions]
    assert sum(a for a in amounts if a > 0) == dec(want.credits, "USD")
    assert -sum(a for a in amounts if a < 0) == dec(want.debits, "USD")
    assert statement.balance.balamt == dec(want.closing, "USD")
    bank_day = statement.banktranlist.dtstart.astimezone(BANK_TIMEZONE)
    assert (bank_day.date(), bank_day.hour) == (first, 0)
    assert statement.banktranlist.dtend.astimezone(BANK_TIMEZONE).date() == last
    assert statement.balance.dtasof.astimezone(BANK_TIMEZONE).date() == last
    fitids = [t.fitid for t in statement.transactions]
    assert len(set(fitids)) == len(fitids)
    assert fitids == [t.fitid for t in repeat.transactions]
    for t in statement.transactions:
        assert t.trntype == ("DEBIT" if t.trnamt < 0 else "CREDIT")


def asset_of(text: str) -> str:
    return re.search(r"^\d{4}-\d{2}-\d{2} open (Assets:\S+)", text, re.M).group(1)


# Beancount ------------------------------------------------------------------------------


async def bean_check(body: bytes, tmp_path: Path) -> subprocess.CompletedProcess[bytes]:
    path = tmp_path / "ledger.beancount"
    path.write_bytes(body)
    return await asyncio.to_thread(run_tool, BEAN_CHECK, str(path))


@pytest.mark.parametrize("account", ["wallet", "usd", "rub"])
async def test_beancount_passes_bean_check_with_balance_assertions(
    sessions: async_sessionmaker[AsyncSession], ledger: LedgerData, account: str, tmp_path: Path
):
    data: AccountData = getattr(ledger, account)
    first, last = date(2025, 2, 1), date(2025, 5, 31)
    body = await render(sessions, data.id, ExportFormat.BEANCOUNT, first, last)

    checked = await bean_check(body, tmp_path)
    assert checked.returncode == 0, (checked.stdout + checked.stderr).decode()
    text = body.decode()
    held = {"wallet": OPENING_WALLET, "usd": 200_00, "rub": 200_00}[account]
    want = expected(data, held, first, last)
    closing = format_minor(want.closing, data.currency)
    zero = format_minor(0, data.currency)
    assert f"2025-06-01 balance {asset_of(text)}  {closing} ~ {zero} {data.currency}\n" in text
    assert text.count('\n  id: "') == want.count
    assert "Expenses:Food-And-Drink:Groceries" in text or account != "wallet"


@pytest.mark.parametrize(
    ("first", "last"), [(date(2025, 2, 1), date(2025, 5, 31)), (date(2025, 3, 4), date(2025, 3, 6))]
)
async def test_beancount_prices_a_foreign_account_at_the_stored_nbt_rates(
    sessions: async_sessionmaker[AsyncSession],
    ledger: LedgerData,
    tmp_path: Path,
    first: date,
    last: date,
):
    """The rate in force on the first day (dated its publication) and every later NBT
    publication of the period, exactly as stored; the bank's own rate never; none for TJS."""
    async with sessions() as session:
        stored = (
            await session.execute(
                select(RATES.c.on_date, RATES.c.rate).where(
                    RATES.c.base == "USD", RATES.c.quote == "TJS", RATES.c.source == "NBT"
                )
            )
        ).all()
    in_force = max(d for d, _ in stored if d <= first)
    want = sorted((d, r) for d, r in stored if d == in_force or first < d <= last)

    body = await render(sessions, ledger.usd.id, ExportFormat.BEANCOUNT, first, last)
    checked = await bean_check(body, tmp_path)
    assert checked.returncode == 0, (checked.stdout + checked.stderr).decode()
    found = re.findall(r"^(\d{4}-\d{2}-\d{2}) price USD (\S+) TJS$", body.decode(), re.M)
    assert [(date.fromisoformat(d), Decimal(r)) for d, r in found] == [
        (d, Decimal(r)) for d, r in want
    ]
    wallet = await render(sessions, ledger.wallet.id, ExportFormat.BEANCOUNT, first, last)
    assert b" price " not in wallet


async def test_bean_check_rejects_a_balance_that_does_not_hold(
    sessions: async_sessionmaker[AsyncSession], ledger: LedgerData, tmp_path: Path
):
    body = await render(sessions, ledger.wallet.id, ExportFormat.BEANCOUNT, *PERIODS[0])
    want = expected(ledger.wallet, OPENING_WALLET, *PERIODS[0])
    closing = format_minor(want.closing, "TJS").encode()
    wrong = format_minor(want.closing + 1, "TJS").encode()

    broken = body.replace(closing + b" ~ 0.00 TJS", wrong + b" ~ 0.00 TJS")

    assert broken != body
    assert (await bean_check(broken, tmp_path)).returncode != 0


# 1C -------------------------------------------------------------------------------------


def parse_1c(body: bytes) -> tuple[dict[str, str], dict[str, str], list[dict[str, str]]]:
    text = body.decode("cp1251")
    assert "\r\n" in text and "\n" not in text.replace("\r\n", "")
    lines = text.split("\r\n")
    assert lines[0] == "1CClientBankExchange" and lines[-2:] == ["КонецФайла", ""]
    header: dict[str, str] = {}
    account: dict[str, str] = {}
    documents: list[dict[str, str]] = []
    current: dict[str, str] | None = header
    for line in lines[1:-2]:
        if line == "СекцияРасчСчет":
            current = account
        elif line.startswith("СекцияДокумент="):
            current = {"kind": line.split("=", 1)[1]}
            documents.append(current)
        elif line in ("КонецРасчСчет", "КонецДокумента"):
            current = None
        else:
            assert current is not None, line
            key, _, value = line.partition("=")
            current.setdefault(key, value)
    return header, account, documents


@pytest.mark.parametrize(("first", "last"), PERIODS)
async def test_1c_decodes_as_declared_and_its_totals_add_up(
    sessions: async_sessionmaker[AsyncSession], ledger: LedgerData, first: date, last: date
):
    body = await render(sessions, ledger.wallet.id, ExportFormat.ONE_C, first, last)

    header, account, documents = parse_1c(body)
    assert header["ВерсияФормата"] == "1.03" and header["Кодировка"] == "Windows"
    assert header["ДатаНачала"] == f"{first:%d.%m.%Y}"
    want = expected(ledger.wallet, OPENING_WALLET, first, last)
    incoming = [Decimal(d["Сумма"]) for d in documents if "ДатаПоступило" in d]
    outgoing = [Decimal(d["Сумма"]) for d in documents if "ДатаСписано" in d]
    assert len(documents) == want.count == len(incoming) + len(outgoing)
    assert Decimal(account["ВсегоПоступило"]) == sum(incoming, Decimal(0)) == dec(want.credits)
    assert Decimal(account["ВсегоСписано"]) == sum(outgoing, Decimal(0)) == dec(want.debits)
    assert Decimal(account["НачальныйОстаток"]) == dec(want.opening)
    assert Decimal(account["КонечныйОстаток"]) == dec(want.closing)
    assert dec(want.opening) + sum(incoming, Decimal(0)) - sum(outgoing, Decimal(0)) == dec(
        want.closing
    )
    assert sorted(int(d["Номер"]) for d in documents) == want.ids
    for d in documents:
        assert re.fullmatch(r"\d{2}\.\d{2}\.\d{4}", d["Дата"])
        ours = "20202972100049668601"
        assert (d["ПолучательСчет"] if "ДатаПоступило" in d else d["ПлательщикСчет"]) == ours


async def test_1c_writes_tajik_letters_cp1251_lacks_as_their_russian_counterparts(
    sessions: async_sessionmaker[AsyncSession], ledger: LedgerData
):
    day = date(2025, 1, 10)
    async with sessions.begin() as session:
        await session.execute(
            update(TX)
            .where(TX.c.account_id == ledger.wallet.id, TX.c.booking_date == day)
            .values(description="Пардохт барои ҳисоби қарз, ғалла, рӯз, ҷой, кӣ ✓")
        )

    body = await render(sessions, ledger.wallet.id, ExportFormat.ONE_C, day, day)

    _, _, documents = parse_1c(body)
    assert documents
    for d in documents:
        assert d["НазначениеПлатежа"] == "Пардохт барои хисоби карз, галла, руз, чой, ки ?"


# CSV ------------------------------------------------------------------------------------

INJECTIONS = ['=HYPERLINK("http://x")', "+7(900)", "-2+3", "@SUM(A1)", "\tTAB", "\rCR"]


async def test_csv_reads_back_with_the_statements_totals(
    sessions: async_sessionmaker[AsyncSession], ledger: LedgerData
):
    for first, last in PERIODS:
        body = await render(sessions, ledger.wallet.id, ExportFormat.CSV, first, last)

        assert body.startswith(BOM.encode())
        rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"), newline="")))
        want = expected(ledger.wallet, OPENING_WALLET, first, last)
        amounts = [Decimal(r["amount"]) for r in rows]
        assert len(rows) == want.count
        assert sum((a for a in amounts if a > 0), Decimal(0)) == dec(want.credits)
        assert -sum((a for a in amounts if a < 0), Decimal(0)) == dec(want.debits)
        assert sorted(int(r["transaction_id"]) for r in rows) == want.ids
        running = dec(want.opening)
        for row, value in zip(rows, amounts, strict=True):
            running += value
            assert Decimal(row["balance_after"]) == running
            assert re.fullmatch(r"-?\d+\.\d{2}", row["amount"])
            assert row["currency"] == "TJS" and row["status"] == "BOOKED"
        if rows:
            assert Decimal(rows[-1]["balance_after"]) == dec(want.closing)


async def test_csv_neutralises_formula_cells(
    sessions: async_sessionmaker[AsyncSession], ledger: LedgerData
):
    day = date(2025, 7, 15)  # after the ledger's rows: only these
    rows = [
        {
            "connection_id": ledger.wallet.connection_id,
            "external_id": f"inj-{i}",
            "account_id": ledger.wallet.id,
            "status": "BOOKED",
            "booking_date": day,
            "amount_minor": -(i + 1) * 100,
            "currency": "TJS",
            "type": "CARD_PAYMENT",
            "description": text,
            "counterparty_name": text,
            "category": text,
            "payload_hash": "-",
        }
        for i, text in enumerate(INJECTIONS)
    ]
    async with sessions.begin() as session:
        await session.execute(insert(TX), rows)

    body = await render(sessions, ledger.wallet.id, ExportFormat.CSV, day, day)

    read = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"), newline="")))
    assert len(read) == len(INJECTIONS)
    by_amount = {r["amount"]: r for r in read}
    for i, text in enumerate(INJECTIONS):
        row = by_amount[format_minor(-(i + 1) * 100, "TJS")]
        for column in ("description", "counterparty", "category"):
            cell = row[column]
            assert cell.startswith("'"), (column, cell)
            assert cell[1:].strip() == text.strip() or text.startswith(("\t", "\r"))
        assert row["amount"].startswith("-")  # our own numbers stay numbers


# PDF ------------------------------------------------------------------------------------


async def pdf_text(body: bytes, tmp_path: Path) -> str:
    path = tmp_path / "statement.pdf"
    path.write_bytes(body)
    done = await asyncio.to_thread(run_tool, PDFTOTEXT, "-layout", str(path), "-")
    assert done.returncode == 0, done.stderr
    return done.stdout.decode()


def pdf_pages(tmp_path: Path) -> list[Path]:
    """The statement rendered by pdftoppm, one image a page."""
    done = run_tool(
        PDFTOPPM, "-r", "20", "-png", str(tmp_path / "statement.pdf"), str(tmp_path / "page")
    )
    assert done.returncode == 0, done.stderr
    return sorted(tmp_path.glob("page*.png"))


@pytest.mark.parametrize(
    ("locale", "words"),
    [
        (
            "tg",
            [
                "Иқтибос аз суратҳисоб",
                "Бақияи ибтидоӣ",
                "Ҳамагӣ хориҷ шуд",
                "Рӯйхати амалиётҳо",
                "Маблағ",
            ],
        ),
        ("ru", ["Выписка по счёту", "Входящий остаток", "Всего списано"]),
        ("uz", ["Hisob boʻyicha koʻchirma", "Boshlangʻich qoldiq"]),
        ("en", ["Account statement", "Opening balance", "Total debits"]),
    ],
)
async def test_pdf_statement_text_and_pages(
    sessions: async_sessionmaker[AsyncSession],
    ledger: LedgerData,
    tmp_path: Path,
    locale: str,
    words: list[str],
):
    first, last = date(2025, 1, 1), date(2025, 3, 31)
    body = await render(sessions, ledger.wallet.id, ExportFormat.PDF, first, last, locale=locale)

    text = await pdf_text(body, tmp_path)
    want = expected(ledger.wallet, OPENING_WALLET, first, last)
    for word in words:
        assert word in text, word
    for minor in (want.opening, want.closing, want.credits, want.debits):
        assert f"{format_minor(minor, 'TJS')} TJS" in text
    assert re.search(rf"\b{want.count}\b", text)
    assert "••••8601" in text and "20202972100049668601" not in text
    assert "ALIFTJ22" in text and "2025-01-01" in text and "2025-03-31" in text
    assert CREATED.isoformat() in text
    pages = int(re.search(r"(\d+)\s*$", text.strip().splitlines()[-1]).group(1))
    assert pages >= 2
    # Every movement is listed with its amount and balance after.
    booked = [t for t in ledger.wallet.counted() if t["status"] == "BOOKED"]
    for t in booked:
        if first <= t["booking_date"] <= last:
            assert format_minor(t["amount_minor"], "TJS") in text
            assert format_minor(t["balance_after_minor"], "TJS") in text
    images = await asyncio.to_thread(pdf_pages, tmp_path)
    assert len(images) == pages
    from PIL import Image

    with Image.open(images[0]) as image:
        darkest, _ = image.convert("L").getextrema()
        assert darkest < 100  # text was drawn


async def test_pdf_shows_the_reconciliation_result(
    sessions: async_sessionmaker[AsyncSession], ledger: LedgerData, tmp_path: Path
):
    async with sessions.begin() as session:
        run = (
            await session.execute(
                insert(table(SyncRun))
                .values(connection_id=ledger.wallet.connection_id, status="SUCCEEDED")
                .returning(table(SyncRun).c.id)
            )
        ).scalar_one()
        for account, clean_check in ((ledger.wallet, True), (ledger.rub, False)):
            await session.execute(
                insert(table(AccountReconciliation)).values(
                    sync_run_id=run, account_id=account.id, currency=account.currency,
                    checked_at=datetime(2025, 7, 1, tzinfo=UTC), ledger_booked_minor=0,
                    reconciled=clean_check, first_day=None if clean_check else date(2025, 1, 3),
                )
            )  # fmt: skip

    shown = {}
    for account in (ledger.wallet, ledger.rub, ledger.usd):
        body = await render(sessions, account.id, ExportFormat.PDF, *PERIODS[0], locale="en")
        shown[account.currency] = await pdf_text(body, tmp_path)
    assert "confirmed by the bank" in shown["TJS"]
    assert "differs from the bank" in shown["RUB"]
    assert "not checked since the period ended" in shown["USD"]


# Every format ---------------------------------------------------------------------------


def _without_creation_time(fmt: ExportFormat, body: bytes, at: datetime) -> bytes:
    stamps = [
        at.isoformat(timespec="seconds"),
        f"{at:%Y%m%d%H%M%S}",
        f"{at:%d.%m.%Y}",
        f"{at:%H:%M:%S}",
    ]
    encoding = "cp1251" if fmt is ExportFormat.ONE_C else "utf-8"
    for stamp in stamps:
        body = body.replace(stamp.encode(encoding), b"<created>")
    return body


@pytest.mark.parametrize("fmt", list(ExportFormat))
async def test_the_same_period_exported_twice_is_the_same_file_but_for_its_creation_time(
    sessions: async_sessionmaker[AsyncSession],
    ledger: LedgerData,
    fmt: ExportFormat,
    tmp_path: Path,
):
    first, last = date(2025, 2, 1), date(2025, 2, 28)
    one = await render(sessions, ledger.wallet.id, fmt, first, last)
    two = await render(sessions, ledger.wallet.id, fmt, first, last)
    later = await render(sessions, ledger.wallet.id, fmt, first, last, created_at=LATER)

    assert one == two
    if fmt is ExportFormat.PDF:
        # Its text is compressed with the fonts' subsets: compare what it says.
        one_text = (await pdf_text(one, tmp_path)).replace(CREATED.isoformat(), "")
        later_text = (await pdf_text(later, tmp_path)).replace(LATER.isoformat(), "")
        assert one_text == later_text
    elif fmt is not ExportFormat.CSV:
        assert one != later
        assert _without_creation_time(fmt, one, CREATED) == _without_creation_time(
            fmt, later, LATER
        )
    else:
        assert one == later  # CSV carries no creation time


@pytest.mark.parametrize("fmt", [ExportFormat.CSV, ExportFormat.CAMT053])
async def test_duplicates_and_rows_that_no_longer_count_are_left_out(
    sessions: async_sessionmaker[AsyncSession], ledger: LedgerData, fmt: ExportFormat
):
    first, last = PERIODS[0]
    period = [t for t in ledger.wallet.counted() if first <= t["booking_date"] <= last]
    duplicate, original = period[3], period[2]
    async with sessions.begin() as session:
        await session.execute(
            update(TX).where(TX.c.id == duplicate["id"]).values(duplicate_of_id=original["id"])
        )

    body = (await render(sessions, ledger.wallet.id, fmt, first, last)).decode("utf-8-sig")

    if fmt is ExportFormat.CSV:
        ids = [int(r["transaction_id"]) for r in csv.DictReader(io.StringIO(body, newline=""))]
    else:
        ids = [int(i) for i in re.findall(r"<NtryRef>(\d+)</NtryRef>", body)]
    assert duplicate["id"] not in ids and original["id"] in ids
    assert len(ids) == len(period) - 1


async def test_pending_rows_only_when_asked(
    sessions: async_sessionmaker[AsyncSession], ledger: LedgerData
):
    first, last = date(2025, 6, 1), date(2025, 6, 30)
    pending = [
        t for t in ledger.wallet.counted()
        if t["status"] == "PENDING" and first <= t["booking_date"] <= last
    ]  # fmt: skip
    assert pending

    booked = await render(sessions, ledger.wallet.id, ExportFormat.CAMT053, first, last)
    both = await render(
        sessions, ledger.wallet.id, ExportFormat.CAMT053, first, last, booked_only=False
    )

    assert b"<Cd>PDNG</Cd>" not in booked
    assert both.count(b"<Cd>PDNG</Cd>") == len(pending)
    XSD.assertValid(etree.fromstring(both))
    async with sessions() as session:
        figures = await statement_figures(session, ledger.wallet.id, first, last, booked_only=False)
    closing = etree.fromstring(both).find("c:BkToCstmrStmt/c:Stmt/c:Bal[2]/c:Amt", NS).text
    assert Decimal(closing) == abs(dec(figures.closing.minor))


async def test_an_unknown_account_has_no_export(
    sessions: async_sessionmaker[AsyncSession], ledger: LedgerData
):
    async with sessions() as session:
        found = await exports.open_export(
            session, 10**9, *PERIODS[0], ExportFormat.CSV, created_at=CREATED
        )
    assert found is None


async def test_a_copy_of_another_accounts_row_stays_and_the_totals_are_the_statements(
    sessions: async_sessionmaker[AsyncSession], ledger: LedgerData
):
    """The statement's own rule decides which duplicates leave: a copy of a row of the same
    account goes, a copy of another account's row (one account linked twice) stays."""
    first, last = PERIODS[0]
    period = [t for t in ledger.wallet.counted() if first <= t["booking_date"] <= last]
    elsewhere = ledger.usd.counted()[0]
    same, original, kept = period[1], period[0], period[4]
    async with sessions.begin() as session:
        await session.execute(
            update(TX).where(TX.c.id == same["id"]).values(duplicate_of_id=original["id"])
        )
        await session.execute(
            update(TX).where(TX.c.id == kept["id"]).values(duplicate_of_id=elsewhere["id"])
        )
        figures = await statement_figures(session, ledger.wallet.id, first, last, booked_only=True)

    body = (await render(sessions, ledger.wallet.id, ExportFormat.CSV, first, last)).decode(
        "utf-8-sig"
    )
    rows = list(csv.DictReader(io.StringIO(body, newline="")))
    ids = [int(r["transaction_id"]) for r in rows]
    assert same["id"] not in ids and kept["id"] in ids and original["id"] in ids
    assert len(ids) == figures.count
    net = sum(Decimal(r["amount"]) for r in rows)
    assert net == dec(figures.credits.minor - figures.debits.minor)
