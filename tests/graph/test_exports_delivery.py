"""Statement exports delivered: REST files, GraphQL's signed download links and the CLI.
Each answers another customer's account exactly like a missing one, making nothing, and
leaves one audit row with the account, format, period and the file's SHA-256."""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
from lxml import etree
from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from typer.testing import CliRunner

from connectors.keys import Keyring
from graph.cli.main import app
from graph.exports import links
from graph.relay.ids import to_global_id
from graph.server.rest.exports import EXPORT_COST
from ledger.exports import pdf
from ledger.exports.camt053 import SCHEMA
from ledger.models import Consent, Transaction, table
from ledger.types import utcnow

from ..tampering import tamper
from .helpers import KEYS, Api, consent_of
from .ledger_data import LedgerData

XSD = etree.XMLSchema(etree.parse(str(SCHEMA)))
PERIOD = {"from_date": "2025-02-01", "to_date": "2025-02-28"}
TYPES = {
    "camt053.xml": "application/xml",
    "csv": "text/csv; charset=utf-8",
    "ofx": "application/x-ofx",
    "beancount": "text/plain; charset=utf-8",
    "1c.txt": "text/plain; charset=windows-1251",
    "pdf": "application/pdf",
}
EXPORT = """
query Export($id: ID!, $from: Date!, $to: Date!, $format: StatementFormat!, $locale: Locale) {
  statementExport(accountId: $id, from: $from, to: $to, format: $format, locale: $locale) {
    __typename
    ... on StatementExport { url expiresAt filename contentType size sha256 transactionCount }
    ... on StatementExportError { code message }
  }
}
"""
runner = CliRunner()


def file_url(account_id: int, extension: str) -> str:
    return f"/api/v1/alif/accounts/{to_global_id('Account', account_id)}/statement.{extension}"


async def get(api: Api, url: str, token: str | None = None, **params: str) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token or await api.token()}"}
    return await api.client.get(url, params=params, headers=headers)


async def export(
    api: Api, account_id: int, fmt: str = "CAMT053", token: str | None = None, **extra
):
    variables = {
        "id": to_global_id("Account", account_id),
        "from": PERIOD["from_date"],
        "to": PERIOD["to_date"],
        "format": fmt,
        **extra,
    }
    body = await api.query(EXPORT, variables, token=token)
    assert "errors" not in body, body
    return body["data"]["statementExport"]


@pytest.mark.parametrize("extension", list(TYPES))
async def test_rest_serves_each_format_with_its_headers_and_audits_it(
    api: Api, ledger: LedgerData, extension: str
):
    response = await get(api, file_url(ledger.wallet.id, extension), **PERIOD)

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == TYPES[extension]
    filename = f"statement-8601-2025-02-01-2025-02-28.{extension}"
    assert response.headers["content-disposition"] == f'attachment; filename="{filename}"'
    assert int(response.headers["content-length"]) == len(response.content) > 0
    digest = hashlib.sha256(response.content).hexdigest()
    assert response.headers["x-content-sha256"] == digest
    if extension == "camt053.xml":
        XSD.assertValid(etree.fromstring(response.content))
    document = (await api.client.get("/api/v1/openapi.json")).json()
    documented = document["paths"]["/api/v1/alif/accounts/{accountId}/statement.{extension}"]
    assert TYPES[extension] in documented["get"]["responses"]["200"]["content"]
    assert extension in documented["get"]["parameters"][1]["schema"]["enum"]
    row = (await api.audit_rows())[-1]
    assert (row.operation, row.outcome) == ("rest.statement_file", "ok")
    assert row.object_ids == to_global_id("Account", ledger.wallet.id)
    assert row.scopes == "statements:read"
    assert row.detail is not None
    assert f"sha256={digest}" in row.detail and "2025-02-01..2025-02-28" in row.detail
    assert row.detail.split()[2] == {"camt053.xml": "camt053", "1c.txt": "1c"}.get(
        extension, extension
    )


async def test_rest_answers_another_customers_account_like_a_missing_one(
    api: Api, ledger: LedgerData
):
    token = await api.token()
    narrowed = await api.token(account_ids=[ledger.usd.id])

    foreign = await get(api, file_url(ledger.foreign.id, "csv"), token, **PERIOD)
    missing = await get(api, file_url(987654, "csv"), token, **PERIOD)
    unconsented = await get(api, file_url(ledger.wallet.id, "csv"), narrowed, **PERIOD)

    assert foreign.status_code == missing.status_code == unconsented.status_code == 404
    bodies = [{**r.json(), "request_id": "-"} for r in (foreign, missing, unconsented)]
    assert bodies[0] == bodies[1] == bodies[2]
    rows = (await api.audit_rows())[-3:]
    assert [r.outcome for r in rows] == ["denied"] * 3
    assert all(r.detail is None for r in rows)


async def test_rest_refusals(api: Api, ledger: LedgerData):
    url = file_url(ledger.wallet.id, "csv")
    no_scope = await get(api, url, await api.token(scopes=["accounts:read"]), **PERIOD)
    unknown = await get(api, file_url(ledger.wallet.id, "xlsx"), **PERIOD)
    backwards = await get(api, url, from_date="2025-03-01", to_date="2025-02-01")
    no_period = await get(api, url)
    bad_locale = await get(api, url, locale="fr", **PERIOD)
    bad_flag = await get(api, url, booked_only="maybe", **PERIOD)

    assert (no_scope.status_code, no_scope.json()["error"]) == (403, "FORBIDDEN")
    assert (unknown.status_code, unknown.json()["error"]) == (404, "NOT_FOUND")
    for response in (backwards, no_period, bad_locale, bad_flag):
        assert (response.status_code, response.json()["error"]) == (400, "BAD_USER_INPUT")


@pytest.mark.parametrize("fmt", ["CAMT053", "ONE_C", "PDF"])
async def test_statement_export_link_downloads_the_file_it_describes(
    api: Api, ledger: LedgerData, fmt: str
):
    result = await export(api, ledger.wallet.id, fmt, locale="TG")

    assert result["__typename"] == "StatementExport"
    assert result["url"].startswith("http://api.test/api/v1/exports/")
    downloaded = await api.client.get(result["url"])  # no token: the link is the authority
    again = await api.client.get(result["url"])
    assert downloaded.status_code == 200, downloaded.text
    assert downloaded.content == again.content
    assert len(downloaded.content) == result["size"]
    assert hashlib.sha256(downloaded.content).hexdigest() == result["sha256"]
    assert downloaded.headers["content-type"] == result["contentType"]
    assert result["filename"] in downloaded.headers["content-disposition"]
    statement = [
        t for t in ledger.wallet.counted()
        if t["status"] == "BOOKED" and t["booking_date"].month == 2
    ]  # fmt: skip
    assert result["transactionCount"] == len(statement)
    rows = await api.audit_rows()
    made, *downloads = rows[-3:]
    assert made.operation == "Export" and made.outcome == "ok"
    assert [d.operation for d in downloads] == ["rest.export_download"] * 2
    for row in (made, *downloads):
        assert row.detail is not None and f"sha256={result['sha256']}" in row.detail
        assert to_global_id("Account", ledger.wallet.id) in row.detail
    assert downloads[0].consent_id == made.consent_id and downloads[0].user_id == ledger.user_a


async def test_statement_export_errors_are_typed(
    api: Api, ledger: LedgerData, monkeypatch: pytest.MonkeyPatch
):
    foreign = await export(api, ledger.foreign.id)
    missing = await export(api, 987654)
    backwards = await api.query(
        EXPORT,
        {"id": to_global_id("Account", ledger.wallet.id), "from": "2025-03-01",
         "to": "2025-02-01", "format": "CSV"},
    )  # fmt: skip
    monkeypatch.setattr(pdf, "MAX_ROWS", 3)
    too_large = await export(api, ledger.wallet.id, "PDF")

    assert (
        foreign
        == missing
        == {
            "__typename": "StatementExportError",
            "code": "NOT_FOUND",
            "message": "No account with this ID.",
        }
    )
    assert backwards["data"]["statementExport"]["code"] == "BAD_PERIOD"
    assert too_large["code"] == "TOO_LARGE" and "at most 3" in too_large["message"]
    rows = await api.audit_rows()
    assert [r.outcome for r in rows[-4:-2]] == ["denied", "denied"]
    assert all(r.detail is None for r in rows[-4:])


async def test_statement_export_costs_what_a_rest_file_costs(api: Api, ledger: LedgerData):
    variables = {"id": to_global_id("Account", ledger.wallet.id), "from": "2025-02-01",
                 "to": "2025-02-28", "format": "CSV"}  # fmt: skip
    body = await api.query(EXPORT, variables)

    assert body["data"]["statementExport"]["__typename"] == "StatementExport"
    assert body["extensions"]["cost"]["requested"] >= EXPORT_COST


async def test_statement_export_needs_the_statements_scope(api: Api, ledger: LedgerData):
    token = await api.token(scopes=["accounts:read"])
    body = await api.query(
        EXPORT,
        {"id": to_global_id("Account", ledger.wallet.id), "from": "2025-02-01",
         "to": "2025-02-28", "format": "CSV"},
        token=token,
    )  # fmt: skip
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_a_link_stops_working_when_tampered_expired_revoked_or_outdated(
    api: Api,
    ledger: LedgerData,
    sessions: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
):
    token = await api.token()
    good = await export(api, ledger.wallet.id, "CSV", token=token)
    link = good["url"].rsplit("/", 1)[1]
    tampered = await api.client.get(f"/api/v1/exports/{tamper(link)}")
    # Another customer's account in a link signed with a key that is not the server's.
    issued = links.verify(KEYS, link, now=utcnow())
    assert issued is not None
    forged = links.sign(
        Keyring("another-secret-" + "x" * 40), replace(issued, account_id=ledger.foreign.id)
    )
    forged_answer = await api.client.get(f"/api/v1/exports/{forged}")
    monkeypatch.setattr(links, "LINK_TTL", timedelta(seconds=-1))
    expired = await export(api, ledger.wallet.id, "CSV", token=token)
    monkeypatch.undo()
    expired_answer = await api.client.get(expired["url"])
    # The ledger changes after the link was made: the file would differ.
    changed = await export(api, ledger.wallet.id, "CSV", token=token)
    async with sessions.begin() as session:
        await session.execute(
            insert(table(Transaction)).values(
                connection_id=ledger.wallet.connection_id, external_id="late",
                account_id=ledger.wallet.id, status="BOOKED", booking_date=date(2025, 2, 14),
                amount_minor=-1_00, currency="TJS", type="CARD_PAYMENT", payload_hash="-",
            )
        )  # fmt: skip
    changed_answer = await api.client.get(changed["url"])
    revoked = await export(api, ledger.usd.id, "CSV", token=token)
    async with sessions.begin() as session:
        consents = table(Consent)
        await session.execute(
            update(consents).where(consents.c.id == consent_of(token)).values(status="REVOKED")
        )
    revoked_answer = await api.client.get(revoked["url"])

    for answer in (tampered, forged_answer, expired_answer, changed_answer, revoked_answer):
        assert answer.status_code == 404, answer.text
        assert answer.json()["error"] == "NOT_FOUND"
    downloads = [r for r in await api.audit_rows() if r.operation == "rest.export_download"]
    # Bad, expired and outdated links are errors; the revoked consent's account is denied.
    outcomes = [(r.outcome, r.detail) for r in downloads]
    assert outcomes == [("error", None)] * 4 + [("denied", None)]


async def invoke(*args: str):
    return await asyncio.to_thread(runner.invoke, app, list(args))


async def test_cli_exports_to_a_file_and_audits_it(
    env: None, api: Api, ledger: LedgerData, tmp_path: Path
):
    (tmp_path / "out").mkdir()
    out = tmp_path / "out" / "feb.camt053.xml"
    account = to_global_id("Account", ledger.wallet.id)

    result = await invoke(
        "export", "--account", account, "--from", "2025-02-01", "--to", "2025-02-28",
        "--format", "camt053", "--out", str(out),
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    body = out.read_bytes()
    XSD.assertValid(etree.fromstring(body))
    digest = hashlib.sha256(body).hexdigest()
    assert digest in result.stderr
    assert [p.name for p in out.parent.iterdir()] == ["feb.camt053.xml"]  # no temporary left
    row = (await api.audit_rows())[-1]
    assert (row.operation, row.outcome, row.user_id) == ("cli.export", "ok", ledger.user_a)
    assert row.object_ids == account and f"sha256={digest}" in (row.detail or "")


async def test_cli_export_to_stdout_equals_rest(env: None, api: Api, ledger: LedgerData):
    account = to_global_id("Account", ledger.usd.id)

    result = await invoke(
        "export", "--account", account, "--from", "2025-02-01", "--to", "2025-02-28",
        "--format", "csv",
    )  # fmt: skip
    served = await get(api, file_url(ledger.usd.id, "csv"), **PERIOD)

    assert result.exit_code == 0, result.output
    assert result.stdout_bytes == served.content  # CSV carries no creation time


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--account", "QWNjb3VudDo5ODc2NTQ="], 1, "no account"),
        (["--account", "not-an-id"], 2, "--account"),
        (["--from", "2025-03-01"], 2, "--from must not be after --to"),
    ],
)
async def test_cli_export_refusals_are_one_line(
    env: None, ledger: LedgerData, args: list[str], code: int, message: str
):
    base = {
        "--account": to_global_id("Account", ledger.wallet.id),
        "--from": "2025-02-01",
        "--to": "2025-02-28",
        "--format": "csv",
    }
    base.update(dict(zip(args[::2], args[1::2], strict=True)))

    result = await invoke("export", *[x for kv in base.items() for x in kv])

    assert result.exit_code == code, result.output
    assert message in result.stderr and "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1
