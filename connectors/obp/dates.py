"""OBP date formats: UTC timestamps in responses, millisecond timestamps in filters."""

from __future__ import annotations

from datetime import UTC, datetime


def to_utc(value: datetime) -> datetime:
    """Aware datetimes are converted; naive ones are taken to be UTC already (as the ledger
    stores them on SQLite)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def format_filter_date(value: datetime) -> str:
    """`obp_from_date` / `obp_to_date`: `yyyy-MM-dd'T'HH:mm:ss.SSS'Z'`."""
    utc = to_utc(value)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def format_timestamp(value: datetime) -> str:
    """Request bodies: `yyyy-MM-dd'T'HH:mm:ss'Z'`."""
    return to_utc(value).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_timestamp(text: str) -> datetime:
    """An ISO-8601 timestamp (`2017-09-19T00:00:00Z`, with or without fraction or offset),
    or a bare date, as an aware UTC datetime. Raises ValueError otherwise."""
    try:
        return to_utc(datetime.fromisoformat(text))
    except OverflowError:  # year 1 or 9999 shifted past the calendar by its offset
        raise ValueError("timestamp out of range") from None
