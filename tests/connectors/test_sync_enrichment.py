"""Enrichment during a sync, over real HTTP to the sandbox: every page's new and changed rows
are categorized, unchanged rows are not touched again, the customer's override survives a
re-sync that changes the row, and a rule applies to stored rows at once (bulk SQL) and to
rows synced later."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from connectors.credentials import Credentials
from ledger.enrich import pipeline, rules
from ledger.enrich.rules import RowFacts, RuleSpec
from ledger.models import Account, Transaction, table
from ledger.queries import effective_category
from ledger.types import utcnow

from .sync_kit import Bank, sync_once

TX = table(Transaction)
ACCOUNTS = table(Account)


async def _rows(sessions: async_sessionmaker[AsyncSession], connection_id: int) -> list:
    async with sessions() as s:
        return list(
            (
                await s.execute(
                    select(
                        TX.c.id,
                        TX.c.account_id,
                        TX.c.external_id,
                        TX.c.amount_minor,
                        TX.c.currency,
                        TX.c.type,
                        TX.c.mcc,
                        TX.c.match_text,
                        TX.c.auto_category,
                        TX.c.auto_category_source,
                        TX.c.rule_category,
                        TX.c.category_rule_id,
                        TX.c.user_category,
                        TX.c.payload_hash,
                        TX.c.enriched_hash,
                        effective_category().label("effective"),
                    ).where(TX.c.connection_id == connection_id)
                )
            ).all()
        )


async def _user_of(sessions: async_sessionmaker[AsyncSession], account_id: int) -> int:
    async with sessions() as s:
        found = await s.execute(select(ACCOUNTS.c.user_id).where(ACCOUNTS.c.id == account_id))
        return int(found.scalar_one())


async def test_every_synced_row_is_enriched_once_and_unchanged_rows_are_left_alone(
    sessions: async_sessionmaker[AsyncSession], bank: Bank, family: tuple[str, int, Credentials]
) -> None:
    _, connection_id, creds = family
    await sync_once(sessions, bank, connection_id, creds)

    rows = await _rows(sessions, connection_id)
    assert rows
    assert all(r.enriched_hash == r.payload_hash for r in rows)
    assert all(r.match_text is not None for r in rows)
    categorized = [r for r in rows if r.auto_category]
    assert len(categorized) >= 0.9 * len(rows)
    # A marker on every row: a re-sync of an unchanged bank categorizes nothing again.
    async with sessions.begin() as s:
        await s.execute(
            update(TX).where(TX.c.connection_id == connection_id).values(auto_category="MARK")
        )
    await sync_once(sessions, bank, connection_id, creds)

    assert {r.auto_category for r in await _rows(sessions, connection_id)} == {"MARK"}


async def test_a_first_sync_enriches_its_new_rows_as_a_full_re_enrichment_does(
    sessions: async_sessionmaker[AsyncSession], bank: Bank, family: tuple[str, int, Credentials]
) -> None:
    """A first sync's pages are all new rows, inserted with their enrichment
    (`seed_page`) and never read back; `enrich_stored(full=True)` enriches the same rows by
    id, the path of a changed row: both must write the very same columns."""
    _, connection_id, creds = family
    await sync_once(sessions, bank, connection_id, creds)
    first = sorted(await _rows(sessions, connection_id))
    assert first and all(r.enriched_hash == r.payload_hash for r in first)
    async with sessions.begin() as s:
        accounts = await pipeline.account_ids_of(s, connection_id)
        assert await pipeline.enrich_stored(s, accounts, full=True) == len(first)
    assert sorted(await _rows(sessions, connection_id)) == first


async def test_a_page_of_new_and_changed_rows_is_enriched_as_a_full_re_enrichment_is(
    sessions: async_sessionmaker[AsyncSession], bank: Bank, family: tuple[str, int, Credentials]
) -> None:
    """A re-sync's page that meets stored rows: the new ones go in enriched, the changed
    ones are enriched after the write; either way the columns are a full re-enrichment's,
    and every row's enrichment saw its current payload."""
    username, connection_id, creds = family
    await sync_once(sessions, bank, connection_id, creds)
    account = bank.truth.accounts_of(username)[0]
    booked = [t for t in bank.truth.truth(account.id) if t[2] == "BOOKED"]
    bank.clock.now += timedelta(hours=1)
    for t in booked[-5:]:
        bank.truth.change_booked(account.id, t[0], description=f"Dushanbe City, receipt {t[0]}")
    bank.truth.add_transactions(account.id, 30)

    await sync_once(sessions, bank, connection_id, creds, full=True)

    synced = sorted(await _rows(sessions, connection_id))
    assert all(r.enriched_hash == r.payload_hash for r in synced)
    changed = {r.external_id: r for r in synced if r.external_id in {t[0] for t in booked[-5:]}}
    assert len(changed) == 5 and all("dushanbe city" in r.match_text for r in changed.values())
    async with sessions.begin() as s:
        accounts = await pipeline.account_ids_of(s, connection_id)
        assert await pipeline.enrich_stored(s, accounts, full=True) == len(synced)
    assert sorted(await _rows(sessions, connection_id)) == synced


async def test_an_override_survives_a_resync_that_changes_the_row(
    sessions: async_sessionmaker[AsyncSession], bank: Bank, family: tuple[str, int, Credentials]
) -> None:
    username, connection_id, creds = family
    await sync_once(sessions, bank, connection_id, creds)
    account = bank.truth.accounts_of(username)[0]
    booked = [t for t in bank.truth.truth(account.id) if t[2] == "BOOKED"]
    chosen = [booked[0][0], booked[len(booked) // 2][0], booked[-1][0]]
    stored = {r.external_id: r for r in await _rows(sessions, connection_id)}
    async with sessions.begin() as s:
        for ext in chosen:
            await rules.set_override(s, stored[ext].id, "GENERAL_SERVICES_OTHER", now=utcnow())
    bank.clock.now += timedelta(hours=1)
    for ext in chosen:
        bank.truth.change_booked(account.id, ext, description=f"Pharmacy Shifo, receipt {ext}")

    await sync_once(sessions, bank, connection_id, creds, full=True)  # old rows read again

    after = {r.external_id: r for r in await _rows(sessions, connection_id)}
    for ext in chosen:
        row = after[ext]
        assert row.payload_hash != stored[ext].payload_hash  # the bank's change arrived
        assert row.enriched_hash == row.payload_hash  # and was enriched again
        assert "pharmacy shifo" in row.match_text
        assert row.user_category == "GENERAL_SERVICES_OTHER"
        assert row.effective == "GENERAL_SERVICES_OTHER"


async def test_a_rule_applies_to_stored_rows_and_to_rows_synced_later(
    sessions: async_sessionmaker[AsyncSession], bank: Bank, family: tuple[str, int, Credentials]
) -> None:
    username, connection_id, creds = family
    await sync_once(sessions, bank, connection_id, creds)
    rows = await _rows(sessions, connection_id)
    user_id = await _user_of(sessions, rows[0].account_id)
    # The commonest word of the stored texts: a rule on it matches many rows, not all.
    words: dict[str, int] = {}
    for r in rows:
        for w in set(r.match_text.split()):
            words[w] = words.get(w, 0) + 1
    word = max((w for w, n in words.items() if n < len(rows) and len(w) > 3), key=words.get)
    async with sessions.begin() as s:
        rule_id = await rules.create(
            s, user_id, RuleSpec("ENTERTAINMENT_OTHER", text=word.upper()), now=utcnow()
        )
        other = await rules.create(
            s, user_id, RuleSpec("TRAVEL_OTHER", min_amount_minor=10**15), now=utcnow()
        )

    def expected(found: list) -> set[str]:
        """What the rule's Python matching says, row by row."""
        book = [rules.Rule(rule_id, "ENTERTAINMENT_OTHER", word, 100, utcnow())]
        return {
            r.external_id
            for r in found
            if rules.matching(
                book,
                RowFacts(r.account_id, r.amount_minor, r.currency, r.type, r.mcc, r.match_text),
            )
        }

    stored = await _rows(sessions, connection_id)
    matched = {r.external_id for r in stored if r.category_rule_id == rule_id}
    assert matched == expected(stored) != set()
    assert all(r.effective == "ENTERTAINMENT_OTHER" for r in stored if r.external_id in matched)
    assert not any(r.category_rule_id == other for r in stored)  # no amount is that large

    account = bank.truth.accounts_of(username)[0]
    bank.clock.now += timedelta(hours=2)
    bank.truth.add_transactions(account.id, 40)
    await sync_once(sessions, bank, connection_id, creds)

    later = await _rows(sessions, connection_id)
    new = [r for r in later if r.external_id not in {s.external_id for s in stored}]
    assert len(new) >= 40
    assert {r.external_id for r in later if r.category_rule_id == rule_id} == expected(later)

    async with sessions.begin() as s:
        assert await rules.delete_rule(s, user_id, rule_id, now=utcnow())
    assert not any(r.rule_category for r in await _rows(sessions, connection_id))
