"""Plain OBP JSON -> normalized connector records.

Works from standard OBP fields alone, so any OBP bank can be synced. A bank with richer
conventions (Alif: transaction attributes, transfer details) subclasses `ObpMapper` and
overrides the per-record methods; the page logic and the quarantine rule stay here:
a record that fails to map becomes a `SyncIssue`, and its siblings are still mapped.
The vocabulary tables (types, statuses, rails) are in `vocabulary.py`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any, TypeVar

from connectors.base import (
    AccountRecord,
    BalanceRecord,
    CardRecord,
    Page,
    SyncIssue,
    TransactionPageRecord,
    TransactionRecord,
    TransferEventRecord,
    TransferRecord,
)
from connectors.masking import (
    PanFormatError,
    excerpt,
    mask_account,
    mask_pan,
    pan_prefix,
    redact,
)
from connectors.obp.cards import card_fingerprint, card_scheme, card_status, expiry_text
from connectors.obp.fields import (
    Finite,
    MappingError,
    check_finite,
    money,
    money_obj,
    obj,
    opt_bool,
    opt_list,
    opt_money_obj,
    opt_obj,
    opt_str,
    opt_timestamp,
    req_str,
    timestamp,
)
from connectors.obp.vocabulary import (
    FINAL_TRANSFER_STATUSES,
    TRANSFER_RAILS,
    account_type,
    balance_type,
    transaction_type,
    transfer_status,
    upper_key,
)
from ledger.money import MoneyError


def _today() -> date:
    return datetime.now(UTC).date()


def first_routing_address(parent: dict[str, Any], what: str) -> str | None:
    """The first non-empty address of an `account_routings` list."""
    for index, routing in enumerate(
        opt_list(parent, "account_routings", f"{what}.account_routings")
    ):
        address = opt_str(obj(routing, f"{what}.account_routings[{index}]"), "address")
        if address:
            return address
    return None


def _item_id(raw: Any, id_keys: tuple[str, ...]) -> str | None:
    if isinstance(raw, dict):
        for key in id_keys:
            value = raw.get(key)
            if isinstance(value, str) and value:
                return value
    return None


def _issue_id(raw: Any, id_keys: tuple[str, ...]) -> str | None:
    # OBP ids are at most 255 characters; a longer one is a bad record, whose issue must
    # still fit its column.
    value = _item_id(raw, id_keys)
    return None if value is None else value[:255]


def _str_at(parent: dict[str, Any], key: str, what: str) -> str | None:
    """`opt_str`, its plain cases inline (a sync reads ten of these a row)."""
    value = parent.get(key)
    if value is None:
        return None
    if type(value) is str:
        return value.strip() or None
    return opt_str(parent, key, what)


def _timestamp_at(parent: dict[str, Any], key: str, what: str) -> datetime | None:
    """`opt_timestamp`, as `_str_at`."""
    value = parent.get(key)
    if value is None:
        return None
    if type(value) is str and value and value == value.strip():
        return timestamp(value, what)
    return opt_timestamp(parent, key, what)


R = TypeVar("R")


def map_page(
    kind: str,
    raw: list[Any],
    map_one: Callable[[dict[str, Any]], list[R]],
    *,
    id_keys: tuple[str, ...] = ("id",),
    offset: int = 0,
) -> Page[R]:
    """Map each raw item; a MappingError (or money arithmetic out of range, such as the
    absolute value of the most negative amount) quarantines that item only. `positions`
    holds each served item's id in served order, quarantined ones included."""
    page: Page[R] = Page(
        offset=offset, raw_count=len(raw), positions=[_item_id(item, id_keys) for item in raw]
    )
    for item in raw:
        try:
            if not isinstance(raw, Finite):
                check_finite(item, kind)
            page.records.extend(map_one(obj(item, kind)))
        except (MappingError, MoneyError) as exc:
            page.issues.append(
                SyncIssue(kind, _issue_id(item, id_keys), redact(str(exc)), excerpt(item))
            )
    return page


class ObpMapper:
    """Maps plain OBP v5.1.0 JSON. Subclasses override the per-record methods."""

    def __init__(self, *, today: Callable[[], date] = _today) -> None:
        # Card expiry depends on the date; injectable so tests do not age.
        self._today = today

    # -- pages ---------------------------------------------------------------------

    def map_accounts(self, raw: list[Any]) -> Page[AccountRecord]:
        """Account detail objects (`GET .../accounts/ID/views/owner`), one per account."""
        return map_page("account", raw, lambda item: [self.account(item)])

    def map_balances(self, raw: list[Any], as_of: datetime) -> Page[BalanceRecord]:
        """Entries of `GET /banks/ID/balances` (or one `.../balances` answer each)."""
        return map_page(
            "balance", raw, lambda item: self.balances(item, as_of), id_keys=("account_id", "id")
        )

    def map_cards(self, raw: list[Any]) -> Page[CardRecord]:
        return map_page("card", raw, lambda item: [self.card(item)], id_keys=("card_id",))

    def map_transactions(
        self, raw: list[Any], account_external_id: str, offset: int = 0
    ) -> Page[TransactionPageRecord]:
        return map_page(
            "transaction",
            raw,
            lambda item: self.transaction(item, account_external_id),
            offset=offset,
        )

    def map_transfers(self, raw: list[Any], account_external_id: str) -> Page[TransferRecord]:
        """`transaction_requests_with_charges` entries."""
        return map_page("transfer", raw, lambda item: [self.transfer(item, account_external_id)])

    # -- records -------------------------------------------------------------------

    def account_type(self, raw: dict[str, Any]) -> str:
        return account_type(opt_str(raw, "product_code"), opt_str(raw, "account_type"))

    def account(self, raw: dict[str, Any]) -> AccountRecord:
        account_id = req_str(raw, "id")
        balance = opt_obj(raw, "balance") or {}
        currency = opt_str(balance, "currency", "balance.currency")
        if currency is None:
            raise MappingError("balance.currency is missing: the account currency is unknown")
        routings = []
        for index, routing in enumerate(opt_list(raw, "account_routings")):
            item = obj(routing, f"account_routings[{index}]")
            scheme, address = opt_str(item, "scheme"), opt_str(item, "address")
            if scheme and address:
                routings.append((scheme, address))
        number = opt_str(raw, "number")
        return AccountRecord(
            external_id=account_id,
            bank_id=req_str(raw, "bank_id"),
            name=opt_str(raw, "label") or number or account_id,
            type=self.account_type(raw),
            currency=currency,
            number=number,
            product_code=opt_str(raw, "product_code"),
            routings=tuple(routings),
        )

    def balances(self, raw: dict[str, Any], as_of: datetime) -> list[BalanceRecord]:
        account_id = opt_str(raw, "account_id") or req_str(raw, "id", "account_id")
        records = []
        for index, entry in enumerate(opt_list(raw, "balances")):
            what = f"balances[{index}]"
            item = obj(entry, what)
            records.append(
                BalanceRecord(
                    account_external_id=account_id,
                    type=balance_type(opt_str(item, "type", f"{what}.type")),
                    amount=money(item.get("amount"), item.get("currency"), what),
                    as_of=as_of,
                )
            )
        return records

    def card(self, raw: dict[str, Any]) -> CardRecord:
        number = req_str(raw, "bank_card_number")
        try:
            pan_masked = mask_pan(number)
        except PanFormatError as exc:
            raise MappingError(f"bank_card_number: {exc}") from None
        account = opt_obj(raw, "account") or {}
        account_id = opt_str(account, "id", "account.id")
        networks = [n for n in opt_list(raw, "networks") if isinstance(n, str)]
        expires = opt_timestamp(raw, "expires_date")
        expires_on = expiry_text(expires)
        return CardRecord(
            external_id=opt_str(raw, "card_id")
            or card_fingerprint(opt_str(raw, "bank_id"), account_id, pan_masked, expires_on),
            account_external_id=account_id,
            scheme=card_scheme(pan_prefix(number), networks),
            pan_masked=pan_masked,
            holder_name=opt_str(raw, "name_on_card"),
            expires_on=expires_on,
            status=card_status(
                enabled=opt_bool(raw, "enabled"),
                cancelled=opt_bool(raw, "cancelled"),
                on_hot_list=opt_bool(raw, "on_hot_list"),
                expires=expires,
                today=self._today(),
            ),
        )

    def transaction(
        self, raw: dict[str, Any], account_external_id: str
    ) -> list[TransactionPageRecord]:
        """The records one upstream transaction yields (Alif adds a service payment)."""
        return [self.base_transaction(raw, account_external_id)]

    def base_transaction(self, raw: dict[str, Any], account_external_id: str) -> TransactionRecord:
        return TransactionRecord(**self.transaction_fields(raw, account_external_id))

    def transaction_fields(self, raw: dict[str, Any], account_external_id: str) -> dict[str, Any]:
        """A plain OBP transaction's `TransactionRecord` fields, as keywords: a subclass
        adds its own and builds the record once (`dataclasses.replace` of a built record
        costs ~4 µs a row, a fifth of the mapping).

        The hot path of a sync: each field is read inline where it is well-formed and
        handed to its reader in `fields` (which raises the reason) where it is not, in the
        order those readers ran."""
        tx_id = req_str(raw, "id")
        details = raw.get("details")
        if type(details) is not dict:
            details = obj(details, "details")
        amount = money_obj(details, "value", "details.value")
        posted = _timestamp_at(details, "posted", "details.posted")
        completed = _timestamp_at(details, "completed", "details.completed")
        if posted is None and completed is None:
            raise MappingError(
                "details.posted and details.completed are both null (hidden by the view):"
                " the transaction has no date"
            )
        other = raw.get("other_account")
        if type(other) is not dict:
            other = opt_obj(raw, "other_account") or {}
        holder = other.get("holder")
        if type(holder) is not dict:
            holder = opt_obj(other, "holder", "other_account.holder") or {}
        bank = other.get("bank_routing")
        if type(bank) is not dict:
            bank = opt_obj(other, "bank_routing", "other_account.bank_routing") or {}
        routings = other.get("account_routings")
        counterparty_account = (
            None
            if routings is None or routings == []
            else first_routing_address(other, "other_account")
        )
        balance = details.get("new_balance")
        balance_after = (
            None
            if balance is None or (type(balance) is dict and balance.get("amount") is None)
            else opt_money_obj(details, "new_balance", "details.new_balance")
        )
        return {
            "external_id": tx_id,
            "account_external_id": account_external_id,
            # OBP sets `completed` when the transaction is final; until then it is pending.
            "status": "PENDING" if completed is None else "BOOKED",
            "booking_date": posted.date() if posted else None,
            "value_date": completed.date() if completed else None,
            "booked_at": posted,
            "amount": amount,
            "balance_after": balance_after,
            "type": transaction_type(_str_at(details, "type", "details.type"), amount),
            "description": _str_at(details, "description", "details.description"),
            "counterparty_name": _str_at(holder, "name", "other_account.holder.name"),
            "counterparty_account": mask_account(counterparty_account)
            if counterparty_account
            else None,
            "counterparty_bank": _str_at(bank, "address", "other_account.bank_routing.address"),
        }

    def transfer(self, raw: dict[str, Any], account_external_id: str) -> TransferRecord:
        return TransferRecord(**self.transfer_fields(raw, account_external_id))

    def transfer_fields(self, raw: dict[str, Any], account_external_id: str) -> dict[str, Any]:
        """A plain OBP transaction request's `TransferRecord` fields, as keywords (as
        `transaction_fields`, so a subclass builds the record once)."""
        request_id = req_str(raw, "id")
        details = obj(raw.get("details"), "details")
        charge = opt_obj(raw, "charge") or {}
        to = opt_obj(details, "to", "details.to") or {}
        status = transfer_status(req_str(raw, "status"))
        created = timestamp(req_str(raw, "start_date"), "start_date")
        ended = opt_timestamp(raw, "end_date")
        to_account = opt_str(to, "account_id", "details.to.account_id") or opt_str(
            to, "iban", "details.to.iban"
        )
        at = ended if ended and status in FINAL_TRANSFER_STATUSES else created
        return dict(
            external_id=request_id,
            account_external_id=account_external_id,
            direction="OUTBOUND",  # a transaction request is always made by this account
            amount=money_obj(details, "value", "details.value"),
            fee=opt_money_obj(charge, "value", "charge.value"),
            destination_amount=None,
            fx_rate=None,
            rail=TRANSFER_RAILS.get(upper_key(opt_str(raw, "type") or ""), "OTHER"),
            corridor=None,
            counterparty_name=None,
            counterparty_account=mask_account(to_account) if to_account else None,
            counterparty_country=None,
            reference=opt_str(details, "description", "details.description"),
            status=status,
            created_at=created,
            completed_at=ended if status == "COMPLETED" else None,
            events=(TransferEventRecord(status=status, at=at),),
        )
