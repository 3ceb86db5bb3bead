"""Revoking at the bank the bank consents of connections the customer ended with us.

The customer's revocation marks the connections it leaves uncovered REVOKING in its own
transaction (`ledger.consents.transition`), so it succeeds for the customer even when the
bank is down. This module then asks the bank, right after the revocation and again at every
`alif-graph sync` pass (or `alif-graph revoke-pending`) until the bank answers: a
connection whose bank answered is REVOKED; one whose bank did not stays REVOKING.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from connectors.credentials import CredentialsError, decrypt
from connectors.errors import ReauthRequired, UpstreamError
from connectors.factory import revoke_bank_consent
from connectors.keys import Keyring
from connectors.tls import BankTls
from ledger import connections
from ledger.types import utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Outcome:
    connection_id: int
    done: bool  # the bank no longer honours the consent; False: retried later
    note: str  # one line, no secret

    def line(self) -> str:
        state = "revoked at the bank" if self.done else "bank revocation pending"
        return f"connection {self.connection_id}: {state} ({self.note})"


async def revoke_pending(
    sessions: async_sessionmaker[AsyncSession],
    *,
    keys: Keyring,
    transport: httpx.AsyncBaseTransport | None = None,
    tls: BankTls | None = None,
    customer: int | None = None,
) -> list[Outcome]:
    """Ask the bank to revoke every pending connection's consent (`customer`: that
    customer's alone)."""
    async with sessions() as s:
        pending = await connections.pending_revocations(s)
        if customer is not None:
            theirs = set(await connections.ids_of_customer(s, customer))
            pending = [i for i in pending if i in theirs]
    outcomes = []
    for connection_id in pending:
        outcome = await _revoke(sessions, connection_id, keys, transport, tls)
        if outcome.done:
            async with sessions.begin() as s:
                await connections.revoked_at_bank(s, connection_id, now=utcnow())
        else:
            log.warning("%s", outcome.line())
        outcomes.append(outcome)
    return outcomes


async def _revoke(
    sessions: async_sessionmaker[AsyncSession],
    connection_id: int,
    keys: Keyring,
    transport: httpx.AsyncBaseTransport | None,
    tls: BankTls | None,
) -> Outcome:
    async with sessions() as s:
        provider, base_url, _, blob = await connections.connection_target(s, connection_id)
    try:
        creds = decrypt(blob, keys)
    except CredentialsError as exc:
        return Outcome(connection_id, False, str(exc))
    if not (creds.consent_id or creds.consent_jwt):
        # A DirectLogin connection (development) holds no bank consent to revoke.
        return Outcome(connection_id, True, "no bank consent: a DirectLogin login")
    try:
        # One try: the next pass retries, and a customer's request must not wait on backoff.
        await revoke_bank_consent(
            provider, base_url, creds, transport=transport, tls=tls, max_retries=0
        )
    except ReauthRequired as exc:
        # The bank refuses the consent itself (already revoked, expired, unknown): it grants
        # nothing any more, which is what the revocation wanted.
        return Outcome(
            connection_id, True, f"the bank already refuses it: {exc.code or exc.status}"
        )
    except UpstreamError as exc:
        return Outcome(
            connection_id,
            False,
            f"the bank did not answer: {exc.code or exc.status or type(exc).__name__}",
        )
    return Outcome(connection_id, True, "the bank confirmed")
