"""Categories (the taxonomy of ledger/enrich/taxonomy.py), the customer's rules, and
recurring payment streams."""

from __future__ import annotations

import functools
from datetime import date
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry

from graph.auth.scopes import TRANSACTIONS_READ
from graph.context import Info
from graph.core.locales import Locale
from graph.core.scalars import Money
from graph.relay.ids import to_global_id
from graph.relay.node import Node, node
from ledger.enrich import taxonomy
from ledger.enrich.recurring import Stream
from ledger.enrich.rules import Rule
from ledger.queries.results import TransactionRow

if TYPE_CHECKING:
    from graph.transactions.types import Transaction


@strawberry.enum(description="Where a category came from, highest precedence first.")
class CategorySource(Enum):
    USER = "USER"  # the customer's own choice (transactionCategorize)
    RULE = "RULE"  # one of the customer's rules (categoryRuleCreate)
    LINK = "LINK"  # a leg of a transfer between the customer's own accounts
    BANK = "BANK"  # the bank's own category or service-provider code
    MCC = "MCC"  # the ISO 18245 merchant category code
    TYPE = "TYPE"  # the transaction type (cash withdrawal, fee, salary, ...)
    MERCHANT = "MERCHANT"  # the curated table of Tajik payees and merchants
    TEXT = "TEXT"  # the words of the description and names


_SOURCES = {member.value: member for member in CategorySource}


PrimaryCategory: type[Enum] = strawberry.enum(
    Enum("PrimaryCategory", {p: p for p in taxonomy.PRIMARY}),  # type: ignore[call-overload]
    description="The top level of the taxonomy (Plaid's personal finance categories).",
)


def _locale(locale: Locale) -> str:
    return locale.value


def category_label(code: str | None, locale: Locale) -> str:
    """The label of a category code (detailed, primary or a bank's key) in `locale`."""
    return taxonomy.label(code, _locale(locale))


@strawberry.type
class Category:
    code: str = strawberry.field(description="The detailed category, PRIMARY_DETAIL.")
    source: CategorySource
    confidence: int = strawberry.field(
        description="How sure the categorizer is, 0 to 100; 100 for the customer's own "
        "choice and rules."
    )
    default_locale: strawberry.Private[Locale]

    @strawberry.field(description="The primary category the code belongs to.")
    def primary(self) -> PrimaryCategory | None:  # type: ignore[valid-type]
        found = taxonomy.primary_of(self.code)
        return PrimaryCategory(found) if found else None

    @strawberry.field(description="The label in `locale`, by default the customer's language.")
    def label(self, locale: Locale | None = None) -> str:
        return category_label(self.code, locale or self.default_locale)

    @classmethod
    def of(
        cls, code: str, source: CategorySource, locale: Locale, confidence: int = 100
    ) -> Category:
        return _category(code, source, locale, confidence)

    @classmethod
    def from_row(cls, row: TransactionRow, locale: Locale) -> Category | None:
        """Highest first: the customer's override, their rule, the categorizer's verdict,
        and for a row not enriched yet the bank's own key. None: uncategorized."""
        if row.user_category:
            return cls.of(row.user_category, CategorySource.USER, locale)
        if row.rule_category:
            return cls.of(row.rule_category, CategorySource.RULE, locale)
        if row.auto_category:
            key = row.auto_category_source or CategorySource.TEXT.value
            source = _SOURCES.get(key) or CategorySource(key)
            return cls.of(row.auto_category, source, locale, row.category_confidence or 0)
        if row.category:  # not enriched yet, or a key the taxonomy does not know
            known = taxonomy.primary_of(row.category) is not None
            return cls.of(row.category, CategorySource.BANK, locale, 95 if known else 0)
        return None


@functools.lru_cache(maxsize=4096)
def _category(code: str, source: CategorySource, locale: Locale, confidence: int) -> Category:
    """One Category per distinct value, shared by the rows and requests that show it (they
    are never changed once made): a page would otherwise build one per row."""
    return Category(
        code=taxonomy.canonical(code),
        source=source,
        confidence=confidence,
        default_locale=locale,
    )


@strawberry.type(description="One category of the taxonomy.")
class CategoryDefinition:
    code: str
    primary: PrimaryCategory  # type: ignore[valid-type]
    label: str
    primary_label: str

    @classmethod
    def of(cls, category: taxonomy.Category, locale: Locale) -> CategoryDefinition:
        return cls(
            code=category.code,
            primary=PrimaryCategory(category.primary),
            label=category_label(category.code, locale),
            primary_label=category_label(category.primary, locale),
        )


@node(scope=TRANSACTIONS_READ)
@strawberry.type(
    description="A rule of the customer's: the transactions it matches take its category "
    "(above the categorizer, below the customer's own choice of one transaction). Every "
    "condition given must hold."
)
class CategoryRule(Node):
    category: Category
    text: str | None = strawberry.field(
        description="Contained in the description or the counterparty's or merchant's name, "
        "in any script or case (normalized: lowercase Latin)."
    )
    mcc: str | None
    min_amount: Money | None = strawberry.field(description="Of the absolute amount.")
    max_amount: Money | None
    transaction_type: str | None
    account_id: strawberry.ID | None
    priority: int = strawberry.field(description="The highest wins, then the newest.")

    @classmethod
    async def resolve_node(cls, info: Info, pk: int) -> CategoryRule | None:
        from graph.categories.queries import readable_rule

        rule = await readable_rule(info, pk)
        return None if rule is None else cls.of(rule, info.context.locale)

    @classmethod
    def of(cls, rule: Rule, locale: Locale) -> CategoryRule:
        def money(minor: int | None) -> Money | None:
            if minor is None or rule.currency is None:
                return None
            from ledger.money import Money as LedgerMoney

            return Money.of(LedgerMoney(minor, rule.currency))

        return cls(
            id=strawberry.ID(to_global_id("CategoryRule", rule.id)),
            category=Category.of(rule.category, CategorySource.RULE, locale),
            text=rule.pattern or None,
            mcc=rule.mcc,
            min_amount=money(rule.min_amount_minor),
            max_amount=money(rule.max_amount_minor),
            transaction_type=rule.transaction_type,
            account_id=(
                strawberry.ID(to_global_id("Account", rule.account_id))
                if rule.account_id is not None
                else None
            ),
            priority=rule.priority,
        )


@strawberry.enum
class RecurringFrequency(Enum):
    WEEKLY = "WEEKLY"
    BIWEEKLY = "BIWEEKLY"
    MONTHLY = "MONTHLY"
    QUARTERLY = "QUARTERLY"
    YEARLY = "YEARLY"
    UNKNOWN = "UNKNOWN"  # an autopay stream whose payments are not yet regular


@strawberry.enum
class RecurringStatus(Enum):
    ACTIVE = "ACTIVE"  # the last payment came on time; the next is not overdue
    LATE = "LATE"  # the next payment is overdue, by less than one more interval
    ENDED = "ENDED"  # more than one interval overdue


@strawberry.enum
class StreamDirection(Enum):
    INFLOW = "INFLOW"
    OUTFLOW = "OUTFLOW"


@strawberry.type(
    description="A recurring stream: payments to or from one payee, of similar amounts, "
    "at a regular interval (Alif's autopay service payments are streams by construction)."
)
class RecurringPayment:
    payee: str
    direction: StreamDirection
    category: Category | None
    frequency: RecurringFrequency
    average_amount: Money = strawberry.field(description="Signed, like the transactions.")
    last_amount: Money
    last_date: date
    next_expected_date: date | None
    status: RecurringStatus
    autopay: bool
    transaction_pks: strawberry.Private[list[int]]

    @strawberry.field(description="The stream's transactions, oldest first.")
    async def transactions(
        self, info: Info
    ) -> list[Annotated[Transaction, strawberry.lazy("graph.transactions.types")]]:
        from graph.transactions.loaders import TransactionByIdLoader
        from graph.transactions.types import Transaction

        rows = await info.context.loaders.get(TransactionByIdLoader).load_many(self.transaction_pks)
        return [Transaction.from_row(r, info.context.locale) for r in rows if r is not None]

    @classmethod
    def of(cls, stream: Stream, locale: Locale) -> RecurringPayment:
        return cls(
            payee=stream.payee,
            direction=StreamDirection(stream.direction),
            category=(
                Category.of(stream.category, CategorySource(stream.category_source), locale)
                if stream.category
                else None
            ),
            frequency=RecurringFrequency(stream.frequency),
            average_amount=Money.of(stream.average),
            last_amount=Money.of(stream.last_amount),
            last_date=stream.last_date,
            next_expected_date=stream.next_date,
            status=RecurringStatus(stream.status),
            autopay=stream.autopay,
            transaction_pks=list(stream.transaction_ids),
        )
