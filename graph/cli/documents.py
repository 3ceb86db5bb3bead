"""`alif-graph documents add|list`: an app's trusted documents (graph/server/documents.py)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import typer
from graphql import GraphQLError, parse, validate
from sqlalchemy.ext.asyncio import AsyncSession

from graph.schema import build_schema
from graph.settings import get_settings
from ledger import clients, trusted_documents
from ledger.db import create_engine, session_factory
from ledger.types import utcnow

documents_app = typer.Typer(help="Trusted documents: the GraphQL documents an app may run.")


def register(app: typer.Typer) -> None:
    app.add_typer(documents_app, name="documents")


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


def _checked(path: Path) -> str:
    """The file's text, when it is a GraphQL document that validates against the schema."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise _fail(f"cannot read {path}: {exc}") from None
    try:
        errors = validate(build_schema(get_settings())._schema, parse(text))
    except GraphQLError as exc:
        errors = [exc]
    if errors:
        raise _fail(f"{path} does not validate against the schema: {errors[0].message}")
    return text


async def _client_pk(session: AsyncSession, client_id: str) -> int:
    client = await clients.by_client_id(session, client_id)
    if client is None:
        raise _fail(f"no app with client id {client_id!r} (see `alif-graph client create`)")
    return client.id


@documents_app.command("add")
def documents_add(
    files: list[Path] = typer.Argument(..., help="GraphQL documents (.graphql files)."),
    client: str = typer.Option(..., "--client", help="The app's client id."),
) -> None:
    """Register documents for an app; prints each one's id (sha256:...), the id the app
    sends as documentId. Registering a document again changes nothing."""
    texts = [(path, _checked(path)) for path in files]

    async def work() -> list[trusted_documents.Registered]:
        engine = create_engine(get_settings().database_url)
        try:
            async with session_factory(engine).begin() as session:
                pk = await _client_pk(session, client)
                return [
                    await trusted_documents.register(session, pk, text, now=utcnow())
                    for _, text in texts
                ]
        finally:
            await engine.dispose()

    for (path, _), registered in zip(texts, asyncio.run(work()), strict=True):
        note = "" if registered.created else " (already registered)"
        typer.echo(f"{registered.document_id} {path}{note}")


@documents_app.command("list")
def documents_list(
    client: str = typer.Option(..., "--client", help="The app's client id."),
) -> None:
    """Print the ids of an app's documents, oldest first."""

    async def work() -> list[str]:
        engine = create_engine(get_settings().database_url)
        try:
            async with session_factory(engine)() as session:
                return await trusted_documents.ids(session, await _client_pk(session, client))
        finally:
            await engine.dispose()

    for document_id in asyncio.run(work()):
        typer.echo(document_id)
