"""The root mutations of categories: `transactionCategorize` (the customer's own category
of one transaction), `categoryRuleCreate` and `categoryRuleDelete`.

All need scope categories:write. Expected failures are data (an error payload with a
code), never GraphQL errors; a transaction, account or rule the request may not read
(another customer's, outside the consent) answers exactly like a missing one, and the audit
row records the id it asked for (outcome denied). Writes go through the ledger's owner,
`ledger/enrich/rules.py`; a rule's create or delete recategorizes the customer's existing
rows in bulk SQL before the answer.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Annotated

import strawberry

from graph.auth.scopes import CATEGORIES_WRITE
from graph.categories.queries import readable_rule
from graph.categories.types import CategoryRule
from graph.context import Info
from graph.core.permissions import scope_gate
from graph.relay.ids import pk_of, to_global_id
from graph.transactions.loaders import TransactionByIdLoader
from graph.transactions.types import Transaction, TransactionType
from ledger.enrich import rules, taxonomy
from ledger.money import CURRENCY_EXPONENTS, MoneyError, to_minor
from ledger.types import utcnow

MAX_TEXT = 200


@strawberry.enum
class CategoryErrorCode(Enum):
    NOT_FOUND = "NOT_FOUND"  # no such transaction, account or rule the request may read
    UNKNOWN_CATEGORY = "UNKNOWN_CATEGORY"  # not a detailed code of `categories`
    INVALID_RULE = "INVALID_RULE"  # no condition, a bad amount range or currency, ...


@strawberry.type(description="Nothing was changed.")
class CategoryError:
    code: CategoryErrorCode
    message: str
    field: str | None = strawberry.field(
        default=None, description="The input field at fault, if one is."
    )


@strawberry.type(description="The transaction's category is the customer's own now.")
class TransactionCategorizeSuccess:
    transaction: Transaction


@strawberry.type(description="The rule is stored; the customer's transactions follow it.")
class CategoryRuleCreateSuccess:
    rule: CategoryRule


@strawberry.type(description="The rule is gone; its transactions fell back to the others.")
class CategoryRuleDeleteSuccess:
    deleted_id: strawberry.ID


TransactionCategorizeResult = Annotated[
    TransactionCategorizeSuccess | CategoryError, strawberry.union("TransactionCategorizeResult")
]
CategoryRuleCreateResult = Annotated[
    CategoryRuleCreateSuccess | CategoryError, strawberry.union("CategoryRuleCreateResult")
]
CategoryRuleDeleteResult = Annotated[
    CategoryRuleDeleteSuccess | CategoryError, strawberry.union("CategoryRuleDeleteResult")
]


@strawberry.input(description="A rule: at least one condition, and the category to set.")
class CategoryRuleInput:
    category: str = strawberry.field(description="A detailed code of `categories`.")
    text: str | None = strawberry.field(
        default=None,
        description="Contained in the description or the counterparty's or merchant's name "
        '(any case and script: "barqi tojik" matches "Барқи Тоҷик").',
    )
    mcc: str | None = None
    min_amount: Decimal | None = strawberry.field(
        default=None, description="Of the absolute amount, in major units of `currency`."
    )
    max_amount: Decimal | None = None
    currency: str | None = strawberry.field(
        default=None, description="Required with an amount range."
    )
    transaction_type: TransactionType | None = None
    account_id: strawberry.ID | None = None
    priority: int = strawberry.field(
        default=rules.DEFAULT_PRIORITY, description="The highest wins, then the newest."
    )


def _error(code: CategoryErrorCode, message: str, field: str | None = None) -> CategoryError:
    return CategoryError(code=code, message=message, field=field)


def _unknown(code: str) -> CategoryError:
    return _error(
        CategoryErrorCode.UNKNOWN_CATEGORY,
        f"Unknown category {code[:40]!r}: see `categories`.",
        "category",
    )


def _minor(amount: Decimal | None, currency: str | None, field: str) -> int | CategoryError | None:
    if amount is None:
        return None
    if currency is None:
        return _error(CategoryErrorCode.INVALID_RULE, "An amount needs a currency.", "currency")
    try:
        minor = to_minor(amount, currency)
    except (MoneyError, InvalidOperation):
        return _error(
            CategoryErrorCode.INVALID_RULE, f"Not an amount of {currency}: {amount}.", field
        )
    if minor < 0:
        return _error(CategoryErrorCode.INVALID_RULE, "Amounts of a rule are absolute.", field)
    return minor


@strawberry.type
class CategoryMutations:
    @strawberry.mutation(
        description="Sets the customer's own category of one transaction, above every rule "
        "and the categorizer; it survives every re-sync. A null code removes it. Requires "
        "scope categories:write.",
        extensions=[scope_gate(CATEGORIES_WRITE)],
    )
    async def transaction_categorize(
        self, info: Info, id: strawberry.ID, code: str | None
    ) -> TransactionCategorizeResult | None:
        context = info.context
        pk = pk_of(id, "Transaction")
        if code is not None and not taxonomy.is_code(code):
            return _unknown(code)
        row = await context.loaders.get(TransactionByIdLoader).load(pk)
        if row is None:
            context.trail.refuse(to_global_id("Transaction", pk))
            return _error(CategoryErrorCode.NOT_FOUND, "No such transaction.", "id")
        async with context.db.session() as session:
            await rules.set_override(session, pk, code, now=utcnow())
            await session.commit()
        context.loaders.get(TransactionByIdLoader).clear(pk)
        fresh = await context.loaders.get(TransactionByIdLoader).load(pk)
        assert fresh is not None
        return TransactionCategorizeSuccess(transaction=Transaction.from_row(fresh, context.locale))

    @strawberry.mutation(
        description="Stores a categorization rule of the customer's and applies it to their "
        "existing transactions (and to every one synced later). Requires scope "
        "categories:write.",
        extensions=[scope_gate(CATEGORIES_WRITE)],
    )
    async def category_rule_create(
        self, info: Info, input: CategoryRuleInput
    ) -> CategoryRuleCreateResult | None:
        context = info.context
        if not taxonomy.is_code(input.category):
            return _unknown(input.category)
        if input.text is not None and len(input.text) > MAX_TEXT:
            return _error(
                CategoryErrorCode.INVALID_RULE,
                f"`text` takes at most {MAX_TEXT} characters.",
                "text",
            )
        if input.currency is not None and input.currency not in CURRENCY_EXPONENTS:
            return _error(
                CategoryErrorCode.INVALID_RULE,
                f"Unknown currency {input.currency[:8]!r}.",
                "currency",
            )
        if input.mcc is not None and not (len(input.mcc) == 4 and input.mcc.isdigit()):
            return _error(CategoryErrorCode.INVALID_RULE, "An MCC is four digits.", "mcc")
        low = _minor(input.min_amount, input.currency, "minAmount")
        high = _minor(input.max_amount, input.currency, "maxAmount")
        for bound in (low, high):
            if isinstance(bound, CategoryError):
                return bound
        assert not isinstance(low, CategoryError) and not isinstance(high, CategoryError)
        if low is not None and high is not None and low > high:
            return _error(
                CategoryErrorCode.INVALID_RULE, "`minAmount` is above `maxAmount`.", "minAmount"
            )
        account_pk = None
        if input.account_id is not None:
            account_pk = pk_of(input.account_id, "Account")
            if account_pk not in await context.account_ids():
                context.trail.refuse(to_global_id("Account", account_pk))
                return _error(CategoryErrorCode.NOT_FOUND, "No such account.", "accountId")
        spec = rules.RuleSpec(
            category=input.category,
            text=input.text,
            mcc=input.mcc,
            min_amount_minor=low,
            max_amount_minor=high,
            currency=input.currency,
            transaction_type=input.transaction_type.value if input.transaction_type else None,
            account_id=account_pk,
            priority=input.priority,
        )
        if not spec.has_condition:
            return _error(
                CategoryErrorCode.INVALID_RULE,
                "A rule needs a condition: text (with letters), MCC, amount, type or account.",
            )
        user_id = context.principal.user_id
        async with context.db.session() as session:
            rule_id = await rules.create(session, user_id, spec, now=utcnow())
            await session.commit()
            rule = await rules.rule_of(session, user_id, rule_id)
        assert rule is not None
        return CategoryRuleCreateSuccess(rule=CategoryRule.of(rule, context.locale))

    @strawberry.mutation(
        description="Deletes one of the customer's categorization rules; the transactions "
        "it categorized fall back to the other rules and the categorizer. Requires scope "
        "categories:write.",
        extensions=[scope_gate(CATEGORIES_WRITE)],
    )
    async def category_rule_delete(
        self, info: Info, id: strawberry.ID
    ) -> CategoryRuleDeleteResult | None:
        context = info.context
        pk = pk_of(id, "CategoryRule")
        gid = to_global_id("CategoryRule", pk)
        if await readable_rule(info, pk) is None:
            context.trail.refuse(gid)
            return _error(CategoryErrorCode.NOT_FOUND, "No such rule.", "id")
        async with context.db.session() as session:
            await rules.delete_rule(session, context.principal.user_id, pk, now=utcnow())
            await session.commit()
        return CategoryRuleDeleteSuccess(deleted_id=strawberry.ID(gid))
