"""Consent lifecycle: statuses, legal transitions, and what a consent allows right now,
including whether a connection may be synced now (`sync_decision`, docs/consent.md,
"Consent limits")."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Row, Select, String, bindparam, cast, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ledger import connections
from ledger.models import Account, AuthorizationGrant, Client, Consent, SyncRun, User, table
from ledger.queries import readable_of
from ledger.sync_store import Trigger

ACCOUNTS = table(Account)
CONSENTS = table(Consent)
CUSTOMERS = table(User)
CLIENTS = table(Client)
GRANTS = table(AuthorizationGrant)
RUNS = table(SyncRun)

AWAITING = "AWAITING_AUTHORISATION"
AUTHORISED = "AUTHORISED"
REJECTED = "REJECTED"
REVOKED = "REVOKED"
EXPIRED = "EXPIRED"

# Everything else is illegal: a rejected, revoked or expired consent never comes back.
TRANSITIONS: dict[str, frozenset[str]] = {
    AWAITING: frozenset({AUTHORISED, REJECTED, EXPIRED}),
    AUTHORISED: frozenset({REVOKED, EXPIRED}),
    REJECTED: frozenset(),
    REVOKED: frozenset(),
    EXPIRED: frozenset(),
}


class IllegalTransition(Exception):
    def __init__(self, current: str, wanted: str) -> None:
        super().__init__(f"a consent in status {current} cannot become {wanted}")
        self.current = current
        self.wanted = wanted


@dataclass(frozen=True, slots=True)
class ConsentState:
    id: int
    user_id: int
    client_id: int | None
    scopes: frozenset[str]
    account_ids: frozenset[int]
    status: str
    created_at: datetime
    expires_at: datetime
    sca_at: datetime | None = None  # the customer's last strong authentication for it

    def effective_status(self, now: datetime) -> str:
        """An authorised or pending consent past its expiry is EXPIRED, stored or not."""
        if self.status in (AUTHORISED, AWAITING) and now >= self.expires_at:
            return EXPIRED
        return self.status

    def usable(self, now: datetime) -> bool:
        return self.effective_status(now) == AUTHORISED

    def covers(self, user_id: int, account_ids: frozenset[int]) -> bool:
        """Whether it reaches a connection of `user_id` holding `account_ids`: it names
        none (all the customer's accounts) or one of them."""
        return self.user_id == user_id and (
            not self.account_ids or bool(self.account_ids & account_ids)
        )

    def readable(self, owned: Iterable[int]) -> list[int]:
        """Of the customer's `owned` account ids, those it lets a request read: all of them
        when it names none, else the named ones (sorted)."""
        return readable_of(owned, self.account_ids or None)

    def sca_current(self, now: datetime) -> bool:
        """Whether the customer's SCA is recent enough for access (RTS Art. 10a)."""
        return self.sca_at is not None and now - self.sca_at <= SCA_LIFETIME


@dataclass(frozen=True, slots=True)
class PresentedConsent:
    """A consent as an access token presents it, with what the token check needs besides:
    the customer, the app (None for a development consent), the token's grant, and the
    accounts the consent lets the request read."""

    consent: ConsentState
    readable_account_ids: tuple[int, ...]  # sorted; `ConsentState.readable` of the owned
    phone: str
    locale: str
    client_name: str | None
    public_client_id: str | None
    grant_found: bool  # the token's grant exists and was issued for this consent
    grant_revoked: bool


def _state(row: Consent | Row[Any]) -> ConsentState:
    return ConsentState(
        id=int(row.id or 0),
        user_id=row.user_id,
        client_id=row.client_id,
        scopes=frozenset(row.scopes.split()),
        account_ids=frozenset(int(a) for a in row.account_ids.split()),
        status=row.status,
        created_at=row.created_at,
        expires_at=row.expires_at,
        sca_at=row.sca_at,
    )


async def load(session: AsyncSession, consent_id: int) -> ConsentState | None:
    row = (
        await session.execute(select(Consent).where(CONSENTS.c.id == consent_id))
    ).scalar_one_or_none()
    return _state(row) if row else None


async def create(
    session: AsyncSession,
    *,
    user_id: int,
    client_id: int | None,
    scopes: frozenset[str],
    expires_at: datetime,
    now: datetime,
) -> int:
    result = await session.execute(
        CONSENTS.insert()
        .values(
            user_id=user_id,
            client_id=client_id,
            scopes=" ".join(sorted(scopes)),
            account_ids="",
            status=AWAITING,
            created_at=now,
            updated_at=now,
            expires_at=expires_at,
        )
        .returning(CONSENTS.c.id)
    )
    return int(result.scalar_one())


async def transition(
    session: AsyncSession, consent_id: int, wanted: str, *, now: datetime, **values: object
) -> ConsentState:
    """Move a consent to `wanted` if that is legal from its current (effective) status.

    The UPDATE is conditional on the status read, so two racing transitions cannot both
    succeed.
    """
    state = await load(session, consent_id)
    if state is None:
        raise LookupError(consent_id)
    current = state.effective_status(now)
    if wanted not in TRANSITIONS[current]:
        raise IllegalTransition(current, wanted)
    extra: dict[str, object] = dict(values)
    if wanted == REVOKED:
        extra["revoked_at"] = now
    result = await session.execute(
        update(CONSENTS)
        .where(CONSENTS.c.id == consent_id, CONSENTS.c.status == state.status)
        .values(status=wanted, updated_at=now, **extra)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise IllegalTransition(current, wanted)
    updated = await load(session, consent_id)
    assert updated is not None
    if wanted == REVOKED:
        await _end_bank_access(session, updated, now=now)
    return updated


async def _end_bank_access(session: AsyncSession, revoked: ConsentState, *, now: datetime) -> None:
    """The consequence of the customer's revocation, in its transaction: every connection
    it covered that no other usable consent of ours still covers is never synced again and
    has its bank consent revoked at the bank (marked REVOKING here; graph/ and `alif-graph
    sync` call the bank and retry until it answers, docs/consent.md)."""
    others = [c for c in await of_user(session, revoked.user_id) if c.usable(now)]
    ending = []
    for connection_id in await connections.ids_of_customer(session, revoked.user_id):
        user_id, account_ids = await connections.coverage(session, connection_id)
        if revoked.covers(user_id, account_ids) and not any(
            c.covers(user_id, account_ids) for c in others
        ):
            ending.append(connection_id)
    await connections.mark_revoking(session, ending, now=now)


async def authorise(
    session: AsyncSession,
    consent_id: int,
    *,
    account_ids: frozenset[int],
    expires_at: datetime,
    now: datetime,
) -> ConsentState:
    return await transition(
        session,
        consent_id,
        AUTHORISED,
        now=now,
        account_ids=" ".join(str(a) for a in sorted(account_ids)),
        expires_at=expires_at,
        sca_at=now,
    )


async def of_user(session: AsyncSession, user_id: int) -> list[ConsentState]:
    rows = await session.execute(
        select(Consent).where(CONSENTS.c.user_id == user_id).order_by(CONSENTS.c.id.desc())
    )
    return [_state(r) for r in rows.scalars()]


async def usable_of_user(
    session: AsyncSession, user_id: int, *, now: datetime
) -> list[ConsentState]:
    """The customer's consents usable now, newest first (what a sync may act on)."""
    return [c for c in await of_user(session, user_id) if c.usable(now)]


def _presented_statement() -> Select[Any]:
    # The customer's account ids, in the same statement (for `ConsentState.readable`).
    owned = (
        select(func.aggregate_strings(cast(ACCOUNTS.c.id, String), " "))
        .where(ACCOUNTS.c.user_id == CONSENTS.c.user_id)
        .scalar_subquery()
    )
    return (
        select(
            CONSENTS,
            owned.label("owned_account_ids"),
            CUSTOMERS.c.phone,
            CUSTOMERS.c.locale,
            CLIENTS.c.name.label("client_name"),
            CLIENTS.c.client_id.label("public_client_id"),
            GRANTS.c.id.label("grant_id"),
            GRANTS.c.revoked_at.label("grant_revoked_at"),
        )
        .join(CUSTOMERS, CUSTOMERS.c.id == CONSENTS.c.user_id)
        .outerjoin(CLIENTS, CLIENTS.c.id == CONSENTS.c.client_id)
        # An OAuth token's grant: revoking it (code replay, refresh reuse, /auth/revoke)
        # revokes every access token it issued. A development token names none: NULL
        # equals no grant.
        .outerjoin(
            GRANTS,
            (GRANTS.c.id == bindparam("grant_id")) & (GRANTS.c.consent_id == CONSENTS.c.id),
        )
        .where(CONSENTS.c.id == bindparam("consent_id"))
    )


# Built once: making the statement cost more than running it (it runs on every request).
_PRESENTED = _presented_statement()


async def presented(
    session: AsyncSession, consent_id: int, *, grant_id: int | None
) -> PresentedConsent | None:
    """The consent an access token names, in one query (it runs on every request), with
    the accounts it lets the request read: the customer's account ids are aggregated by a
    correlated subquery, so they cost no statement of their own."""
    params = {"consent_id": consent_id, "grant_id": grant_id}
    row = (await session.execute(_PRESENTED, params)).first()
    if row is None:
        return None
    consent = _state(row)
    return PresentedConsent(
        consent=consent,
        readable_account_ids=tuple(consent.readable(_ids(row.owned_account_ids))),
        phone=row.phone,
        locale=row.locale,
        client_name=row.client_name,
        public_client_id=row.public_client_id,
        grant_found=row.grant_id is not None,
        grant_revoked=row.grant_revoked_at is not None,
    )


def _ids(aggregated: str | None) -> list[int]:
    """The ids of `aggregate_strings` (NULL when there are none)."""
    return [int(i) for i in aggregated.split()] if aggregated else []


async def expire_due(session: AsyncSession, *, now: datetime) -> int:
    """Store EXPIRED on consents past their expiry (reads already treat them so)."""
    result = await session.execute(
        update(CONSENTS)
        .where(CONSENTS.c.status.in_([AUTHORISED, AWAITING]), CONSENTS.c.expires_at <= now)
        .values(status=EXPIRED, updated_at=now)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# --- consent limits on syncing -------------------------------------------------------------

SCA_LIFETIME = timedelta(days=180)  # RTS Art. 10a: fresh SCA at least every 180 days
UNATTENDED_PER_DAY = 4  # RTS Art. 36(5): unattended accesses per consent per 24 hours
DAY = timedelta(hours=24)
# A present customer's refreshes are not limited by the RTS, but each is a full read of the
# bank: at most one per connection per minute.
REFRESH_INTERVAL = timedelta(minutes=1)


class SyncRefusal(StrEnum):
    CONNECTION_REVOKED = "CONNECTION_REVOKED"
    BANK_CONSENT_REVOKED = "BANK_CONSENT_REVOKED"
    BANK_CONSENT_EXPIRED = "BANK_CONSENT_EXPIRED"
    NO_USABLE_CONSENT = "NO_USABLE_CONSENT"
    SCA_EXPIRED = "SCA_EXPIRED"
    DAILY_LIMIT = "DAILY_LIMIT"
    REFRESHED_RECENTLY = "REFRESHED_RECENTLY"


REASONS = {
    SyncRefusal.CONNECTION_REVOKED: (
        "the customer revoked the consent that covered it; not synced unless linked again"
    ),
    SyncRefusal.BANK_CONSENT_REVOKED: (
        "its consent was revoked at the bank; the customer must link the bank again"
    ),
    SyncRefusal.BANK_CONSENT_EXPIRED: (
        "its consent at the bank has expired; the customer must link the bank again"
    ),
    SyncRefusal.NO_USABLE_CONSENT: "no authorised, unexpired, unrevoked consent covers it",
    SyncRefusal.SCA_EXPIRED: (
        "the customer's last strong authentication is more than 180 days old; "
        "they must authenticate again"
    ),
    SyncRefusal.DAILY_LIMIT: "its consent's four unattended syncs in 24 hours are used",
    SyncRefusal.REFRESHED_RECENTLY: "the customer refreshed it less than a minute ago",
}


@dataclass(frozen=True, slots=True)
class SyncDecision:
    """Whether a connection may be synced now, and if not, why and until when.

    `next_at` is the earliest moment a sync of the same kind may run: `now` when allowed,
    None when waiting cannot help (the customer must consent or authenticate again).
    `consent_id` is the consent an allowed sync runs under."""

    allowed: bool
    refusal: SyncRefusal | None
    next_at: datetime | None
    consent_id: int | None = None

    @property
    def reason(self) -> str:
        """One line saying why not ("" when allowed); it names no person."""
        if self.refusal is None:
            return ""
        text = REASONS[self.refusal]
        if self.next_at is not None:
            text += f"; next possible at {self.next_at.isoformat(timespec='seconds')}"
        return text


def _refused(refusal: SyncRefusal, next_at: datetime | None = None) -> SyncDecision:
    return SyncDecision(False, refusal, next_at)


async def _run_starts(
    session: AsyncSession, connection_id: int, trigger: Trigger, *, since: datetime
) -> list[datetime]:
    """When the connection's recorded runs of this trigger started after `since`, oldest
    first (every recorded run read the bank, whatever its outcome)."""
    found = await session.execute(
        select(RUNS.c.started_at)
        .where(
            RUNS.c.connection_id == connection_id,
            RUNS.c.trigger == trigger.value,
            RUNS.c.started_at > since,
        )
        .order_by(RUNS.c.started_at)
    )
    return list(found.scalars())


async def sync_decision(
    session: AsyncSession,
    connection_id: int,
    *,
    trigger: Trigger,
    now: datetime,
    through: int | None = None,
) -> SyncDecision:
    """The one rule for whether a connection may be synced now.

    The connection's bank consent must not be over: not revoked by us (the customer's
    revocation) or at the bank, nor past the expiry the bank gave it (no call is wasted on
    it). It needs a usable consent that covers the connection, and the customer's SCA for it
    within 180 days. An UNATTENDED sync also needs one such consent with fewer than four
    unattended runs of the connection in the last 24 hours (runs before the consent was
    given were not made under it). A CUSTOMER refresh goes `through` the consent of the
    present customer's token, is not counted against those four, and has its own pace.
    The read that completes linking a bank is the customer's own flow and asks nothing.
    Raises connections.UnknownConnection."""
    if trigger is Trigger.LINK:
        raise ValueError("the linking read is part of the customer's consent flow")
    # The bank consent first: when it is over, a call would only be refused.
    bank = await connections.bank_side(session, connection_id)
    if bank.status in connections.ENDED_BY_US:
        return _refused(SyncRefusal.CONNECTION_REVOKED)
    if bank.status == connections.BANK_CONSENT_REVOKED:
        return _refused(SyncRefusal.BANK_CONSENT_REVOKED)
    ended = bank.bank_consent_expires_at is not None and now >= bank.bank_consent_expires_at
    if ended or bank.status == connections.BANK_CONSENT_EXPIRED:
        return _refused(SyncRefusal.BANK_CONSENT_EXPIRED)
    user_id, account_ids = await connections.coverage(session, connection_id)
    covering = [
        c
        for c in await of_user(session, user_id)
        if c.usable(now) and c.covers(user_id, account_ids) and through in (None, c.id)
    ]
    if not covering:
        return _refused(SyncRefusal.NO_USABLE_CONSENT)
    current = [c for c in covering if c.sca_current(now)]
    if not current:
        return _refused(SyncRefusal.SCA_EXPIRED)
    if trigger is Trigger.CUSTOMER:
        recent = await _run_starts(session, connection_id, trigger, since=now - REFRESH_INTERVAL)
        if recent:
            return _refused(SyncRefusal.REFRESHED_RECENTLY, recent[-1] + REFRESH_INTERVAL)
        return SyncDecision(True, None, now, current[0].id)
    starts = await _run_starts(session, connection_id, trigger, since=now - DAY)
    frees: list[datetime] = []
    for consent in current:
        counted = [t for t in starts if t >= consent.created_at]
        if len(counted) < UNATTENDED_PER_DAY:
            return SyncDecision(True, None, now, consent.id)
        # The oldest of the last four leaves the window 24 hours after it started.
        frees.append(counted[-UNATTENDED_PER_DAY] + DAY)
    return _refused(SyncRefusal.DAILY_LIMIT, min(frees))


async def admit_sync(
    session: AsyncSession,
    connection_id: int,
    *,
    trigger: Trigger,
    now: datetime,
    through: int | None = None,
) -> SyncDecision:
    """`sync_decision`, with its consequence recorded: a connection refused for stale SCA
    shows that it needs the customer's re-authentication, one whose bank consent's stored
    expiry passed shows that. The caller commits."""
    decision = await sync_decision(
        session, connection_id, trigger=trigger, now=now, through=through
    )
    if decision.refusal is SyncRefusal.SCA_EXPIRED:
        await connections.require_reauthentication(session, connection_id, now=now)
    if decision.refusal is SyncRefusal.BANK_CONSENT_EXPIRED:
        await connections.set_status(
            session, connection_id, connections.BANK_CONSENT_EXPIRED, now=now
        )
    return decision
