"""Institutions, accounts and their balances."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry

from connectors.base import BalanceRecord
from graph.accounts.live import LiveBalancesByAccountLoader
from graph.accounts.loaders import (
    AccountByIdLoader,
    BalancesByAccountLoader,
    InstitutionByIdLoader,
    SyncState,
    SyncStateByAccountLoader,
)
from graph.auth.scopes import (
    ACCOUNTS_READ,
    BALANCES_READ,
    CARDS_READ,
    STATEMENTS_READ,
    TRANSACTIONS_READ,
)
from graph.cards.loaders import CardsByAccountLoader
from graph.context import Info
from graph.core.inputs import within
from graph.core.pagination import Connection
from graph.core.permissions import scoped
from graph.core.scalars import Money
from graph.execution.steps import STANDARD_ONLY
from graph.relay.ids import to_global_id
from graph.relay.node import Node, node
from graph.relay.queries import refuse_unreadable
from graph.statements.queries import AS_OF_DESCRIPTION, statement_of
from graph.statements.types import Statement
from graph.transactions.filters import TransactionFilter, TransactionOrder, transaction_criteria
from graph.transactions.queries import transaction_connection
from graph.transactions.types import Transaction
from ledger.queries.results import AccountRow, BalanceRow, InstitutionRow

if TYPE_CHECKING:
    from graph.cards.types import Card


@strawberry.enum
class AccountType(Enum):
    WALLET = "WALLET"
    CURRENT = "CURRENT"
    SAVINGS = "SAVINGS"
    DEPOSIT = "DEPOSIT"
    CARD = "CARD"
    LOAN = "LOAN"


@strawberry.enum
class BalanceType(Enum):
    BOOKED = "BOOKED"
    AVAILABLE = "AVAILABLE"


@node(scope=None)  # public reference data
@strawberry.type(description="A bank or other provider of accounts.")
class Institution(Node):
    code: str
    name: str
    country: str = strawberry.field(description="ISO 3166 alpha-2 code.")
    bic: str | None

    @classmethod
    async def resolve_node(cls, info: Info, pk: int) -> Institution | None:
        found = await info.context.loaders.get(InstitutionByIdLoader).load(pk)
        return cls.from_row(found) if found is not None else None

    @classmethod
    def from_row(cls, row: InstitutionRow) -> Institution:
        return cls(
            id=strawberry.ID(to_global_id("Institution", row.id)),
            code=row.code,
            name=row.name,
            country=row.country,
            bic=row.bic,
        )


@strawberry.type(description="A balance as the bank last reported it.")
class Balance:
    type: BalanceType
    amount: Money
    as_of: datetime

    @classmethod
    def from_row(cls, row: BalanceRow) -> Balance:
        return cls(type=BalanceType(row.type), amount=Money.of(row.amount), as_of=row.as_of)

    @classmethod
    def from_record(cls, record: BalanceRecord) -> Balance:
        return cls(
            type=BalanceType(record.type),
            amount=Money.of(record.amount),
            as_of=record.as_of,
        )


@strawberry.enum
class SyncRunStatus(Enum):
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    PARTIAL = "PARTIAL"
    UNRECONCILED = "UNRECONCILED"
    FAILED = "FAILED"
    ABANDONED = "ABANDONED"


@strawberry.enum(
    description="What the latest check knows of the balance before the account's first "
    "booked transaction in the ledger (docs/sync.md, the opening)."
)
class OpeningState(Enum):
    PROVEN = strawberry.enum_value(
        "PROVEN", description="It equals the opening balance the bank reports, or zero."
    )
    UNPROVEN = strawberry.enum_value(
        "UNPROVEN",
        description="The bank reports no opening balance and the history it lists does not "
        "start from zero: older rows are not listed (kept back by the bank, or lost).",
    )
    LOST = strawberry.enum_value(
        "LOST",
        description="It differs from the opening balance the bank reports: rows before the "
        "first listed one are missing (the check is not reconciled).",
    )


@strawberry.type(
    description="The latest check of the account's booked transactions against the bank: "
    "their running sum against the bank's booked balance, and against each row's running "
    "balance where the bank sends one."
)
class AccountSyncStatus:
    checked_at: datetime
    reconciled: bool = strawberry.field(
        description="The ledger's booked balance equals the bank's, and every day's running "
        "balance chains on to the next."
    )
    difference: Money | None = strawberry.field(
        description="The bank's booked balance minus the ledger's; null when the bank "
        "reported none."
    )
    bank_booked_balance: Money | None = strawberry.field(
        description="The bank's booked balance at the check; null when it reported none."
    )
    ledger_booked_balance: Money = strawberry.field(
        description="The ledger's booked balance at the check: the balance before its first "
        "row plus every booked amount that counts."
    )
    first_difference_on: date | None = strawberry.field(
        description="The first booking day where the ledger and the bank part, when it could "
        "be located."
    )
    opening: OpeningState | None = strawberry.field(
        description="What is known of the balance before the ledger's first booked "
        "transaction; null for a check recorded before openings were judged."
    )
    opening_balance: Money | None = strawberry.field(
        description="The balance before the ledger's first booked transaction."
    )
    proven_from: datetime | None = strawberry.field(
        description="The bank instant from which the run of this check proved that the "
        "ledger holds exactly what the bank lists (1970-01-01: the whole history); null when "
        "that run's read proved nothing for the account (a gap, a quarantined record). "
        "Whether the balances agree is `reconciled`."
    )
    history_proven_at: datetime | None = strawberry.field(
        description="When a run last proved the account's whole listing (an unattended sync "
        "reads it whole again when this is older than its schedule, 7 days by default)."
    )
    last_run_status: SyncRunStatus | None = strawberry.field(
        description="The status of the newest sync run of the account's connection."
    )
    last_run_finished_at: datetime | None = strawberry.field(
        description="When that run ended; null while it runs."
    )

    @classmethod
    def of(cls, state: SyncState) -> AccountSyncStatus | None:
        check, run = state.check, state.run
        if check is None:
            return None
        return cls(
            checked_at=check.checked_at,
            reconciled=check.reconciled,
            difference=Money.maybe(check.difference),
            bank_booked_balance=Money.maybe(check.bank_booked),
            ledger_booked_balance=Money.of(check.ledger_booked),
            first_difference_on=check.first_day,
            opening=None if check.opening_state is None else OpeningState(check.opening_state),
            opening_balance=Money.maybe(check.opening),
            proven_from=check.proven_from,
            history_proven_at=check.history_proven_at,
            last_run_status=None if run is None else SyncRunStatus(run.status),
            last_run_finished_at=None if run is None else run.finished_at,
        )


@node(scope=ACCOUNTS_READ)
@strawberry.type(description="An account of the customer at an institution.")
class Account(Node):
    type: AccountType
    name: str
    number_masked: str
    currency: str
    pk: strawberry.Private[int]
    institution_pk: strawberry.Private[int]

    @classmethod
    async def resolve_node(cls, info: Info, pk: int) -> Account | None:
        return cls.maybe(await info.context.loaders.get(AccountByIdLoader).load(pk))

    @classmethod
    def from_row(cls, row: AccountRow) -> Account:
        return cls(
            id=strawberry.ID(to_global_id("Account", row.id)),
            type=AccountType(row.type),
            name=row.name,
            number_masked=row.number_masked,
            currency=row.currency,
            pk=row.id,
            institution_pk=row.institution_id,
        )

    @classmethod
    def maybe(cls, row: AccountRow | None) -> Account | None:
        return None if row is None else cls.from_row(row)

    @strawberry.field
    async def institution(self, info: Info) -> Institution:
        row = await info.context.loaders.get(InstitutionByIdLoader).load(self.institution_pk)
        if row is None:
            raise LookupError(f"institution {self.institution_pk} of account {self.pk} missing")
        return Institution.from_row(row)

    @scoped("The latest booked and available balances.", BALANCES_READ)
    async def balances(self, info: Info) -> list[Balance] | None:
        found = await info.context.loaders.get(BalancesByAccountLoader).load(self.pk)
        return [Balance.from_row(row) for row in found]

    @scoped(
        "How the latest sync's check against the bank came out; null when the account was "
        "never checked.",
        BALANCES_READ,
    )
    async def sync_status(self, info: Info) -> AccountSyncStatus | None:
        state = await info.context.loaders.get(SyncStateByAccountLoader).load(self.pk)
        return AccountSyncStatus.of(state)

    @scoped(
        "Current balances asked from the bank now, one call per connection for all accounts "
        "in the request. UPSTREAM_UNAVAILABLE when the bank does not answer (`balances` "
        "still has the stored ones).",
        BALANCES_READ,
        # A bank call: a plan that fell back would make it twice.
        metadata={STANDARD_ONLY: True},
    )
    async def live_balances(self, info: Info) -> list[Balance] | None:
        found = await info.context.loaders.get(LiveBalancesByAccountLoader).load(self.pk)
        return [Balance.from_record(record) for record in found]

    @scoped("Cards linked to this account.", CARDS_READ)
    async def cards(
        self, info: Info
    ) -> list[Annotated[Card, strawberry.lazy("graph.cards.types")]] | None:
        from graph.cards.types import Card

        found = await info.context.loaders.get(CardsByAccountLoader).load(self.pk)
        return [Card.from_row(row) for row in found]

    @scoped("This account's transactions.", TRANSACTIONS_READ)
    async def transactions(
        self,
        info: Info,
        filter: TransactionFilter | None = None,
        order_by: TransactionOrder = TransactionOrder.BOOKING_DATE_DESC,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Transaction] | None:
        readable = within(await info.context.account_ids(), [self.pk])
        criteria = transaction_criteria(filter, readable)
        await refuse_unreadable(info, filter.named_ids() if filter else {})
        return await transaction_connection(
            info, criteria, order_by, first=first, after=after, last=last, before=before
        )

    @scoped("This account's statement of a period.", STATEMENTS_READ)
    async def statement(
        self,
        info: Info,
        from_: Annotated[date, strawberry.argument(name="from")],
        to: date,
        booked_only: bool = True,
        as_of: Annotated[
            datetime | None, strawberry.argument(description=AS_OF_DESCRIPTION)
        ] = None,
    ) -> Statement | None:
        return await statement_of(info, self.pk, from_, to, booked_only, as_of)
