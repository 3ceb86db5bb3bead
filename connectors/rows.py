"""Normalized records -> ledger row dicts.

Each function returns the same keys for every record, so a page is one executemany. Only
upstream facts go in; derived columns (resolved foreign keys, the customer's category,
superseded_at) are the ledger's and stay out of the payload hash.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from connectors.base import (
    AccountRecord,
    CardRecord,
    ServicePaymentRecord,
    SyncIssue,
    TransactionRecord,
    TransferRecord,
)
from connectors.masking import mask_account
from ledger.money import Money


def _minor(money: Money | None) -> int | None:
    return money.minor if money is not None else None


def _currency(money: Money | None) -> str | None:
    return money.currency if money is not None else None


def _rate(rate: Decimal | None) -> str | None:
    return str(rate) if rate is not None else None


def account_row(
    record: AccountRecord, *, connection_id: int, user_id: int, institution_id: int
) -> dict[str, Any]:
    return {
        "connection_id": connection_id,
        "external_id": record.external_id,
        "institution_id": institution_id,
        "user_id": user_id,
        "type": record.type,
        "name": record.name,
        "number": record.number,
        "number_masked": mask_account(record.number or record.external_id),
        "currency": record.currency,
        "product_code": record.product_code,
    }


def card_row(record: CardRecord, *, connection_id: int, account_id: int | None) -> dict[str, Any]:
    return {
        "connection_id": connection_id,
        "external_id": record.external_id,
        "account_id": account_id,
        "scheme": record.scheme,
        "pan_masked": record.pan_masked,
        "holder_name": record.holder_name,
        "expires_on": record.expires_on,
        "status": record.status,
    }


def transaction_row(
    record: TransactionRecord, *, connection_id: int, account_id: int
) -> dict[str, Any]:
    # One a row of every sync: the optional amounts read inline, not through `_minor`.
    amount, balance, original = record.amount, record.balance_after, record.original_amount
    return {
        "connection_id": connection_id,
        "external_id": record.external_id,
        "account_id": account_id,
        "status": record.status,
        "booking_date": record.booking_date or record.value_date,
        "value_date": record.value_date,
        "booked_at": record.booked_at,
        "amount_minor": amount.minor,
        "currency": amount.currency,
        "balance_after_minor": None if balance is None else balance.minor,
        "type": record.type,
        "description": record.description,
        "counterparty_name": record.counterparty_name,
        "counterparty_account": record.counterparty_account,
        "counterparty_bank": record.counterparty_bank,
        "counterparty_country": record.counterparty_country,
        "merchant_name": record.merchant_name,
        "mcc": record.mcc,
        "category": record.category,
        "category_source": "PROVIDER" if record.category else None,
        "original_amount_minor": None if original is None else original.minor,
        "original_currency": None if original is None else original.currency,
        "fx_rate": _rate(record.fx_rate),
        "card_external_id": record.card_external_id,
        "transfer_external_id": record.transfer_external_id,
        "service_payment_external_id": record.service_payment_external_id,
        "replaces_external_id": record.replaces_external_id,
    }


def service_payment_row(
    record: ServicePaymentRecord, *, connection_id: int, account_id: int
) -> dict[str, Any]:
    return {
        "connection_id": connection_id,
        "external_id": record.external_id,
        "account_id": account_id,
        "transaction_external_id": record.transaction_external_id,
        "provider": record.provider,
        "category": record.category,
        "service_account_masked": record.service_account_masked,
        "amount_minor": record.amount.minor,
        "currency": record.amount.currency,
        "paid_at": record.paid_at,
        "autopay": record.autopay,
    }


def transfer_row(record: TransferRecord, *, connection_id: int, account_id: int) -> dict[str, Any]:
    return {
        "connection_id": connection_id,
        "external_id": record.external_id,
        "account_id": account_id,
        "direction": record.direction,
        "amount_minor": record.amount.minor,
        "currency": record.amount.currency,
        "fee_minor": _minor(record.fee),
        "fee_currency": _currency(record.fee),
        "destination_amount_minor": _minor(record.destination_amount),
        "destination_currency": _currency(record.destination_amount),
        "source_amount_minor": _minor(record.source_amount),
        "source_currency": _currency(record.source_amount),
        "fx_rate": _rate(record.fx_rate),
        "rail": record.rail,
        "corridor": record.corridor,
        "counterparty_name": record.counterparty_name,
        "counterparty_account": record.counterparty_account,
        "counterparty_country": record.counterparty_country,
        "reference": record.reference,
        "status": record.status,
        "initiated_at": record.created_at,
        "completed_at": record.completed_at,
    }


def issue_row(issue: SyncIssue) -> dict[str, Any]:
    return {
        "kind": issue.kind[:24],
        "external_id": issue.external_id[:255] if issue.external_id else None,
        "reason": issue.reason[:500],
        "excerpt": issue.excerpt[:500],
    }
