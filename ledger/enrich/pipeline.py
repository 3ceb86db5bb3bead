"""Enrichment of stored transactions: the owner of the enrichment columns of
`ledger_transaction` (`auto_category`, `auto_category_source`, `category_confidence`,
`enriched_hash`, `match_text`; the rule columns are `rules.py`'s).

`enrich_page` is the sync's hook: after each page's write, in the page's transaction, the
rows of the page whose payload differs from what enrichment last saw (new or changed rows)
are categorized (`categorize.py`) and matched against the customer's rules; unchanged rows
cost one indexed lookup. `enrich_stored` re-runs it over stored rows (`alif-graph enrich
run`). Both are deterministic: the same rows, rules and tables give the same columns.

What the ledger already knows of own-account transfers feeds the categorizer: a row whose
counterparty account is one of the customer's own accounts (number or masked number) is a
leg of a transfer between them, TRANSFER_IN/OUT_OWN_ACCOUNT. (The pairing of legs, issue 14,
passes a known direction through `Facts.own_transfer` the same way.)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.enrich import rules as rule_book
from ledger.enrich.categorize import Facts, categorize
from ledger.enrich.text import normalize
from ledger.models import Account, Transaction, table
from ledger.writes import lookup

TX = table(Transaction)
ACCOUNTS = table(Account)
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


def _enriched(account_id: int, row: Sequence[Any], customer: _Customer) -> dict[str, Any]:
    values = dict(zip(_WANTED, row, strict=True))
    amount = int(values["amount_minor"])
    own = None
    if values["counterparty_account"] and values["counterparty_account"] in customer.own_numbers:
        own = "IN" if amount > 0 else "OUT"
    facts = Facts(
        amount_minor=amount,
        type=values["type"],
        description=values["description"],
        counterparty_name=values["counterparty_name"],
        merchant_name=values["merchant_name"],
        mcc=values["mcc"],
        bank_category=values["category"],
        own_transfer=own,
    )
    verdict = categorize(facts)
    text = normalize(
        " ".join(
            t
            for t in (values["description"], values["counterparty_name"], values["merchant_name"])
            if t
        )
    )[:_MATCH_TEXT]
    rule = rule_book.matching(
        customer.rules,
        rule_book.RowFacts(
            account_id, amount, values["currency"], values["type"], values["mcc"], text
        ),
    )
    return {
        "b_id": values["id"],
        "b_code": verdict.code,
        "b_source": verdict.source.value,
        "b_confidence": verdict.confidence,
        "b_rule_code": rule.category if rule else None,
        "b_rule_id": rule.id if rule else None,
        "b_hash": values["payload_hash"],
        "b_text": text,
    }


_UPDATE = (
    update(TX)
    .where(TX.c.id == bindparam("b_id"))
    .values(
        auto_category=bindparam("b_code"),
        auto_category_source=bindparam("b_source"),
        category_confidence=bindparam("b_confidence"),
        rule_category=bindparam("b_rule_code"),
        category_rule_id=bindparam("b_rule_id"),
        enriched_hash=bindparam("b_hash"),
        match_text=bindparam("b_text"),
    )
)


async def _write(session: AsyncSession, values: list[dict[str, Any]]) -> None:
    if values:
        connection = await session.connection()
        await connection.execute(_UPDATE, values)


async def enrich_page(session: AsyncSession, account_id: int, external_ids: Iterable[str]) -> int:
    """Enrich the account's rows of one sync page that are new or changed since they were
    last enriched; how many were. Runs in the caller's transaction."""
    keys = list(dict.fromkeys(external_ids))
    if not keys:
        return 0
    stored: Mapping[Any, tuple[Any, ...]] = await lookup(
        session, TX, {"account_id": account_id}, "external_id", keys, _WANTED
    )
    stale = [row for row in stored.values() if row[2] != row[1]]
    if not stale:
        return 0
    customer = await _customer_of(session, account_id)
    await _write(session, [_enriched(account_id, row, customer) for row in stale])
    return len(stale)


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
            await _write(session, [_enriched(account_id, tuple(r), customer) for r in batch])
            done += len(batch)
            last = int(batch[-1][0])
    return done


async def account_ids_of(session: AsyncSession, connection_id: int | None) -> list[int]:
    """Every account of one connection (None: of every connection), by id."""
    stmt = select(ACCOUNTS.c.id).order_by(ACCOUNTS.c.id)
    if connection_id is not None:
        stmt = stmt.where(ACCOUNTS.c.connection_id == connection_id)
    return [int(i) for i in (await session.execute(stmt)).scalars()]
