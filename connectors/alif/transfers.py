"""Alif's extra fields inside a transaction request's `details`.

`to` {name, account, bank, country}, `direction`, `rail`, `corridor` ("RU->TJ"),
`destination_value` {currency, amount}, `fx_rate` and `status_history`
[{status, at, note}]. When a history is present, its latest entry is the transfer's
status: it knows states (ON_HOLD, SENT, AVAILABLE_FOR_PAYOUT, RETURNED) that OBP's
TransactionRequestStatus cannot express.
"""

from __future__ import annotations

import re
from typing import Any

from connectors.base import TransferEventRecord
from connectors.masking import mask_account
from connectors.obp.fields import (
    MappingError,
    decimal,
    obj,
    opt_list,
    opt_money_obj,
    opt_obj,
    opt_str,
    req_str,
    timestamp,
)

DIRECTIONS = frozenset({"INBOUND", "OUTBOUND"})
RAILS = frozenset(
    {"VISA_DIRECT", "SWIFT", "MONEY_TRANSFER_SYSTEM", "CARD_TO_CARD", "DOMESTIC", "OTHER"}
)
TRANSFER_STATUSES = frozenset(
    {
        "CREATED",
        "PENDING",
        "ON_HOLD",
        "SENT",
        "AVAILABLE_FOR_PAYOUT",
        "COMPLETED",
        "FAILED",
        "CANCELLED",
        "RETURNED",
    }
)
_CORRIDOR_RE = re.compile(r"^[A-Z]{2}->[A-Z]{2}$")
_COUNTRY_RE = re.compile(r"^[A-Z]{2}$")


def _choice(details: dict[str, Any], key: str, allowed: frozenset[str]) -> str | None:
    value = opt_str(details, key, f"details.{key}")
    if value is not None and value not in allowed:
        raise MappingError(f"details.{key} has an unknown value {value[:40]!r}")
    return value


def _pattern(parent: dict[str, Any], key: str, what: str, pattern: re.Pattern[str]) -> str | None:
    value = opt_str(parent, key, what)
    if value is not None and not pattern.match(value):
        raise MappingError(f"{what} has an unexpected format {value[:40]!r}")
    return value


def _history(details: dict[str, Any]) -> list[TransferEventRecord]:
    events = []
    for index, entry in enumerate(opt_list(details, "status_history", "details.status_history")):
        what = f"details.status_history[{index}]"
        item = obj(entry, what)
        status = req_str(item, "status", f"{what}.status")
        if status not in TRANSFER_STATUSES:
            raise MappingError(f"{what}.status has an unknown value {status[:40]!r}")
        at = timestamp(req_str(item, "at", f"{what}.at"), f"{what}.at")
        events.append(TransferEventRecord(status, at, opt_str(item, "note", f"{what}.note")))
    # Sorted by time; events at the same instant keep Alif's order.
    return sorted(events, key=lambda e: e.at)


def add_alif_details(fields: dict[str, Any], details: dict[str, Any]) -> None:
    """Update a plain OBP transfer's `TransferRecord` fields with what Alif adds."""
    to = opt_obj(details, "to", "details.to") or {}
    fx_text = details.get("fx_rate")
    fx_rate = None if fx_text is None else decimal(fx_text, "details.fx_rate")
    if fx_rate is not None and fx_rate <= 0:
        raise MappingError("details.fx_rate must be positive")
    account = opt_str(to, "account", "details.to.account")
    fields.update(
        direction=_choice(details, "direction", DIRECTIONS) or fields["direction"],
        rail=_choice(details, "rail", RAILS) or fields["rail"],
        corridor=_pattern(details, "corridor", "details.corridor", _CORRIDOR_RE),
        destination_amount=opt_money_obj(details, "destination_value", "details.destination_value"),
        source_amount=opt_money_obj(details, "source_value", "details.source_value"),
        fx_rate=fx_rate,
        counterparty_name=opt_str(to, "name", "details.to.name"),
        counterparty_account=mask_account(account) if account else fields["counterparty_account"],
        counterparty_country=_pattern(to, "country", "details.to.country", _COUNTRY_RE),
    )
    history = _history(details)
    if history:
        latest = history[-1]
        fields.update(
            status=latest.status,
            completed_at=latest.at if latest.status == "COMPLETED" else None,
            events=tuple(history),
        )
