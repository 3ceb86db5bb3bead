"""Alif Bank on top of the plain OBP mapping: product codes, transaction attributes,
service payments and transfer details. Same client, same pages, richer records."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from connectors.alif.attributes import AlifAttributes, read_attributes
from connectors.alif.catalogue import find_provider
from connectors.alif.constants import PRODUCT_ACCOUNT_TYPES
from connectors.alif.transfers import add_alif_details
from connectors.base import (
    AccountRecord,
    ServicePaymentRecord,
    TransactionPageRecord,
    TransactionRecord,
    TransferRecord,
)
from connectors.masking import mask_account
from connectors.obp.fields import MappingError, money, obj, opt_list, opt_str
from connectors.obp.mapping import ObpMapper

# Category of a service payment whose provider is not in the catalogue and that came
# without a CATEGORY attribute.
DEFAULT_SERVICE_CATEGORY = "utilities"


def service_payment_id(transaction_id: str) -> str:
    """The service payment's id when Alif sent no SERVICE_PAYMENT_ID: one per transaction."""
    return f"{transaction_id}:service"


# The account attribute where Alif states the balance an account's history starts from.
OPENING_BALANCE = "OPENING_BALANCE"


class AlifMapper(ObpMapper):
    def account(self, raw: dict[str, Any]) -> AccountRecord:
        record = super().account(raw)
        for index, entry in enumerate(opt_list(raw, "account_attributes")):
            item = obj(entry, f"account_attributes[{index}]")
            if opt_str(item, "name") == OPENING_BALANCE:
                what = f"account_attributes[{index}].value"
                opening = money(item.get("value"), record.currency, what)
                return replace(record, opening=opening)
        return record

    def account_type(self, raw: dict[str, Any]) -> str:
        code = opt_str(raw, "product_code")
        if code is not None and code.upper() in PRODUCT_ACCOUNT_TYPES:
            return PRODUCT_ACCOUNT_TYPES[code.upper()]
        return super().account_type(raw)

    def transaction(
        self, raw: dict[str, Any], account_external_id: str
    ) -> list[TransactionPageRecord]:
        fields = self.transaction_fields(raw, account_external_id)
        listed = raw.get("transaction_attributes")
        if type(listed) is not list:
            listed = opt_list(raw, "transaction_attributes")
        attrs = read_attributes(listed)
        provider = find_provider(attrs.service_provider) if attrs.service_provider else None
        category = attrs.category or (provider.category if provider else None)
        payment_id = None
        if attrs.service_provider:
            payment_id = attrs.service_payment_id or service_payment_id(fields["external_id"])
        fields.update(
            status=attrs.status or fields["status"],
            type=attrs.type or ("SERVICE_PAYMENT" if attrs.service_provider else fields["type"]),
            mcc=attrs.mcc,
            merchant_name=attrs.merchant_name,
            category=category,
            original_amount=attrs.original_amount,
            fx_rate=attrs.fx_rate,
            card_external_id=attrs.card_id,
            transfer_external_id=attrs.transfer_id,
            service_payment_external_id=payment_id,
            counterparty_country=attrs.counterparty_country,
            replaces_external_id=attrs.pending_transaction_id,
        )
        tx = TransactionRecord(**fields)
        if payment_id is None or attrs.service_provider is None:
            return [tx]
        provider_name = provider.name if provider else attrs.service_provider
        return [tx, self._service_payment(tx, attrs, payment_id, provider_name)]

    def _service_payment(
        self, tx: TransactionRecord, attrs: AlifAttributes, payment_id: str, provider: str
    ) -> ServicePaymentRecord:
        if tx.booked_at is None:
            raise MappingError("details.posted is missing: a service payment needs its time")
        return ServicePaymentRecord(
            external_id=payment_id,
            account_external_id=tx.account_external_id,
            transaction_external_id=tx.external_id,
            provider=provider,
            category=tx.category or DEFAULT_SERVICE_CATEGORY,
            service_account_masked=(
                mask_account(attrs.service_account) if attrs.service_account else None
            ),
            amount=abs(tx.amount),  # the debit is negative; the payment is what was paid
            paid_at=tx.booked_at,
            autopay=bool(attrs.autopay),
        )

    def transfer(self, raw: dict[str, Any], account_external_id: str) -> TransferRecord:
        fields = self.transfer_fields(raw, account_external_id)
        add_alif_details(fields, obj(raw.get("details"), "details"))
        return TransferRecord(**fields)
