"""The customer's categorization rules and overrides: the owner of `category_rule`, of the
rule columns of `ledger_transaction` (`rule_category`, `category_rule_id`) and of the
customer's own category of one transaction (`user_category`, `set_override`).

A rule matches a transaction when every condition it holds is true: its text contained in
the row's normalized text (`ledger.enrich.text`: description, counterparty and merchant
names, so "barqi tojik" matches "Барқи Тоҷик"), the MCC, the transaction type, the account,
the currency, and the absolute amount within [min, max] minor units. Among the rules that
match one row the highest priority wins, then the newest.

A change of the rules (create, delete) recategorizes the customer's existing rows in bulk
SQL: one UPDATE clears the rule columns, then one UPDATE per rule, lowest precedence first,
sets them where it matches, so the winner writes last. New rows are matched in Python by
`matching` as they are enriched (ledger/enrich/pipeline.py), with the same semantics.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.enrich.text import normalize
from ledger.models import Account, CategoryRule, Transaction, table
from ledger.queries.windows import Window, window_parameters, windowed

RULES = table(CategoryRule)
TX = table(Transaction)
ACCOUNTS = table(Account)
TEXT_FIELD = "TEXT"
DEFAULT_PRIORITY = 100


@dataclass(frozen=True, slots=True)
class Rule:
    id: int
    category: str
    pattern: str  # normalized; "" matches any text
    priority: int
    created_at: datetime
    mcc: str | None = None
    min_amount_minor: int | None = None
    max_amount_minor: int | None = None
    currency: str | None = None
    transaction_type: str | None = None
    account_id: int | None = None

    @property
    def precedence(self) -> tuple[int, datetime, int]:
        return (self.priority, self.created_at, self.id)


@dataclass(frozen=True, slots=True)
class RuleSpec:
    """A rule as asked for; `text` is written as people write it (normalized here)."""

    category: str
    text: str | None = None
    mcc: str | None = None
    min_amount_minor: int | None = None
    max_amount_minor: int | None = None
    currency: str | None = None
    transaction_type: str | None = None
    account_id: int | None = None
    priority: int = DEFAULT_PRIORITY

    @property
    def pattern(self) -> str:
        return normalize(self.text) if self.text else ""

    @property
    def has_condition(self) -> bool:
        return any(
            v is not None and v != ""
            for v in (
                self.pattern,
                self.mcc,
                self.min_amount_minor,
                self.max_amount_minor,
                self.transaction_type,
                self.account_id,
            )
        )


_COLUMNS = (
    RULES.c.id,
    RULES.c.category,
    RULES.c.pattern,
    RULES.c.priority,
    RULES.c.created_at,
    RULES.c.mcc,
    RULES.c.min_amount_minor,
    RULES.c.max_amount_minor,
    RULES.c.currency,
    RULES.c.transaction_type,
    RULES.c.account_id,
)


async def rules_of(session: AsyncSession, user_id: int) -> list[Rule]:
    """The customer's rules, highest precedence first."""
    stmt = select(*_COLUMNS).where(RULES.c.user_id == user_id)
    found = [Rule(*row) for row in await session.execute(stmt)]
    return sorted(found, key=lambda r: r.precedence, reverse=True)


@dataclass(frozen=True, slots=True)
class RowFacts:
    """What a rule reads of one transaction."""

    account_id: int
    amount_minor: int
    currency: str
    type: str
    mcc: str | None
    match_text: str


def matching(rules: Sequence[Rule], row: RowFacts) -> Rule | None:
    """The rule of highest precedence among `rules` (so ordered) that matches the row."""
    for rule in rules:
        if _matches(rule, row):
            return rule
    return None


def _matches(rule: Rule, row: RowFacts) -> bool:
    if rule.pattern and rule.pattern not in row.match_text:
        return False
    if rule.mcc is not None and rule.mcc != row.mcc:
        return False
    if rule.transaction_type is not None and rule.transaction_type != row.type:
        return False
    if rule.account_id is not None and rule.account_id != row.account_id:
        return False
    if rule.currency is not None and rule.currency != row.currency:
        return False
    size = abs(row.amount_minor)
    if rule.min_amount_minor is not None and size < rule.min_amount_minor:
        return False
    return rule.max_amount_minor is None or size <= rule.max_amount_minor


def _condition(rule: Rule) -> ColumnElement[bool]:
    """`_matches` in SQL (normalized text has no % or _ to escape)."""
    parts: list[ColumnElement[bool]] = []
    if rule.pattern:
        parts.append(TX.c.match_text.like(f"%{rule.pattern}%"))
    if rule.mcc is not None:
        parts.append(TX.c.mcc == rule.mcc)
    if rule.transaction_type is not None:
        parts.append(TX.c.type == rule.transaction_type)
    if rule.account_id is not None:
        parts.append(TX.c.account_id == rule.account_id)
    if rule.currency is not None:
        parts.append(TX.c.currency == rule.currency)
    if rule.min_amount_minor is not None:
        parts.append(func.abs(TX.c.amount_minor) >= rule.min_amount_minor)
    if rule.max_amount_minor is not None:
        parts.append(func.abs(TX.c.amount_minor) <= rule.max_amount_minor)
    return and_(*parts)


def _customers_rows(user_id: int) -> ColumnElement[bool]:
    return TX.c.account_id.in_(select(ACCOUNTS.c.id).where(ACCOUNTS.c.user_id == user_id))


async def create(session: AsyncSession, user_id: int, spec: RuleSpec, *, now: datetime) -> int:
    """Store a rule and recategorize the customer's rows; the new rule's id."""
    values = {
        "user_id": user_id,
        "field": TEXT_FIELD,
        "pattern": spec.pattern[:200],
        "category": spec.category,
        "priority": spec.priority,
        "mcc": spec.mcc,
        "min_amount_minor": spec.min_amount_minor,
        "max_amount_minor": spec.max_amount_minor,
        "currency": spec.currency,
        "transaction_type": spec.transaction_type,
        "account_id": spec.account_id,
        "created_at": now,
    }
    rule_id = (
        await session.execute(insert(RULES).values(**values).returning(RULES.c.id))
    ).scalar_one()
    await reapply(session, user_id, now=now)
    return int(rule_id)


async def delete_rule(session: AsyncSession, user_id: int, rule_id: int, *, now: datetime) -> bool:
    """Delete one of the customer's rules and recategorize; False if it is not theirs."""
    gone = await session.execute(
        delete(RULES).where(RULES.c.id == rule_id, RULES.c.user_id == user_id)
    )
    if not gone.rowcount:  # type: ignore[attr-defined]
        return False
    await reapply(session, user_id, now=now)
    return True


async def reapply(session: AsyncSession, user_id: int, *, now: datetime) -> None:
    """The customer's rule columns recomputed from their rules, in bulk SQL."""
    mine = _customers_rows(user_id)
    await session.execute(
        update(TX)
        .where(mine, TX.c.category_rule_id.is_not(None))
        .values(rule_category=None, category_rule_id=None, updated_at=now)
    )
    for rule in reversed(await rules_of(session, user_id)):  # lowest precedence first
        await session.execute(
            update(TX)
            .where(mine, _condition(rule))
            .values(rule_category=rule.category, category_rule_id=rule.id, updated_at=now)
        )


def _shown(user_id: int, readable: Sequence[int]) -> ColumnElement[bool]:
    """The customer's rules a request may see: none bound to an account outside it."""
    return and_(
        RULES.c.user_id == user_id,
        or_(RULES.c.account_id.is_(None), RULES.c.account_id.in_(list(readable))),
    )


async def rule_of(session: AsyncSession, user_id: int, rule_id: int) -> Rule | None:
    """One of the customer's rules; None for another customer's or a missing one."""
    stmt = select(*_COLUMNS).where(RULES.c.id == rule_id, RULES.c.user_id == user_id)
    row = (await session.execute(stmt)).one_or_none()
    return None if row is None else Rule(*row)


async def rule_window(
    session: AsyncSession, user_id: int, readable: Sequence[int], window: Window
) -> list[Rule]:
    """A keyset window of the rules a request may see, by id."""
    stmt = windowed(select(*_COLUMNS).where(_shown(user_id, readable)), [RULES.c.id], window)
    return [Rule(*row) for row in await session.execute(stmt, window_parameters(window))]


async def rule_count(session: AsyncSession, user_id: int, readable: Sequence[int]) -> int:
    stmt = select(func.count()).select_from(RULES).where(_shown(user_id, readable))
    return int((await session.execute(stmt)).scalar_one())


async def set_override(
    session: AsyncSession, transaction_id: int, code: str | None, *, now: datetime
) -> None:
    """The customer's own category of one transaction (None: back to rules and the
    categorizer). It lives in `user_category`, outside the payload hash: no sync changes
    it, and a booked row that replaces a pending one inherits it (ledger/sync_store.py)."""
    await session.execute(
        update(TX).where(TX.c.id == transaction_id).values(user_category=code, updated_at=now)
    )
