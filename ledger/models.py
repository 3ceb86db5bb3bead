"""The normalized ledger: one table per entity of DESIGN.md.

Conventions:
- money is `<name>_minor` BIGINT plus a `currency` (or `<name>_currency`) column; never float
  or Numeric. Exact non-money decimals (FX rates) are stored as canonical decimal strings;
- every upstream-sourced row has an upstream identity and a `payload_hash`, so a
  re-delivered unchanged record touches nothing. The identity is `(connection_id,
  external_id)`, except for transactions: `(account_id, external_id)`, as OBP keys them by
  (bank, account, id) and both legs of an own-account transfer may carry one id;
- upstream text columns are as wide as the OBP field they come from (OBP-API's own mapper
  sizes): descriptions and references 2000 (`MappedTransaction.description`), names,
  holders, routing addresses and product codes 255 (`counterpartyAccountHolder`,
  `accountLabel`, `CPOtherAccountRoutingAddress`, OBP's names); a card's `name_on_card` is
  128 there, 255 here like every other name;
- timestamps are aware UTC (`UTCDateTime`);
- enumerations are short strings validated by the layers that write them, which keeps
  migrations free of database enum types.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Index, LargeBinary, Table, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from ledger.types import BigId, UTCDateTime, utcnow


def _now_field() -> datetime:
    return Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class Institution(SQLModel, table=True):
    __tablename__ = "institution"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True)
    name: str = Field(max_length=200)
    country: str = Field(max_length=2)
    bic: str | None = Field(default=None, max_length=11)
    created_at: datetime = _now_field()


class User(SQLModel, table=True):
    """The PSU: a bank customer, identified by phone number."""

    __tablename__ = "customer"

    id: int | None = Field(default=None, primary_key=True)
    phone: str = Field(max_length=16, unique=True)
    locale: str = Field(default="ru", max_length=2)
    # The knowledge factor of SCA: an argon2 hash (never the PIN); NULL until the first
    # approval sets it.
    pin_hash: str | None = Field(default=None, max_length=200)
    created_at: datetime = _now_field()


class Client(SQLModel, table=True):
    """A registered third-party application."""

    __tablename__ = "client"

    id: int | None = Field(default=None, primary_key=True)
    client_id: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=200)
    secret_hash: str = Field(max_length=200)
    redirect_uris: str = Field(default="")  # newline-separated, matched exactly
    allowed_scopes: str = Field(default="")  # space-separated
    created_at: datetime = _now_field()


class TrustedDocument(SQLModel, table=True):
    """A GraphQL document an app registered (ledger/trusted_documents.py): with trusted
    documents on, the only documents the app's requests may run."""

    __tablename__ = "trusted_document"
    __table_args__ = (UniqueConstraint("client_pk", "document_id"),)

    id: int | None = Field(default=None, primary_key=True)
    client_pk: int = Field(foreign_key="client.id", index=True)
    document_id: str = Field(max_length=71)  # "sha256:" + the document's hex digest
    document: str
    created_at: datetime = _now_field()


class Connection(SQLModel, table=True):
    """A customer's link to one bank: encrypted upstream credentials and consent."""

    __tablename__ = "connection"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="customer.id", index=True)
    institution_id: int = Field(foreign_key="institution.id")
    provider: str = Field(max_length=16)  # alif | obp
    base_url: str = Field(max_length=500)
    bank_id: str = Field(max_length=255)
    credentials_encrypted: bytes = Field(sa_type=LargeBinary)
    upstream_consent_expires_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    status: str = Field(default="ACTIVE", max_length=24)
    last_synced_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = _now_field()
    updated_at: datetime = _now_field()


class Consent(SQLModel, table=True):
    """What a customer allowed a client to read, for how long."""

    __tablename__ = "consent"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="customer.id", index=True)
    client_id: int | None = Field(default=None, foreign_key="client.id", index=True)
    scopes: str = Field(default="")  # space-separated
    account_ids: str = Field(default="")  # space-separated ledger account ids
    status: str = Field(default="AWAITING_AUTHORISATION", max_length=32)
    created_at: datetime = _now_field()
    expires_at: datetime = Field(sa_type=UTCDateTime)
    sca_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    updated_at: datetime = _now_field()


class ScaChallenge(SQLModel, table=True):
    """A one-time code sent to the customer to authorise one consent.

    Only an HMAC of the code is stored (under a key derived from the server secret, so the
    million possible codes cannot be tried offline against a stolen database).
    """

    __tablename__ = "sca_challenge"
    __table_args__ = (Index("ix_sca_challenge_consent", "consent_id", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    consent_id: int = Field(foreign_key="consent.id")
    code_hash: str = Field(max_length=64)
    attempts: int = 0
    created_at: datetime = _now_field()
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    locked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ScaFailure(SQLModel, table=True):
    """One failed SCA attempt (wrong code or wrong PIN) of a customer, i.e. of a phone.

    Failures are counted per customer over a rolling window, whatever code they were made
    against; the failure that reaches the limit carries `locked_until`.
    """

    __tablename__ = "sca_failure"
    __table_args__ = (Index("ix_sca_failure_customer", "customer_id", "failed_at"),)

    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id")
    factor: str = Field(max_length=8)  # "code" or "pin": for the operator, never shown
    failed_at: datetime = Field(sa_type=UTCDateTime)
    locked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)


class AuthorizationGrant(SQLModel, table=True):
    """An OAuth authorization code and everything issued from it.

    The code itself is stored only as a SHA-256 digest. Access and refresh tokens name
    their grant, so revoking the grant (a replayed code, `/auth/revoke`) revokes them all.
    """

    __tablename__ = "authorization_grant"

    id: int | None = Field(default=None, primary_key=True)
    code_hash: str = Field(max_length=64, unique=True)
    client_id: int = Field(foreign_key="client.id", index=True)
    consent_id: int = Field(foreign_key="consent.id", index=True)
    redirect_uri: str = Field(max_length=500)
    code_challenge: str = Field(max_length=128)
    created_at: datetime = _now_field()
    code_expires_at: datetime = Field(sa_type=UTCDateTime)
    code_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class RefreshToken(SQLModel, table=True):
    """A refresh token (stored as a SHA-256 digest), rotated on every use."""

    __tablename__ = "refresh_token"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    grant_id: int = Field(foreign_key="authorization_grant.id", index=True)
    created_at: datetime = _now_field()
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Account(SQLModel, table=True):
    __tablename__ = "account"
    __table_args__ = (UniqueConstraint("connection_id", "external_id"),)

    id: int | None = Field(default=None, primary_key=True)
    connection_id: int = Field(foreign_key="connection.id")
    external_id: str = Field(max_length=255)
    institution_id: int = Field(foreign_key="institution.id")
    # Denormalized owner: every ownership check is one indexed comparison.
    user_id: int = Field(foreign_key="customer.id", index=True)
    type: str = Field(max_length=16)
    name: str = Field(max_length=255)  # OBP label
    number: str | None = Field(default=None, max_length=255)  # OBP number / routing address
    number_masked: str = Field(max_length=64)
    currency: str = Field(max_length=3)
    product_code: str | None = Field(default=None, max_length=255)
    payload_hash: str = Field(max_length=64)
    created_at: datetime = _now_field()
    updated_at: datetime = _now_field()


class BalanceSnapshot(SQLModel, table=True):
    __tablename__ = "balance_snapshot"
    __table_args__ = (UniqueConstraint("account_id", "type", "as_of"),)

    id: int | None = Field(default=None, sa_type=BigId, primary_key=True)
    account_id: int = Field(foreign_key="account.id")
    type: str = Field(max_length=16)  # BOOKED AVAILABLE
    amount_minor: int = Field(sa_type=BigInteger)
    currency: str = Field(max_length=3)
    as_of: datetime = Field(sa_type=UTCDateTime)
    fetched_at: datetime = _now_field()


class Card(SQLModel, table=True):
    """A payment card. Only the masked PAN (BIN + last four at most) is ever stored."""

    __tablename__ = "card"
    __table_args__ = (UniqueConstraint("connection_id", "external_id"),)

    id: int | None = Field(default=None, primary_key=True)
    connection_id: int = Field(foreign_key="connection.id")
    external_id: str = Field(max_length=255)
    account_id: int | None = Field(default=None, foreign_key="account.id", index=True)
    scheme: str = Field(max_length=16)
    pan_masked: str = Field(max_length=19)
    holder_name: str | None = Field(default=None, max_length=255)
    expires_on: str | None = Field(default=None, max_length=7)
    status: str = Field(max_length=16)
    payload_hash: str = Field(max_length=64)
    created_at: datetime = _now_field()
    updated_at: datetime = _now_field()


class Transfer(SQLModel, table=True):
    __tablename__ = "transfer"
    __table_args__ = (
        UniqueConstraint("connection_id", "external_id"),
        Index("ix_transfer_account_initiated", "account_id", "initiated_at", "id"),
    )

    id: int | None = Field(default=None, sa_type=BigId, primary_key=True)
    connection_id: int = Field(foreign_key="connection.id")
    external_id: str = Field(max_length=255)
    account_id: int = Field(foreign_key="account.id")
    direction: str = Field(max_length=8)
    amount_minor: int = Field(sa_type=BigInteger)
    currency: str = Field(max_length=3)
    fee_minor: int | None = Field(default=None, sa_type=BigInteger)
    fee_currency: str | None = Field(default=None, max_length=3)
    destination_amount_minor: int | None = Field(default=None, sa_type=BigInteger)
    destination_currency: str | None = Field(default=None, max_length=3)
    # The sender's leg: what an inbound remittance cost its sender, in their currency.
    source_amount_minor: int | None = Field(default=None, sa_type=BigInteger)
    source_currency: str | None = Field(default=None, max_length=3)
    fx_rate: str | None = Field(default=None, max_length=40)
    rail: str = Field(max_length=24)
    corridor: str | None = Field(default=None, max_length=8)
    counterparty_name: str | None = Field(default=None, max_length=255)
    counterparty_account: str | None = Field(default=None, max_length=255)
    counterparty_country: str | None = Field(default=None, max_length=2)
    reference: str | None = Field(default=None, max_length=2000)  # OBP details.description
    status: str = Field(max_length=24)
    initiated_at: datetime = Field(sa_type=UTCDateTime)
    completed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    payload_hash: str = Field(max_length=64)
    created_at: datetime = _now_field()
    updated_at: datetime = _now_field()


class TransferEvent(SQLModel, table=True):
    """One step of a transfer's status history."""

    __tablename__ = "transfer_event"
    __table_args__ = (UniqueConstraint("transfer_id", "status", "at"),)

    id: int | None = Field(default=None, sa_type=BigId, primary_key=True)
    transfer_id: int = Field(sa_type=BigId, foreign_key="transfer.id")
    status: str = Field(max_length=24)
    at: datetime = Field(sa_type=UTCDateTime)
    note: str | None = Field(default=None, max_length=500)


class ServicePayment(SQLModel, table=True):
    """A payment to a service provider (mobile top-up, electricity, water, ...)."""

    __tablename__ = "service_payment"
    __table_args__ = (
        UniqueConstraint("connection_id", "external_id"),
        Index("ix_service_payment_account_paid", "account_id", "paid_at", "id"),
    )

    id: int | None = Field(default=None, sa_type=BigId, primary_key=True)
    connection_id: int = Field(foreign_key="connection.id")
    external_id: str = Field(max_length=255)
    account_id: int = Field(foreign_key="account.id")
    transaction_external_id: str | None = Field(default=None, max_length=255)
    provider: str = Field(max_length=255)
    category: str = Field(max_length=32)
    service_account_masked: str | None = Field(default=None, max_length=64)
    amount_minor: int = Field(sa_type=BigInteger)
    currency: str = Field(max_length=3)
    paid_at: datetime = Field(sa_type=UTCDateTime)
    autopay: bool = False
    payload_hash: str = Field(max_length=64)
    created_at: datetime = _now_field()
    updated_at: datetime = _now_field()


class Transaction(SQLModel, table=True):
    __tablename__ = "ledger_transaction"
    __table_args__ = (
        # OBP's key: (bank, account, transaction id); the bank is the connection's.
        UniqueConstraint("account_id", "external_id", name="uq_transaction_account_external"),
        # Keyset pagination: per account by booking date with the id as tiebreak.
        Index("ix_transaction_account_booking", "account_id", "booking_date", "id"),
        # Windows of bank instants: which booked rows a complete read no longer lists.
        Index("ix_transaction_account_booked", "account_id", "booked_at"),
        # `updatedSince` for accounting integrators.
        Index("ix_transaction_connection_updated", "connection_id", "updated_at", "id"),
        Index("ix_transaction_card", "card_id"),
        Index("ix_transaction_transfer", "transfer_id"),
        # ServicePayment.transaction: the API's loader looks transactions up by payment.
        Index("ix_transaction_service_payment", "service_payment_id"),
    )

    id: int | None = Field(default=None, sa_type=BigId, primary_key=True)
    connection_id: int = Field(foreign_key="connection.id")
    external_id: str = Field(max_length=255)
    account_id: int = Field(foreign_key="account.id")
    status: str = Field(max_length=8)  # BOOKED PENDING
    booking_date: date
    value_date: date | None = None
    booked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    amount_minor: int = Field(sa_type=BigInteger)
    currency: str = Field(max_length=3)
    balance_after_minor: int | None = Field(default=None, sa_type=BigInteger)
    type: str = Field(max_length=32)
    description: str | None = Field(default=None, max_length=2000)
    counterparty_name: str | None = Field(default=None, max_length=255)
    counterparty_account: str | None = Field(default=None, max_length=255)
    counterparty_bank: str | None = Field(default=None, max_length=255)
    counterparty_country: str | None = Field(default=None, max_length=2)
    merchant_name: str | None = Field(default=None, max_length=255)
    mcc: str | None = Field(default=None, max_length=4)
    # The bank's own category (its key, e.g. Alif's CATEGORY attribute): upstream data.
    category: str | None = Field(default=None, max_length=32)
    category_source: str | None = Field(default=None, max_length=8)  # PROVIDER
    # The customer's own choice lives apart, so no sync can overwrite it.
    user_category: str | None = Field(default=None, max_length=32)
    # Enrichment (ledger/enrich/): derived, never upstream, so outside the payload hash and
    # never written by the sync's upserts. The categorizer's verdict (code, source BANK MCC
    # TYPE MERCHANT TEXT LINK NONE, confidence 0..100), the customer's rule that matched,
    # the payload hash the enrichment last saw (a row is enriched again only when it
    # differs) and the row's text normalized for rules (`ledger.enrich.text`).
    auto_category: str | None = Field(default=None, max_length=32)
    auto_category_source: str | None = Field(default=None, max_length=8)
    category_confidence: int | None = None
    rule_category: str | None = Field(default=None, max_length=32)
    category_rule_id: int | None = None
    enriched_hash: str | None = Field(default=None, max_length=64)
    match_text: str | None = Field(default=None, max_length=2000)
    original_amount_minor: int | None = Field(default=None, sa_type=BigInteger)
    original_currency: str | None = Field(default=None, max_length=3)
    fx_rate: str | None = Field(default=None, max_length=40)
    card_external_id: str | None = Field(default=None, max_length=255)
    card_id: int | None = Field(default=None, foreign_key="card.id")
    transfer_external_id: str | None = Field(default=None, max_length=255)
    transfer_id: int | None = Field(default=None, sa_type=BigId, foreign_key="transfer.id")
    service_payment_external_id: str | None = Field(default=None, max_length=255)
    service_payment_id: int | None = Field(
        default=None, sa_type=BigId, foreign_key="service_payment.id"
    )
    # The pending transaction this booked one replaced (set on the booked row).
    replaces_external_id: str | None = Field(default=None, max_length=255)
    replaces_id: int | None = Field(
        default=None, sa_type=BigId, foreign_key="ledger_transaction.id"
    )
    # Set on a pending row once its booked successor has arrived: it no longer counts.
    superseded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Set on a booked row the bank no longer lists (`ledger.revisions`): it no longer counts,
    # and stays readable with its revision history.
    removed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The same real payment stored twice (`ledger.enrich.duplicates`): this row is the later
    # copy of `duplicate_of_id`, found by `duplicate_rule` with `duplicate_score` (0..1, an
    # exact decimal string). Never deleted; left out of statements and insights.
    duplicate_of_id: int | None = Field(
        default=None, sa_type=BigId, foreign_key="ledger_transaction.id"
    )
    duplicate_score: str | None = Field(default=None, max_length=8)
    duplicate_rule: str | None = Field(default=None, max_length=32)
    # The customer said this row is no duplicate: detection never links it again.
    not_duplicate_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # The other leg of a move between the customer's own accounts
    # (`ledger.enrich.own_transfers`), set on both legs; `internal_transfer_rule` says why.
    internal_transfer_leg_id: int | None = Field(
        default=None, sa_type=BigId, foreign_key="ledger_transaction.id"
    )
    internal_transfer_rule: str | None = Field(default=None, max_length=32)
    payload_hash: str = Field(max_length=64)
    created_at: datetime = _now_field()
    updated_at: datetime = _now_field()


class TransactionRevision(SQLModel, table=True):
    """One change of a booked transaction's history, with the row's values BEFORE it.

    Append-only (triggers refuse UPDATE and DELETE, `ledger.revisions`): the booked history
    a statement was reported from can always be rebuilt. Kinds: CHANGED (the bank changed a
    booked fact), REMOVED (the bank stopped listing the row), RESTORED (listed again).
    """

    __tablename__ = "transaction_revision"
    __table_args__ = (
        Index("ix_transaction_revision_transaction", "transaction_id", "recorded_at", "id"),
        # Statements as of an instant look for revisions recorded after it.
        Index("ix_transaction_revision_recorded", "recorded_at"),
    )

    id: int | None = Field(default=None, sa_type=BigId, primary_key=True)
    transaction_id: int = Field(sa_type=BigId, foreign_key="ledger_transaction.id")
    sync_run_id: int | None = Field(default=None, foreign_key="sync_run.id")
    kind: str = Field(max_length=8)  # CHANGED REMOVED RESTORED
    recorded_at: datetime = Field(sa_type=UTCDateTime)
    status: str = Field(max_length=8)
    account_id: int = Field(foreign_key="account.id")
    booking_date: date
    booked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    amount_minor: int = Field(sa_type=BigInteger)
    currency: str = Field(max_length=3)
    balance_after_minor: int | None = Field(default=None, sa_type=BigInteger)
    counterparty_name: str | None = Field(default=None, max_length=255)
    counterparty_account: str | None = Field(default=None, max_length=255)
    description: str | None = Field(default=None, max_length=2000)
    payload_hash: str = Field(max_length=64)


class AccountReconciliation(SQLModel, table=True):
    """One check of an account's booked rows against the bank (`ledger.reconciliation`)."""

    __tablename__ = "account_reconciliation"
    __table_args__ = (Index("ix_account_reconciliation_checked", "account_id", "checked_at"),)

    id: int | None = Field(default=None, sa_type=BigId, primary_key=True)
    sync_run_id: int = Field(foreign_key="sync_run.id")
    account_id: int = Field(foreign_key="account.id")
    checked_at: datetime = Field(sa_type=UTCDateTime)
    currency: str = Field(max_length=3)
    bank_booked_minor: int | None = Field(default=None, sa_type=BigInteger)
    ledger_booked_minor: int = Field(sa_type=BigInteger)
    difference_minor: int | None = Field(default=None, sa_type=BigInteger)
    # The bank's booked balance minus every counted booked amount: the balance before the
    # ledger's first row, which must stay put from check to check.
    implied_opening_minor: int | None = Field(default=None, sa_type=BigInteger)
    first_day: date | None = None
    reconciled: bool
    # The balance before the ledger's first counted row, and what is known of it
    # (PROVEN UNPROVEN LOST: ledger/reconciliation.py, Opening).
    opening_minor: int | None = Field(default=None, sa_type=BigInteger)
    opening: str | None = Field(default=None, max_length=10)
    # The bank instant from which this run's read of the account proved the listing
    # (1970: the whole history); null when the read had gaps.
    proven_from: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # When a run last proved the account's whole history (connectors/sync.py, full_every).
    history_proven_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ExchangeRate(SQLModel, table=True):
    """How many units of `quote` one unit of `base` buys, on a date, from a source."""

    __tablename__ = "exchange_rate"
    __table_args__ = (UniqueConstraint("base", "quote", "on_date", "source"),)

    id: int | None = Field(default=None, primary_key=True)
    base: str = Field(max_length=3)
    quote: str = Field(max_length=3)
    rate: str = Field(max_length=40)  # exact decimal string
    on_date: date
    source: str = Field(max_length=32)  # NBT, BANK, ...
    created_at: datetime = _now_field()


class CategoryRule(SQLModel, table=True):
    """A customer's categorization rule (`ledger/enrich/rules.py`): the rows it matches
    take `category`. Every condition given must hold: `pattern` contained in the row's
    normalized text (`field` TEXT: description, counterparty and merchant names), the MCC,
    an amount range on the absolute amount in `currency`'s minor units, the transaction
    type, the account. The highest `priority` wins, then the newest.
    `user_id` NULL would apply to everyone (none are made so far)."""

    __tablename__ = "category_rule"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int | None = Field(default=None, foreign_key="customer.id", index=True)
    field: str = Field(max_length=16)  # TEXT
    pattern: str = Field(max_length=200)  # normalized; "" matches any text
    category: str = Field(max_length=32)
    priority: int = 100
    mcc: str | None = Field(default=None, max_length=4)
    min_amount_minor: int | None = Field(default=None, sa_type=BigInteger)
    max_amount_minor: int | None = Field(default=None, sa_type=BigInteger)
    currency: str | None = Field(default=None, max_length=3)
    transaction_type: str | None = Field(default=None, max_length=32)
    account_id: int | None = Field(default=None, foreign_key="account.id")
    created_at: datetime = _now_field()


class SyncRun(SQLModel, table=True):
    __tablename__ = "sync_run"
    __table_args__ = (
        Index("ix_sync_run_connection_started", "connection_id", "started_at"),
        # At most one RUNNING sync per connection, enforced by the database itself, so two
        # processes racing to start one cannot both win.
        Index(
            "uq_sync_run_one_running",
            "connection_id",
            unique=True,
            sqlite_where=text("status = 'RUNNING'"),
            postgresql_where=text("status = 'RUNNING'"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    connection_id: int = Field(foreign_key="connection.id")
    # RUNNING SUCCEEDED PARTIAL UNRECONCILED FAILED ABANDONED
    status: str = Field(default="RUNNING", max_length=16)
    started_at: datetime = _now_field()
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # A RUNNING run whose heartbeat is older than the lease was killed; it may be taken over.
    heartbeat_at: datetime = _now_field()
    pages: int = 0
    inserted: int = 0
    changed: int = 0
    unchanged: int = 0
    issues: int = 0
    error: str | None = Field(default=None, max_length=500)
    # How the run was started (ledger/sync_store.py, Trigger): only UNATTENDED runs count
    # towards a consent's daily limit (ledger/consents.py).
    trigger: str = Field(
        default="UNATTENDED",
        max_length=16,
        sa_column_kwargs={"server_default": text("'UNATTENDED'")},
    )


class SyncCursor(SQLModel, table=True):
    """Where a stream (e.g. one account's transactions) of a connection was last read up to."""

    __tablename__ = "sync_cursor"
    __table_args__ = (UniqueConstraint("connection_id", "stream"),)

    id: int | None = Field(default=None, primary_key=True)
    connection_id: int = Field(foreign_key="connection.id")
    stream: str = Field(max_length=300)
    window_from: datetime | None = Field(default=None, sa_type=UTCDateTime)
    offset: int = 0
    high_water: datetime | None = Field(default=None, sa_type=UTCDateTime)
    updated_at: datetime = _now_field()


class SyncIssueRow(SQLModel, table=True):
    """An upstream record or page that could not be stored, with the reason."""

    __tablename__ = "sync_issue"

    id: int | None = Field(default=None, sa_type=BigId, primary_key=True)
    sync_run_id: int = Field(foreign_key="sync_run.id", index=True)
    kind: str = Field(max_length=24)
    external_id: str | None = Field(default=None, max_length=255)
    reason: str = Field(max_length=500)
    excerpt: str = Field(default="", max_length=500)
    created_at: datetime = _now_field()


class AuditEvent(SQLModel, table=True):
    """Append-only record of a data access."""

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_consent_at", "consent_id", "at"),)

    id: int | None = Field(default=None, sa_type=BigId, primary_key=True)
    at: datetime = _now_field()
    client_id: str | None = Field(default=None, max_length=64)
    user_id: int | None = None
    consent_id: int | None = None
    operation: str = Field(max_length=200)
    scopes: str = Field(default="")
    object_count: int = 0
    object_digest: str | None = Field(default=None, max_length=64)
    object_ids: str = Field(default="")
    outcome: str = Field(max_length=8)  # ok denied error
    request_id: str = Field(max_length=64)
    ip: str | None = Field(default=None, max_length=45)
    # What the access produced, where a digest of ids does not say it: an export's format,
    # period and SHA-256.
    detail: str | None = Field(default=None, max_length=300)


metadata = SQLModel.metadata


def table(model: type[SQLModel]) -> Table:
    """The Core table of a model: typed columns (`table(Transaction).c.amount_minor`) for
    set-based statements, where the ORM attributes confuse type checkers."""
    return model.__table__  # type: ignore[attr-defined]
