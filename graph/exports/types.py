"""The GraphQL side of statement exports: the formats, the link, and its typed errors."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated

import strawberry

from ledger.exports import ExportFormat


@strawberry.enum(description="A statement file format (docs/exports.md).")
class StatementFormat(Enum):
    CAMT053 = ExportFormat.CAMT053.value
    CSV = ExportFormat.CSV.value
    OFX = ExportFormat.OFX.value
    BEANCOUNT = ExportFormat.BEANCOUNT.value
    ONE_C = ExportFormat.ONE_C.value
    PDF = ExportFormat.PDF.value


@strawberry.type(
    description="A statement file ready to download: the link is signed, serves only this "
    "file of this customer, and expires within minutes."
)
class StatementExport:
    url: str = strawberry.field(description="GET it, without a token, before `expiresAt`.")
    expires_at: datetime
    filename: str
    content_type: str
    size: int = strawberry.field(description="Bytes.")
    sha256: str = strawberry.field(description="Hex SHA-256 of the file.")
    transaction_count: int


@strawberry.enum
class StatementExportErrorCode(Enum):
    NOT_FOUND = "NOT_FOUND"  # no such account among the consented ones
    BAD_PERIOD = "BAD_PERIOD"  # `from` after `to`
    TOO_LARGE = "TOO_LARGE"  # more rows than the format holds (PDF)


@strawberry.type(description="No file was made.")
class StatementExportError:
    code: StatementExportErrorCode
    message: str


StatementExportResult = Annotated[
    StatementExport | StatementExportError, strawberry.union("StatementExportResult")
]
