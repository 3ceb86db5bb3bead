"""Trusted documents: registered per app (`alif-graph documents add`), sent by id, and with
settings.trusted_documents on the only documents a request may run."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from typer.testing import CliRunner

from graph.cli.main import app
from ledger import trusted_documents
from ledger.types import utcnow

from .conftest import AppApi
from .helpers import Api, codes
from .ledger_data import LedgerData

DOCUMENT = "query Who { viewer { consent { client } } }"
DOCUMENT_ID = "sha256:" + hashlib.sha256(DOCUMENT.encode()).hexdigest()
OTHER = "{ __typename }"


async def register(sessions: async_sessionmaker[AsyncSession], pk: int, text: str) -> str:
    async with sessions.begin() as session:
        return (await trusted_documents.register(session, pk, text, now=utcnow())).document_id


class App:
    def __init__(self, api: Api, token: str, pk: int) -> None:
        self.api, self.token, self.pk = api, token, pk

    async def send(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        response = await self.api.client.post(
            "/graphql", json=body, headers={"Authorization": f"Bearer {self.token}"}
        )
        return response.status_code, response.json()


async def an_app(api: Api, name: str = "Budget App") -> App:
    pk, _ = await api.register_app(name)
    return App(api, await api.token(client=pk), pk)


@pytest.fixture
async def trusted(
    app_api: AppApi, ledger: LedgerData, sessions: async_sessionmaker[AsyncSession]
) -> App:
    budget = await an_app(await app_api(env="production", trusted_documents=True))
    assert await register(sessions, budget.pk, DOCUMENT) == DOCUMENT_ID
    return budget


SERVED = {"viewer": {"consent": {"client": "Budget App"}}}


@pytest.mark.parametrize(
    "body",
    [
        {"documentId": DOCUMENT_ID},
        {"documentId": DOCUMENT_ID.upper().replace("SHA256:", "sha256:")},
        {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": DOCUMENT_ID[7:]}}},
        # Apollo's retry sends the text along with its hash: the text must be the document.
        {
            "query": DOCUMENT,
            "extensions": {"persistedQuery": {"version": 1, "sha256Hash": DOCUMENT_ID[7:]}},
        },
        {"documentId": DOCUMENT_ID, "operationName": "Who", "variables": {}},
    ],
)
async def test_a_registered_document_runs_by_its_id(trusted: App, body: dict[str, Any]):
    status, answer = await trusted.send(body)

    assert status == 200 and answer["data"] == SERVED and "errors" not in answer


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"query": DOCUMENT}, "PERSISTED_QUERY_REQUIRED"),  # even a registered one, as text
        ({"query": OTHER}, "PERSISTED_QUERY_REQUIRED"),
        ({"documentId": "sha256:" + "0" * 64}, "PERSISTED_QUERY_NOT_FOUND"),
        ({"documentId": "md5:abc"}, "BAD_USER_INPUT"),
        ({"documentId": 12}, "BAD_USER_INPUT"),
        ({"query": OTHER, "documentId": DOCUMENT_ID}, "BAD_USER_INPUT"),
    ],
)
async def test_anything_else_is_refused(trusted: App, body: dict[str, Any], code: str):
    status, answer = await trusted.send(body)

    assert status == 400 and codes(answer) == [code]
    assert "data" not in answer


async def test_a_document_is_found_only_for_its_app(trusted: App):
    other = await an_app(trusted.api, "Other App")

    status, answer = await other.send({"documentId": DOCUMENT_ID})

    assert status == 400 and codes(answer) == ["PERSISTED_QUERY_NOT_FOUND"]


async def test_off_raw_queries_run_and_ids_too(
    app_api: AppApi, ledger: LedgerData, sessions: async_sessionmaker[AsyncSession]
):
    budget = await an_app(await app_api(env="production"))
    await register(sessions, budget.pk, DOCUMENT)

    by_text = await budget.send({"query": DOCUMENT})
    by_id = await budget.send({"documentId": DOCUMENT_ID})
    unknown = await budget.send({"documentId": "sha256:" + "1" * 64})

    assert by_text[0] == by_id[0] == 200
    assert by_text[1]["data"] == by_id[1]["data"] == SERVED
    assert unknown[0] == 400 and codes(unknown[1]) == ["PERSISTED_QUERY_NOT_FOUND"]


runner = CliRunner()


async def invoke(*args: str):
    return await asyncio.to_thread(runner.invoke, app, list(args))


async def test_documents_add_registers_and_lists(
    env: None, api: Api, tmp_path: Path, sessions: async_sessionmaker[AsyncSession]
):
    pk, client_id = await api.register_app()
    first, second = tmp_path / "who.graphql", tmp_path / "type.graphql"
    first.write_text(DOCUMENT)
    second.write_text(OTHER)

    added = await invoke("documents", "add", "--client", client_id, str(first), str(second))
    again = await invoke("documents", "add", "--client", client_id, str(first))
    listed = await invoke("documents", "list", "--client", client_id)

    other_id = trusted_documents.document_id(OTHER)
    assert added.exit_code == 0, added.output
    assert added.output.splitlines() == [f"{DOCUMENT_ID} {first}", f"{other_id} {second}"]
    assert again.output.strip() == f"{DOCUMENT_ID} {first} (already registered)"
    assert listed.output.split() == [DOCUMENT_ID, other_id]
    async with sessions() as session:
        assert await trusted_documents.find(session, pk, DOCUMENT_ID) == DOCUMENT


@pytest.mark.parametrize(
    ("text", "client", "says"),
    [
        ("{ viewer { nmae } }", None, "does not validate against the schema"),
        ("{ viewer ", None, "does not validate against the schema"),
        (DOCUMENT, "no-such-app", "no app with client id 'no-such-app'"),
    ],
)
async def test_documents_add_refuses_in_one_line(
    env: None, api: Api, tmp_path: Path, text: str, client: str | None, says: str
):
    _, client_id = await api.register_app()
    path = tmp_path / "doc.graphql"
    path.write_text(text)

    result = await invoke("documents", "add", "--client", client or client_id, str(path))
    listed = await invoke("documents", "list", "--client", client_id)

    assert result.exit_code == 2
    assert says in result.output and len(result.output.strip().splitlines()) == 1
    assert "Traceback" not in result.output
    assert listed.output == ""
