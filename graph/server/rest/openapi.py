"""The OpenAPI 3.1 description of the seed-compatible REST endpoints."""

from __future__ import annotations

from typing import Any

from graph.transactions.types import TransactionType


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


_DATE = {"type": "string", "format": "date"}
_AMOUNT = {
    "type": "number",
    "description": "Exact decimal with the currency's number of decimals (TJS: 2); debits "
    "are negative.",
}
_ERROR = {
    "type": "object",
    "required": ["error", "request_id"],
    "properties": {
        "error": {
            "type": "string",
            "enum": [
                "UNAUTHENTICATED",
                "FORBIDDEN",
                "NOT_FOUND",
                "BAD_USER_INPUT",
                "INTERNAL_SERVER_ERROR",
            ],
        },
        "message": {"type": "string"},
        "request_id": {"type": "string"},
    },
}
_ERRORS = {
    str(status): {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    for status, description in (
        (400, "Invalid parameters."),
        (401, "No valid access token, or its consent is not authorised or has expired."),
        (403, "The consent lacks the scope."),
        (404, "No such account among the consented ones."),
    )
}


def openapi_document(max_limit: int) -> dict[str, Any]:
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
                            {"type": "string", "enum": [t.value for t in TransactionType]},
                            "Only this transaction type.",
                        ),
                        _query(
                            "limit",
                            {"type": "integer", "minimum": 0, "maximum": max_limit, "default": 20},
                            "Page size.",
                        ),
                        _query(
                            "offset",
                            {"type": "integer", "minimum": 0, "maximum": 100_000, "default": 0},
                            "Rows to skip.",
                        ),
                    ],
                    "responses": {
                        "200": {
                            "description": "A page of transactions.",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/TransactionPage"}
                                }
                            },
                        },
                        **_ERRORS,
                    },
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
                    "responses": {
                        "200": {
                            "description": "The statement.",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Statement"}
                                }
                            },
                        },
                        **_ERRORS,
                    },
                }
            },
        },
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            },
            "schemas": {
                "Transaction": {
                    "type": "object",
                    "required": ["id", "date", "amount", "type", "description", "balance_after"],
                    "properties": {
                        "id": {"type": "string", "description": "Global ID, as in GraphQL."},
                        "date": _DATE,
                        "amount": _AMOUNT,
                        "type": {"type": "string"},
                        "description": {"type": ["string", "null"]},
                        "balance_after": {**_AMOUNT, "type": ["number", "null"]},
                    },
                },
                "TransactionPage": {
                    "type": "object",
                    "required": ["transactions", "total_count"],
                    "properties": {
                        "transactions": {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/Transaction"},
                        },
                        "total_count": {"type": "integer"},
                    },
                },
                "Statement": {
                    "type": "object",
                    "required": [
                        "opening_balance",
                        "closing_balance",
                        "total_debits",
                        "total_credits",
                        "currency",
                    ],
                    "properties": {
                        "opening_balance": _AMOUNT,
                        "closing_balance": _AMOUNT,
                        "total_debits": {**_AMOUNT, "description": "Positive sum of debits."},
                        "total_credits": _AMOUNT,
                        "currency": {"type": "string"},
                    },
                },
                "Error": _ERROR,
            },
        },
    }
