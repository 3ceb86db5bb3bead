"""The OpenAPI 3.1 description of the seed-compatible REST endpoints, generated from the
typed answers in graph/server/rest/models.py and the status of each error code in
routes.STATUS, so the document cannot drift from what the handlers send (a test replays
every documented answer of every route against it)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from graph.core.errors import ErrorCode
from graph.server.rest import models
from graph.server.rest.routes import MAX_OFFSET, STATUS, TYPE_WORDS
from graph.transactions.types import TransactionType
from ledger.exports import BY_EXTENSION, FORMATS

_REF = "#/components/schemas/{model}"
E = ErrorCode
# The errors each route can answer with, besides 500 (anything unexpected).
TRANSACTION_ERRORS = (E.BAD_USER_INPUT, E.UNAUTHENTICATED, E.FORBIDDEN, E.RATE_LIMITED)
STATEMENT_ERRORS = (*TRANSACTION_ERRORS, E.NOT_FOUND)
DOWNLOAD_ERRORS = (E.NOT_FOUND,)
_WHY = {
    400: "Invalid parameters, or a request costing more than the rate limit allows at once.",
    401: "No valid access token, or its consent is not authorised or has expired.",
    403: "The consent lacks the scope.",
    404: "No such account among the consented ones (a file: or no such format; a download "
    "link: invalid, expired, its consent ended, or its statement has changed since).",
    429: "Over the rate limit: retry after `retry_after` seconds (also in Retry-After).",
    500: "An unexpected failure; quote the request id.",
}


def _statuses(codes: tuple[ErrorCode, ...]) -> dict[int, tuple[ErrorCode, ...]]:
    by_status: dict[int, tuple[ErrorCode, ...]] = {}
    for code in codes:
        by_status[STATUS[code]] = (*by_status.get(STATUS[code], ()), code)
    return dict(sorted(by_status.items()))


def error_models(codes: tuple[ErrorCode, ...]) -> dict[int, type[BaseModel]]:
    """The error body of each status a route answers with, 500 included."""
    found = {s: models.error_model(s, c) for s, c in _statuses(codes).items()}
    return {**found, 500: models.InternalError}


def _query(
    name: str, schema: dict[str, Any], description: str, *, required: bool = False
) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": required,
        "schema": schema,
        "description": description,
    }


def _json(model: type[BaseModel], description: str) -> dict[str, Any]:
    ref = _REF.format(model=model.__name__)
    return {"description": description, "content": {"application/json": {"schema": {"$ref": ref}}}}


def _responses(
    success: type[BaseModel], description: str, errors: dict[int, type[BaseModel]]
) -> dict[str, Any]:
    return {
        "200": _json(success, description),
        **{str(status): _json(model, _WHY[status]) for status, model in errors.items()},
    }


_DATE = {"type": "string", "format": "date"}


def _files(description: str, errors: dict[int, type[BaseModel]]) -> dict[str, Any]:
    """A file answer: one media type per format (ledger/exports), bytes."""
    binary = {"schema": {"type": "string", "format": "binary"}}
    types = sorted({info.media_type for info in FORMATS.values()})
    return {
        "200": {
            "description": description,
            "headers": {
                "Content-Disposition": {"schema": {"type": "string"}},
                "X-Content-SHA256": {"schema": {"type": "string"}},
            },
            "content": dict.fromkeys(types, binary),
        },
        **{str(status): _json(model, _WHY[status]) for status, model in errors.items()},
    }


def openapi_document(max_limit: int) -> dict[str, Any]:
    transaction_errors = error_models(TRANSACTION_ERRORS)
    statement_errors = error_models(STATEMENT_ERRORS)
    download_errors = error_models(DOWNLOAD_ERRORS)
    bodies: list[type[BaseModel]] = [models.TransactionPage, models.Statement]
    bodies += [*transaction_errors.values(), *statement_errors.values()]
    bodies += [*download_errors.values()]
    _, schemas = models_json_schema(
        [(m, "validation") for m in dict.fromkeys(bodies)], ref_template=_REF
    )
    words = ", ".join([*TYPE_WORDS, *(t.value for t in TransactionType)])
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "alif-graph seed-compatible REST API",
            "version": "1.0.0",
            "description": "Read-only, consent-gated. The GraphQL API at /graphql offers more.",
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": {
            "/api/v1/alif/transactions": {
                "get": {
                    "summary": "Transactions of the consented accounts, newest first.",
                    "description": "Requires scope transactions:read. Pending transactions "
                    "replaced by booked ones are left out.",
                    "parameters": [
                        _query("from_date", _DATE, "First booking date, inclusive."),
                        _query("to_date", _DATE, "Last booking date, inclusive."),
                        _query(
                            "type",
                            {"type": "string"},
                            f"Only this kind of transaction, any case: one of {words}.",
                        ),
                        _query(
                            "limit",
                            {"type": "integer", "minimum": 0, "maximum": max_limit, "default": 20},
                            "Page size.",
                        ),
                        _query(
                            "offset",
                            {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET, "default": 0},
                            "Rows to skip.",
                        ),
                    ],
                    "responses": _responses(
                        models.TransactionPage, "A page of transactions.", transaction_errors
                    ),
                }
            },
            "/api/v1/alif/accounts/{accountId}/statement": {
                "get": {
                    "summary": "Statement of an account for a period (booked transactions).",
                    "description": "Requires scope statements:read.",
                    "parameters": [
                        {
                            "name": "accountId",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                            "description": "The account's global ID, as GraphQL returns it.",
                        },
                        _query("from_date", _DATE, "First booking date.", required=True),
                        _query("to_date", _DATE, "Last booking date.", required=True),
                    ],
                    "responses": _responses(models.Statement, "The statement.", statement_errors),
                }
            },
            "/api/v1/alif/accounts/{accountId}/statement.{extension}": {
                "get": {
                    "summary": "Statement of an account for a period as a file (docs/exports.md).",
                    "description": "Requires scope statements:read. Booked transactions "
                    "unless booked_only=false; the totals are the statement's.",
                    "parameters": [
                        {
                            "name": "accountId",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                            "description": "The account's global ID, as GraphQL returns it.",
                        },
                        {
                            "name": "extension",
                            "in": "path",
                            "required": True,
                            "schema": {"enum": sorted(BY_EXTENSION)},
                            "description": "The format: camt.053, CSV, OFX, Beancount, 1C, PDF.",
                        },
                        _query("from_date", _DATE, "First booking date.", required=True),
                        _query("to_date", _DATE, "Last booking date.", required=True),
                        _query("locale", {"enum": ["ru", "tg", "uz", "en"]}, "The PDF's language."),
                        _query(
                            "booked_only",
                            {"type": "boolean", "default": True},
                            "False: pending transactions too.",
                        ),
                    ],
                    "responses": _files("The file, as an attachment.", statement_errors),
                }
            },
            "/api/v1/exports/{link}": {
                "get": {
                    "summary": "Download the file of a GraphQL `statementExport` link.",
                    "description": "No token: the signed link, valid for minutes, is the "
                    "authority; the consent that made it must still be usable.",
                    "security": [],
                    "parameters": [
                        {
                            "name": "link",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                            "description": "The last segment of `StatementExport.url`.",
                        }
                    ],
                    "responses": _files("The file the link describes.", download_errors),
                }
            },
        },
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            },
            "schemas": schemas["$defs"],
        },
    }
