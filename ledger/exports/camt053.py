"""ISO 20022 camt.053.001.08 (BankToCustomerStatementV08): one `Stmt` of the account.

Mapping: `Acct/Id/Othr/Id` is the account number (Tajikistan has no IBAN), `Acct/Svcr`
the bank by BIC; balances OPBD (opening) and CLBD (closing), each with a non-negative
amount and CRDT/DBIT; `TxsSummry` from the statement's figures (entries, credits, debits,
net); one `Ntry` per movement: its unsigned amount, CRDT (credit, or zero) / DBIT, status
BOOK (PDNG for a pending row, when asked for), booking and value dates, the ledger's id as
`NtryRef`, the bank's id as `AcctSvcrRef`, the ledger's type as a proprietary bank
transaction code, the counterparty as `Dbtr` (credits) or `Cdtr` (debits), the description
as unstructured remittance information. Valid against the XSD in `schemas/`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from xml.sax.saxutils import escape

from ledger.exports.source import ExportHead, ExportRow
from ledger.exports.text import chunks, clean, magnitude

NAMESPACE = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"
SCHEMA = Path(__file__).parent / "schemas" / "camt.053.001.08.xsd"  # the official XSD
ISSUER = "alif-graph"


def _t(tag: str, text: str) -> str:
    return f"<{tag}>{escape(text)}</{tag}>"


def _amount(minor: int, currency: str) -> str:
    return f'<Amt Ccy="{currency}">{magnitude(minor, currency)}</Amt>'


def _direction(minor: int) -> str:
    return _t("CdtDbtInd", "DBIT" if minor < 0 else "CRDT")


def _balance(code: str, minor: int, currency: str, day: str) -> str:
    return (
        f"<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp>{_amount(minor, currency)}"
        f"{_direction(minor)}<Dt><Dt>{day}</Dt></Dt></Bal>"
    )


def message_id(head: ExportHead) -> str:
    """Stable for the same account and period (Max35Text)."""
    return f"AG-{head.account_id}-{head.date_from:%Y%m%d}-{head.date_to:%Y%m%d}"[:35]


def _head(head: ExportHead) -> str:
    f, ccy = head.figures, head.currency
    created = head.created_at.isoformat(timespec="seconds")
    net = f.credits.minor - f.debits.minor
    servicer = _t("BICFI", head.bic) if head.bic else _t("Nm", clean(head.bank_name, 140))
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<Document xmlns="{NAMESPACE}"><BkToCstmrStmt>'
        f"<GrpHdr>{_t('MsgId', message_id(head))}{_t('CreDtTm', created)}</GrpHdr>"
        f"<Stmt>{_t('Id', message_id(head))}{_t('CreDtTm', created)}"
        f"<FrToDt><FrDtTm>{head.date_from.isoformat()}T00:00:00+05:00</FrDtTm>"
        f"<ToDtTm>{head.date_to.isoformat()}T23:59:59+05:00</ToDtTm></FrToDt>"
        f"<Acct><Id><Othr>{_t('Id', clean(head.account_ref, 34))}</Othr></Id>"
        f"{_t('Ccy', ccy)}{_t('Nm', clean(head.account_name, 70))}"
        f"<Svcr><FinInstnId>{servicer}</FinInstnId></Svcr></Acct>"
        f"{_balance('OPBD', f.opening.minor, ccy, head.date_from.isoformat())}"
        f"{_balance('CLBD', f.closing.minor, ccy, head.date_to.isoformat())}"
        "<TxsSummry>"
        f"<TtlNtries><NbOfNtries>{f.count}</NbOfNtries>"
        f"<Sum>{magnitude(f.credits.minor + f.debits.minor, ccy)}</Sum>"
        f"<TtlNetNtry><Amt>{magnitude(net, ccy)}</Amt>{_direction(net)}</TtlNetNtry></TtlNtries>"
        f"<TtlCdtNtries><Sum>{magnitude(f.credits.minor, ccy)}</Sum></TtlCdtNtries>"
        f"<TtlDbtNtries><Sum>{magnitude(f.debits.minor, ccy)}</Sum></TtlDbtNtries>"
        "</TxsSummry>"
    )


def _party(row: ExportRow) -> str:
    name, account = clean(row.counterparty, 140), clean(row.counterparty_account, 34)
    if not name and not account:
        return ""
    role = "Dbtr" if row.amount_minor >= 0 else "Cdtr"
    party = f"<{role}><Pty>{_t('Nm', name)}</Pty></{role}>" if name else ""
    acct = f"<{role}Acct><Id><Othr>{_t('Id', account)}</Othr></Id></{role}Acct>" if account else ""
    return f"<RltdPties>{party}{acct}</RltdPties>"


def _entry(row: ExportRow, currency: str) -> str:
    booked = row.status == "BOOKED"
    value = f"<ValDt><Dt>{row.value_date.isoformat()}</Dt></ValDt>" if row.value_date else ""
    description = clean(row.description, 140)
    remittance = f"<RmtInf>{_t('Ustrd', description)}</RmtInf>" if description else ""
    bank_ref = _t("AcctSvcrRef", clean(row.external_id, 35))
    return (
        f"<Ntry>{_t('NtryRef', str(row.id))}{_amount(row.amount_minor, currency)}"
        f"{_direction(row.amount_minor)}<Sts><Cd>{'BOOK' if booked else 'PDNG'}</Cd></Sts>"
        f"<BookgDt><Dt>{row.booking_date.isoformat()}</Dt></BookgDt>{value}{bank_ref}"
        f"<BkTxCd><Prtry>{_t('Cd', clean(row.type, 35))}{_t('Issr', ISSUER)}</Prtry></BkTxCd>"
        f"<NtryDtls><TxDtls><Refs>{bank_ref}</Refs>{_party(row)}{remittance}</TxDtls></NtryDtls>"
        "</Ntry>\n"
    )


async def _lines(head: ExportHead, rows: AsyncIterator[ExportRow]) -> AsyncIterator[str]:
    yield _head(head) + "\n"
    async for row in rows:
        yield _entry(row, head.currency)
    yield "</Stmt></BkToCstmrStmt></Document>\n"


def render(head: ExportHead, rows: AsyncIterator[ExportRow]) -> AsyncIterator[bytes]:
    return chunks(_lines(head, rows))
