"""The REST endpoints' answers as typed models: the OpenAPI document is generated from
them (graph/server/rest/openapi.py), and a test checks every real answer against it.

The handlers write their bodies with orjson (amounts must be exact decimals, see
encoding.py); these models describe those bodies, field for field, and refuse any other.
"""

from __future__ import annotations

from datetime import date
from functools import cache
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from graph.core.errors import ErrorCode
from graph.transactions.types import TransactionType

Amount = Annotated[
    float,
    Field(
        description="Exact decimal with the currency's number of decimals (TJS: 2), written "
        "from integer minor units, never through a float; debits are negative."
    ),
]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Transaction(_Body):
    id: str = Field(description="Global ID, as in GraphQL.")
    date: date
    amount: Amount
    type: TransactionType
    description: str | None
    balance_after: Amount | None


class TransactionPage(_Body):
    transactions: list[Transaction]
    total_count: int = Field(ge=0)


class Statement(_Body):
    opening_balance: Amount
    closing_balance: Amount
    total_debits: Amount = Field(description="Positive sum of the debits.")
    total_credits: Amount
    currency: str


class InternalError(_Body):
    """An unexpected failure: logged in full under the request id, shown to nobody."""

    error: Literal[ErrorCode.INTERNAL_SERVER_ERROR]
    request_id: str


@cache  # one model per status and codes: the document names it once
def error_model(status: int, codes: tuple[ErrorCode, ...]) -> type[BaseModel]:
    """The error body of one HTTP status: the codes that status answers with."""
    fields: dict[str, Any] = {
        "error": (Literal[codes], ...),
        "message": (str, ...),
        "request_id": (str, ...),
    }
    if ErrorCode.RATE_LIMITED in codes:
        fields["retry_after"] = (int, Field(ge=0, description="Seconds, as in Retry-After."))
    return create_model(f"Error{status}", __base__=_Body, **fields)
