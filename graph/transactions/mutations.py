"""The root `transactionMarkNotDuplicate` mutation: the customer says a row the ledger
linked as a duplicate is a payment of its own.

The row is unlinked (never deleted: nothing ever is) and never linked as a duplicate
again (`ledger.enrich.duplicates`); it counts again in statements and insights. Expected
failures are data (a `TransactionMarkNotDuplicateError`); a row of another customer or
outside the consent answers exactly like one that does not exist. The change has its own
audit row, committed with it, besides the request's.
"""

from __future__ import annotations

from enum import Enum
from typing import Annotated

import strawberry

from graph.auth.scopes import TRANSACTIONS_WRITE
from graph.context import Info
from graph.core.permissions import scope_gate
from graph.relay.ids import pk_of, to_global_id
from graph.transactions.loaders import TransactionByIdLoader
from graph.transactions.types import Transaction
from ledger import audit
from ledger.enrich import duplicates
from ledger.queries import rows
from ledger.types import utcnow


@strawberry.enum
class TransactionMarkNotDuplicateErrorCode(Enum):
    NOT_FOUND = "NOT_FOUND"
    NOT_A_DUPLICATE = "NOT_A_DUPLICATE"


@strawberry.type(description="The row is no longer a duplicate, and will not be linked again.")
class TransactionMarkNotDuplicateSuccess:
    transaction: Transaction


@strawberry.type(description="Nothing was changed.")
class TransactionMarkNotDuplicateError:
    code: TransactionMarkNotDuplicateErrorCode
    message: str


TransactionMarkNotDuplicateResult = Annotated[
    TransactionMarkNotDuplicateSuccess | TransactionMarkNotDuplicateError,
    strawberry.union("TransactionMarkNotDuplicateResult"),
]


@strawberry.type
class TransactionMutations:
    @strawberry.mutation(
        description="Undoes a duplicate match: the transaction `id` is a payment of its own, "
        "not a copy of its `duplicateOf.original`. Requires scope transactions:write.",
        extensions=[scope_gate(TRANSACTIONS_WRITE)],
    )
    async def transaction_mark_not_duplicate(
        self, info: Info, id: strawberry.ID
    ) -> TransactionMarkNotDuplicateResult | None:
        context = info.context
        pk = pk_of(id, "Transaction")
        readable = await context.account_ids()
        now = utcnow()
        async with context.db.session() as session:
            (found,) = await rows.transactions_by_id(session, [pk], readable) or (None,)
            if found is None:
                context.trail.refuse(to_global_id("Transaction", pk))  # audited: denied
                return TransactionMarkNotDuplicateError(
                    code=TransactionMarkNotDuplicateErrorCode.NOT_FOUND,
                    message="No transaction with this ID.",
                )
            changed = await duplicates.mark_not_duplicate(session, pk, readable, now=now)
            if changed is None:
                await session.rollback()
                return TransactionMarkNotDuplicateError(
                    code=TransactionMarkNotDuplicateErrorCode.NOT_A_DUPLICATE,
                    message="The transaction is not linked as a duplicate.",
                )
            principal = context.principal
            await audit.record(
                session,
                audit.AuditRecord(
                    operation="transaction.mark_not_duplicate",
                    outcome="ok",
                    request_id=context.request_id,
                    client_id=principal.consent.client_id,
                    user_id=principal.user_id,
                    consent_id=principal.consent.id,
                    scopes=[TRANSACTIONS_WRITE],
                    object_ids=[to_global_id("Transaction", pk)],
                ),
                at=now,
            )
            await session.commit()
        loader = context.loaders.get(TransactionByIdLoader)
        loader.clear(pk)
        row = await loader.load(pk)
        shown = Transaction.maybe(row, info)
        assert shown is not None
        return TransactionMarkNotDuplicateSuccess(transaction=shown)
