"""Enrichment of stored transactions: the owner of the enrichment columns of
`ledger_transaction` (`auto_category`, `auto_category_source`, `category_confidence`,
`enriched_hash`, `match_text`; the rule columns are `rules.py`'s).

The sync enriches each page in the page's transaction, in two steps: `seed_page` before
the write gives every row its columns (categorized by `categorize.py`, matched against the
customer's rules), which the write stores with the rows it inserts (`ON_INSERT`: a new row
is written once, not inserted and then updated); `enrich_page` after the write enriches
the stored rows whose payload differs from what enrichment last saw (the changed ones),
at the cost of one indexed lookup when the page met stored rows. `enrich_stored` re-runs
it over stored rows (`alif-graph enrich run`). All are deterministic: the same rows, rules
and tables give the same columns.

What the ledger already knows of own-account transfers feeds the categorizer: a row whose
counterparty account is one of the customer's own accounts (number or masked number) is a
leg of a transfer between them, TRANSFER_IN/OUT_OWN_ACCOUNT. A leg paired by
`own_transfers` (after the page's commit, or later) gets the same category from
`label_paired_legs`, which the pairing calls and every enrichment of a row re-applies.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from operator import itemgetter
from typing import Any

from sqlalchemy import bindparam, case, select, update
from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.enrich import rules as rule_book
from ledger.enrich.categorize import Facts, Source, categorize
from ledger.enrich.text import fold
from ledger.models import Account, Transaction, table
from ledger.writes import OnInsert, lookup

TX = table(Transaction)
ACCOUNTS = table(Account)


def _getter(keys: Sequence[str]) -> Any:
    return itemgetter(*keys)


_WANTED = (
    "id",
    "payload_hash",
    "enriched_hash",
    "amount_minor",
    "currency",
    "type",
    "description",
    "counterparty_name",
    "counterparty_account",
    "merchant_name",
    "mcc",
    "category",
)
_FACTS = _WANTED[3:]  # what the categorizer and the rules read, in this order
# What `enrich_page` reads of the page's stored rows: whether each is stale, and a leg.
_LOOKED_UP = (*_WANTED[:3], "internal_transfer_leg_id")
_BATCH = 2000
_MATCH_TEXT = 2000


@dataclass(frozen=True, slots=True)
class _Customer:
    user_id: int
    own_numbers: frozenset[str]
    rules: list[rule_book.Rule]


async def _customer_of(session: AsyncSession, account_id: int) -> _Customer:
    owner = select(ACCOUNTS.c.user_id).where(ACCOUNTS.c.id == account_id).scalar_subquery()
    found = (
        await session.execute(
            select(ACCOUNTS.c.user_id, ACCOUNTS.c.number, ACCOUNTS.c.number_masked).where(
                ACCOUNTS.c.user_id == owner
            )
        )
    ).all()
    user_id = int(found[0][0])
    numbers = frozenset(n for _, *pair in found for n in pair if n)
    return _Customer(user_id, numbers, await rule_book.rules_of(session, user_id))


# The texts statements repeat stay in a small cache; most distinct facts come once (names,
# numbers) and only fill it: a 300k sync's verdicts hit 94 % at 8192 entries as at 65536,
# and a 1M sync left 50,000 verdicts (~1 KB each) in 65536 for the process's life.
@lru_cache(maxsize=8192)
def _verdict(
    credit: bool,
    type_: str,
    description: str | None,
    counterparty: str | None,
    merchant: str | None,
    mcc: str | None,
    bank: str | None,
    own: str | None,
) -> tuple[str | None, str, int, str]:
    """(code, source, confidence, normalized text) of a row's facts: statements repeat
    themselves, so one categorization serves every row that says the same."""
    verdict = categorize(
        Facts(
            amount_minor=1 if credit else -1,
            type=type_,
            description=description,
            counterparty_name=counterparty,
            merchant_name=merchant,
            mcc=mcc,
            bank_category=bank,
            own_transfer=own,
        )
    )
    text = fold(" ".join(t for t in (description, counterparty, merchant) if t))
    return verdict.code, verdict.source.value, verdict.confidence, text[:_MATCH_TEXT]


def _enriched(
    account_id: int, facts: Sequence[Any], customer: _Customer
) -> tuple[Any, Any, Any, Any, Any, str]:
    """The enrichment columns of one row but its hash, in `_SET` order."""
    amount, currency, type_, description, counterparty, account, merchant, mcc, bank = facts
    own = None
    if account and account in customer.own_numbers:
        own = "IN" if amount > 0 else "OUT"
    code, source, confidence, text = _verdict(
        amount > 0, type_, description, counterparty, merchant, mcc, bank, own
    )
    rule = None
    if customer.rules:
        facts_of_row = rule_book.RowFacts(account_id, amount, currency, type_, mcc, text)
        rule = rule_book.matching(customer.rules, facts_of_row)
    return (
        code,
        source,
        confidence,
        rule.category if rule else None,
        rule.id if rule else None,
        text,
    )


def _by_id(row_id: int, payload_hash: str, columns: tuple[Any, ...]) -> tuple[Any, ...]:
    """`_UPDATE`'s parameters: the columns with the hash enrichment saw, then the id."""
    *head, text = columns
    return (*head, payload_hash, text, row_id)


_SET = (
    "auto_category",
    "auto_category_source",
    "category_confidence",
    "rule_category",
    "category_rule_id",
    "enriched_hash",
    "match_text",
)
_UPDATE = (
    update(TX).where(TX.c.id == bindparam("b_id")).values({c: bindparam(f"b_{c}") for c in _SET})
)
_KEYS = (*(f"b_{c}" for c in _SET), "b_id")
_COMPILED = _UPDATE.compile(dialect=sqlite.dialect(paramstyle="qmark"))
assert tuple(_COMPILED.positiontup or ()) == _KEYS, "the driver binds in _KEYS order"
# Rows a write has just inserted, by their identity: no id to read back first, and the
# hash they were stored with is the one enrichment sees.
_SQL = str(_COMPILED)
# What a new row is inserted with (`seed_page`): the columns but the hash, which the write
# copies from the row's payload hash, the one these columns were computed from.
ON_INSERT = OnInsert(tuple(c for c in _SET if c != "enriched_hash"), hash_into="enriched_hash")


async def _write(session: AsyncSession, values: list[tuple[Any, ...]]) -> None:
    """One executemany of `_UPDATE`: on SQLite straight through the driver (positional, no
    per-row SQLAlchemy work), elsewhere through SQLAlchemy (one round trip on asyncpg)."""
    if not values:
        return
    connection = await session.connection()
    if connection.dialect.name == "sqlite":
        raw = await connection.get_raw_connection()
        await raw.driver_connection.executemany(_SQL, values)  # type: ignore[union-attr]
    else:
        await connection.execute(_UPDATE, [dict(zip(_KEYS, v, strict=True)) for v in values])


async def label_paired_legs(session: AsyncSession, ids: Sequence[int]) -> None:
    """Paired legs of a move between own accounts among `ids` are TRANSFER_OUT/IN_OWN_ACCOUNT
    (source LINK, the categorizer's highest automatic rank): the pairing knows more than
    any text. The customer's override and rules still win (`effective_category`)."""
    if not ids:
        return
    await session.execute(
        update(TX)
        .where(TX.c.id.in_(ids), TX.c.internal_transfer_leg_id.is_not(None))
        .values(
            auto_category=case(
                (TX.c.amount_minor < 0, "TRANSFER_OUT_OWN_ACCOUNT"),
                else_="TRANSFER_IN_OWN_ACCOUNT",
            ),
            auto_category_source=Source.LINK.value,
            category_confidence=100,
        )
    )


async def seed_page(session: AsyncSession, account_id: int, rows: Sequence[dict[str, Any]]) -> None:
    """Give each of the account's page rows, in place, the enrichment columns it is to be
    inserted with (`ON_INSERT`); a row the write finds stored keeps its own until
    `enrich_page` looks at it."""
    if not rows:
        return
    customer = await _customer_of(session, account_id)
    facts = _getter(_FACTS)
    for row in rows:
        row.update(zip(ON_INSERT.columns, _enriched(account_id, facts(row), customer), strict=True))


async def enrich_page(
    session: AsyncSession,
    account_id: int,
    rows: Sequence[Mapping[str, Any]],
    *,
    all_new: bool = False,
) -> int:
    """Enrich the account's stored rows of one sync page (the row mappings the page wrote)
    that changed since they were last enriched; how many were. Rows the write inserted
    with their `seed_page` columns are not among them; when it inserted every one
    (`all_new`) nothing is read back. Runs in the caller's transaction."""
    if not rows or all_new:
        return 0
    by_key = {row["external_id"]: row for row in rows}
    facts = _getter(_FACTS)
    stored: Mapping[Any, tuple[Any, ...]] = await lookup(
        session, TX, {"account_id": account_id}, "external_id", list(by_key), _LOOKED_UP
    )
    stale = [(key, found) for key, found in stored.items() if found[2] != found[1]]
    if not stale:
        return 0
    customer = await _customer_of(session, account_id)
    values = [
        _by_id(found[0], found[1], _enriched(account_id, facts(by_key[key]), customer))
        for key, found in stale
    ]
    await _write(session, values)
    # Only the paired legs among them are relabelled: the statement naming a thousand ids
    # costs milliseconds to build and run.
    await label_paired_legs(session, [found[0] for _, found in stale if found[3] is not None])
    return len(values)


async def enrich_stored(
    session: AsyncSession, account_ids: Sequence[int], *, full: bool = False
) -> int:
    """Enrich the stored rows of these accounts: those not enriched since they last
    changed, or (`full`) all of them, e.g. after the tables changed. How many were."""
    done = 0
    for account_id in account_ids:
        customer = await _customer_of(session, account_id)
        last = 0
        while True:
            stmt = (
                select(*(TX.c[c] for c in _WANTED))
                .where(TX.c.account_id == account_id, TX.c.id > last)
                .order_by(TX.c.id)
                .limit(_BATCH)
            )
            if not full:
                stmt = stmt.where(TX.c.enriched_hash.is_distinct_from(TX.c.payload_hash))
            batch = (await session.execute(stmt)).all()
            if not batch:
                break
            await _write(
                session, [_by_id(r[0], r[1], _enriched(account_id, r[3:], customer)) for r in batch]
            )
            await label_paired_legs(session, [int(r[0]) for r in batch])
            done += len(batch)
            last = int(batch[-1][0])
    return done


async def account_ids_of(session: AsyncSession, connection_id: int | None) -> list[int]:
    """Every account of one connection (None: of every connection), by id."""
    stmt = select(ACCOUNTS.c.id).order_by(ACCOUNTS.c.id)
    if connection_id is not None:
        stmt = stmt.where(ACCOUNTS.c.connection_id == connection_id)
    return [int(i) for i in (await session.execute(stmt)).scalars()]
