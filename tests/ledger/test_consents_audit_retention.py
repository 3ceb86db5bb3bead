from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ledger import audit, consents, retention
from ledger.db import create_engine
from ledger.migrate import upgrade_connection
from ledger.models import Account, AuditEvent, Connection, Consent, Transaction, User, table
from ledger.queries import visible_account_ids

from .factories import connected_account

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


async def _consent(s: AsyncSession, user_id: int, *, days: int = 90) -> int:
    return await consents.create(
        s,
        user_id=user_id,
        client_id=None,
        scopes=frozenset({"accounts:read"}),
        expires_at=NOW + timedelta(days=days),
        now=NOW,
    )


async def _user_of(s: AsyncSession, conn: int) -> int:
    c = table(Connection)
    return int((await s.execute(select(c.c.user_id).where(c.c.id == conn))).scalar_one())


async def test_only_legal_transitions(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions.begin() as s:
        conn, account = await connected_account(s)
        consent_id = await _consent(s, await _user_of(s, conn))
        state = await consents.authorise(
            s,
            consent_id,
            account_ids=frozenset({account}),
            expires_at=NOW + timedelta(days=30),
            now=NOW,
        )
        assert state.status == consents.AUTHORISED and state.account_ids == {account}
        with pytest.raises(consents.IllegalTransition):
            await consents.transition(s, consent_id, consents.REJECTED, now=NOW)
        await consents.transition(s, consent_id, consents.REVOKED, now=NOW)
        with pytest.raises(consents.IllegalTransition, match="REVOKED cannot become AUTHORISED"):
            await consents.transition(s, consent_id, consents.AUTHORISED, now=NOW)


async def test_expiry_is_effective_before_it_is_stored(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as s:
        conn, _account = await connected_account(s)
        consent_id = await _consent(s, await _user_of(s, conn))
        await consents.authorise(
            s, consent_id, account_ids=frozenset(), expires_at=NOW + timedelta(days=1), now=NOW
        )
        state = await consents.load(s, consent_id)
        assert state is not None
        assert state.usable(NOW)
        later = NOW + timedelta(days=2)
        assert state.effective_status(later) == consents.EXPIRED and not state.usable(later)
        with pytest.raises(consents.IllegalTransition):
            await consents.transition(s, consent_id, consents.REVOKED, now=later)
        assert await consents.expire_due(s, now=later) == 1


async def test_audit_rows_cannot_be_changed_or_deleted(db_url: str) -> None:
    # The migrated schema, so the triggers under test are the ones production gets.
    engine = create_engine(db_url)
    async with engine.begin() as conn:
        await conn.run_sync(upgrade_connection)
    try:
        async with AsyncSession(engine) as s, s.begin():
            await audit.record(
                s,
                audit.AuditRecord(
                    operation="Accounts", outcome="ok", request_id="r1", object_ids=["A:1"]
                ),
                at=NOW,
            )
        for statement in (
            update(table(AuditEvent)).values(outcome="denied"),
            delete(table(AuditEvent)),
        ):
            with pytest.raises((DBAPIError, IntegrityError), match="append-only"):
                async with AsyncSession(engine) as s, s.begin():
                    await s.execute(statement)
        async with AsyncSession(engine) as s:
            rows = await audit.events(s)
        assert [(r.operation, r.outcome, r.object_ids) for r in rows] == [("Accounts", "ok", "A:1")]
    finally:
        await engine.dispose()


async def test_retention_purges_data_after_the_window_and_keeps_consents(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as s:
        conn, account = await connected_account(s)
        user = await _user_of(s, conn)
        await s.execute(
            table(Transaction)
            .insert()
            .values(
                connection_id=conn,
                external_id="t1",
                account_id=account,
                status="BOOKED",
                booking_date=date(2026, 1, 1),
                amount_minor=-100,
                currency="TJS",
                type="FEE",
                payload_hash="x",
                created_at=NOW,
                updated_at=NOW,
            )
        )
        consent_id = await _consent(s, user)
        await consents.authorise(
            s, consent_id, account_ids=frozenset(), expires_at=NOW + timedelta(days=30), now=NOW
        )
        await consents.transition(s, consent_id, consents.REVOKED, now=NOW)

    window = timedelta(days=30)
    async with sessions.begin() as s:
        assert await retention.run(s, now=NOW + timedelta(days=29), window=window) == {}
    async with sessions.begin() as s:
        purged = await retention.run(s, now=NOW + timedelta(days=31), window=window)
    assert purged.get(user, 0) >= 2
    async with sessions() as s:
        left = (await s.execute(select(func.count()).select_from(table(Transaction)))).scalar_one()
        kept = (await s.execute(select(func.count()).select_from(table(Consent)))).scalar_one()
        blob = (await s.execute(select(table(Connection).c.credentials_encrypted))).scalar_one()
    assert (left, kept, blob) == (0, 1, b"")
    async with sessions.begin() as s:
        assert await retention.run(s, now=NOW + timedelta(days=60), window=window) == {}


async def test_a_consent_is_revoked_once_even_racing(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as s:
        conn, _account = await connected_account(s)
        consent_id = await _consent(s, await _user_of(s, conn))
        await consents.authorise(
            s, consent_id, account_ids=frozenset(), expires_at=NOW + timedelta(days=1), now=NOW
        )
    async with sessions() as first, sessions() as second:
        # Both read it AUTHORISED; the conditional UPDATE lets only one revoke it.
        assert (await consents.load(first, consent_id)) == (await consents.load(second, consent_id))
        await second.commit()
        await consents.transition(first, consent_id, consents.REVOKED, now=NOW)
        await first.commit()
        with pytest.raises(consents.IllegalTransition, match="REVOKED cannot become REVOKED"):
            await consents.transition(second, consent_id, consents.REVOKED, now=NOW)


async def test_usable_of_user_asks_the_one_rule(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as s:
        conn, _account = await connected_account(s)
        user = await _user_of(s, conn)
        pending = await _consent(s, user)
        short, long = await _consent(s, user), await _consent(s, user)
        for consent_id, days in ((short, 1), (long, 30)):
            await consents.authorise(
                s,
                consent_id,
                account_ids=frozenset(),
                expires_at=NOW + timedelta(days=days),
                now=NOW,
            )
    async with sessions() as s:
        now_usable = await consents.usable_of_user(s, user, now=NOW)
        later = await consents.usable_of_user(s, user, now=NOW + timedelta(days=2))
        assert await consents.usable_of_user(s, user + 1, now=NOW) == []
    assert [c.id for c in now_usable] == [long, short] and pending not in {c.id for c in later}
    assert [c.id for c in later] == [long]


async def test_presented_carries_what_the_token_check_needs(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as s:
        conn, account = await connected_account(s)
        consent_id = await _consent(s, await _user_of(s, conn))
        await consents.authorise(
            s,
            consent_id,
            account_ids=frozenset({account}),
            expires_at=NOW + timedelta(days=1),
            now=NOW,
        )
    async with sessions() as s:
        found = await consents.presented(s, consent_id, grant_id=None)
        wrong_grant = await consents.presented(s, consent_id, grant_id=12345)
        assert await consents.presented(s, consent_id + 1, grant_id=None) is None
    assert found is not None and wrong_grant is not None
    assert found.consent.account_ids == {account} and found.consent.usable(NOW)
    assert (found.phone, found.locale, found.client_name, found.public_client_id) == (
        "+992900000001",
        "ru",
        None,
        None,
    )
    assert not found.grant_found and not wrong_grant.grant_found


async def _second_account(s: AsyncSession, conn: int) -> int:
    a = table(Account)
    first = (await s.execute(select(a).where(a.c.connection_id == conn))).one()
    values = {**first._asdict(), "external_id": "acc-2", "name": "Card account"}
    del values["id"]
    return int((await s.execute(a.insert().values(values).returning(a.c.id))).scalar_one())


async def test_presented_reads_the_accounts_the_consent_lets_a_request_read(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    # Given a customer with two accounts, and consents naming one, none (all), and only an
    # account that is not the customer's
    async with sessions.begin() as s:
        conn, account = await connected_account(s)
        other = await _second_account(s, conn)
        user = await _user_of(s, conn)
        named, every, foreign = [await _consent(s, user) for _ in range(3)]
        for consent_id, ids in ((named, {other}), (every, set()), (foreign, {other + 100})):
            await consents.authorise(
                s, consent_id, account_ids=frozenset(ids), expires_at=NOW + timedelta(days=1),
                now=NOW,
            )  # fmt: skip
        bare_user = await s.execute(
            table(User).insert().values(phone="+992900000002").returning(table(User).c.id)
        )
        nobody = await _consent(s, int(bare_user.scalar_one()))  # a customer without accounts
    # When the token check reads each
    async with sessions() as s:
        found = {c: await consents.presented(s, c, grant_id=None) for c in (named, every, foreign)}
        bare = await consents.presented(s, nobody, grant_id=None)
    # Then each carries its readable accounts, as visible_account_ids would read them
    readable = {c: p.readable_account_ids for c, p in found.items() if p is not None}
    assert readable == {named: (other,), every: tuple(sorted((account, other))), foreign: ()}
    assert bare is not None and bare.readable_account_ids == ()
    async with sessions() as s:
        assert await visible_account_ids(s, user, None) == sorted((account, other))
        assert await visible_account_ids(s, user, [other, other + 100]) == [other]
