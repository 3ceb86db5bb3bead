"""Trusted documents (persisted operations): the GraphQL documents an app registered, by
their id `sha256:<hex digest of the document's UTF-8 text>`. The one owner of the
`trusted_document` table."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.models import TrustedDocument, table

DOCUMENTS = table(TrustedDocument)
PREFIX = "sha256:"


def document_id(document: str) -> str:
    """The id of `document`: the text as sent, byte for byte (no normalising: the id a
    client computes over its own file must be the id stored)."""
    return PREFIX + hashlib.sha256(document.encode()).hexdigest()


def parse_id(value: str) -> str | None:
    """`value` as a stored id (`sha256:<hex>`, or the bare hex of APQ's sha256Hash), or
    None when it is neither."""
    digest = value.removeprefix(PREFIX).lower()
    if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
        return None
    return PREFIX + digest


@dataclass(frozen=True, slots=True)
class Registered:
    document_id: str
    created: bool  # False when the client had it already


async def register(
    session: AsyncSession, client_pk: int, document: str, *, now: datetime
) -> Registered:
    """Register `document` for the client; registering it again changes nothing."""
    key = document_id(document)
    if await find(session, client_pk, key) is not None:
        return Registered(key, created=False)
    session.add(
        TrustedDocument(client_pk=client_pk, document_id=key, document=document, created_at=now)
    )
    await session.flush()
    return Registered(key, created=True)


async def find(session: AsyncSession, client_pk: int, key: str) -> str | None:
    """The client's document with this id, or None."""
    found = await session.execute(
        select(DOCUMENTS.c.document).where(
            DOCUMENTS.c.client_pk == client_pk, DOCUMENTS.c.document_id == key
        )
    )
    return found.scalar_one_or_none()


async def ids(session: AsyncSession, client_pk: int) -> list[str]:
    """The client's document ids, oldest first."""
    found = await session.execute(
        select(DOCUMENTS.c.document_id)
        .where(DOCUMENTS.c.client_pk == client_pk)
        .order_by(DOCUMENTS.c.id)
    )
    return list(found.scalars())
