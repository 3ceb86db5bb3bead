"""Trusted documents (persisted operations): a request names a document its app registered
instead of sending the query text.

The id is `sha256:<hex>` of the document's text, sent as `{"documentId": "sha256:..."}` or,
as Apollo's persisted queries do, `{"extensions": {"persistedQuery": {"sha256Hash": "<hex>"}}}`.
Documents are registered per app (`alif-graph documents add`), so a document is found only
for the app whose token the request carries. With `settings.trusted_documents` on, every
request must name a registered document: what a scanner or a stolen token may ask is then
what the app's own code asks, nothing else. Off, a request may still send an id instead of
the text.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import orjson
from starlette.requests import Request
from strawberry.http import GraphQLRequestData

from graph.context import Context
from graph.core.errors import BadUserInput, ErrorCode, PublicError
from ledger import trusted_documents


class DocumentNotFound(PublicError):
    code = ErrorCode.PERSISTED_QUERY_NOT_FOUND


class DocumentRequired(PublicError):
    code = ErrorCode.PERSISTED_QUERY_REQUIRED


async def resolve(
    request: Request, data: GraphQLRequestData, context: Context
) -> GraphQLRequestData:
    """`data` with the query its document id names; raises a PublicError when the id is
    malformed or unknown to the app, or (trusted documents on) when there is no id."""
    required = context.settings.trusted_documents
    if data.query is not None and not required:
        return data  # the text is what runs; an id alongside it is Apollo's cache key only
    requested = await _requested_id(request, data)
    if requested is None:
        if required and data.query is not None:
            raise DocumentRequired(
                "This API runs registered documents only: send the document's id "
                "(documentId), not its text."
            )
        return data  # neither text nor id: strawberry's own "no query" answer
    key = trusted_documents.parse_id(requested) if isinstance(requested, str) else None
    if key is None:
        raise BadUserInput("documentId must be sha256: followed by 64 hex digits.")
    client_pk = context.principal.consent.client_pk
    document = None
    if client_pk is not None:
        async with context.db.session() as session:
            document = await trusted_documents.find(session, client_pk, key)
    if document is None:
        raise DocumentNotFound("No document with this id is registered for this app.")
    if data.query is not None and trusted_documents.document_id(data.query) != key:
        raise BadUserInput("The query sent is not the document its id names.")
    return replace(data, query=document)


async def _requested_id(request: Request, data: GraphQLRequestData) -> Any:
    persisted = (data.extensions or {}).get("persistedQuery")
    if isinstance(persisted, dict) and "sha256Hash" in persisted:
        return persisted["sha256Hash"]
    if request.method == "GET":
        return request.query_params.get("documentId")
    # strawberry keeps only the fields it knows; the body is read already (and cached).
    try:
        body = orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        return None
    return body.get("documentId") if isinstance(body, dict) else None
