"""`node(id:)` and `nodes(ids:)`: any object by its global id.

An object of another customer, or of an account outside the consent, answers exactly like
an id that does not exist: null, no error. A type outside the token's scopes answers with
FORBIDDEN before anything is read.
"""

from __future__ import annotations

from typing import cast

import strawberry

from graph.accounts.types import Account, Institution
from graph.auth.scopes import (
    ACCOUNTS_READ,
    CARDS_READ,
    PAYMENTS_READ,
    TRANSACTIONS_READ,
    TRANSFERS_READ,
)
from graph.cards.types import Card
from graph.context import Info
from graph.core.errors import BadUserInput, Forbidden
from graph.payments.types import ServicePayment
from graph.relay.ids import from_global_id
from graph.relay.node import Node
from graph.transactions.types import Transaction
from graph.transfers.types import Transfer
from graph.viewer.types import Consent, Customer
from ledger.types import utcnow

# The scope each type needs; None: any valid token may read it.
NODE_SCOPES: dict[str, str | None] = {
    "Account": ACCOUNTS_READ,
    "Card": CARDS_READ,
    "Consent": None,
    "Customer": None,
    "Institution": None,
    "ServicePayment": PAYMENTS_READ,
    "Transaction": TRANSACTIONS_READ,
    "Transfer": TRANSFERS_READ,
}


async def load_node(info: Info, type_name: str, pk: int) -> Node | None:
    context = info.context
    scope = NODE_SCOPES[type_name]
    if scope is not None and not context.may(scope):
        raise Forbidden(f"This needs the consent scope {scope}.", scope=scope)
    loaders = context.loaders
    match type_name:
        case "Account":
            return Account.maybe(await loaders.account_by_id.load(pk))
        case "Card":
            return Card.maybe(await loaders.card_by_id.load(pk))
        case "Transaction":
            return Transaction.maybe(await loaders.transaction_by_id.load(pk), info)
        case "Transfer":
            return Transfer.maybe(await loaders.transfer_by_id.load(pk))
        case "ServicePayment":
            row = await loaders.service_payment_by_id.load(pk)
            return ServicePayment.maybe(row, context.locale)
        case "Institution":
            found = await loaders.institution_by_id.load(pk)
            return Institution.from_row(found) if found is not None else None
        case "Customer":
            principal = context.principal
            return Customer.of(principal) if pk == principal.user_id else None
        case "Consent":
            principal = context.principal
            return Consent.of(principal, utcnow()) if pk == principal.consent.id else None
    return None


@strawberry.type
class NodeQueries:
    @strawberry.field(description="Any object by its global ID; null when there is none.")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        type_name, pk = from_global_id(id)
        return await load_node(info, type_name, pk)

    @strawberry.field(description="Objects by global ID, in order; null where there is none.")
    def nodes(self, info: Info, ids: list[strawberry.ID]) -> list[Node | None]:
        maximum = info.context.settings.max_page_size
        if len(ids) > maximum:
            raise BadUserInput(f"`ids` takes at most {maximum} IDs.", maximum=maximum)
        decoded = [from_global_id(i) for i in ids]
        # Each item is awaited on its own, so a FORBIDDEN type nulls only its own items;
        # the loaders still batch every type into one query.
        return cast("list[Node | None]", [load_node(info, t, pk) for t, pk in decoded])
