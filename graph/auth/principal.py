"""The principal of a request: the customer, and the consent their token carries.

Checked on every request: the token's signature and expiry, then the consent itself
(usable by the ledger's one rule, `ConsentState.usable`; the token's customer's; in
production also an app's, not a development consent). Any failure is the same
UNAUTHENTICATED to the client; the precise reason goes to the log only. A request that
presented a token is told the token is invalid (RFC 6750 `invalid_token`); one that
presented none is only asked for one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from connectors.keys import Keyring
from graph.auth.oauth import tokens
from graph.core.errors import InvalidToken, Unauthenticated
from ledger import consents
from ledger.consents import PresentedConsent

log = logging.getLogger("graph.auth")

DEVELOPMENT_CLIENT = "development"
_MAX_TOKEN_LENGTH = 4096
_REFUSED = "The access token is invalid or expired."
_REQUIRED = "An access token is required: Authorization: Bearer <token>."


@dataclass(frozen=True, slots=True)
class ConsentGrant:
    id: int
    client: str  # the app's name; "development" for a development token
    scopes: frozenset[str]
    account_ids: tuple[int, ...]  # empty: all of the customer's accounts
    status: str
    created_at: datetime
    expires_at: datetime
    client_id: str | None = None  # the app's public client id; None for a development consent
    client_pk: int | None = None  # the app's row id, as consents record it


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: int
    phone: str
    locale: str
    consent: ConsentGrant
    # The accounts the request may read: the customer's, narrowed by the consent (sorted),
    # read in the token check's own statement (`ledger.consents.presented`).
    readable_accounts: tuple[int, ...]

    def may(self, scope: str) -> bool:
        return scope in self.consent.scopes

    @property
    def party(self) -> Party:
        return Party(self.user_id, self.consent.id, self.consent.client_id)


@dataclass(frozen=True, slots=True)
class Party:
    """Who a request was made as, as far as is known: for its audit row."""

    user_id: int | None = None
    consent_id: int | None = None
    client_id: str | None = None


class ConsentRefused(InvalidToken):
    """A correctly signed token whose consent may not be used. The token's signature vouches
    for the customer and consent it names, so the audit can record them; the client still
    sees only the generic refusal."""

    def __init__(self, party: Party) -> None:
        super().__init__(_REFUSED)
        self.party = party


def bearer_token(authorization: str | None) -> str:
    """The token of an `Authorization: Bearer <token>` header, the only place one is read."""
    if not authorization:
        raise Unauthenticated(_REQUIRED)
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthenticated(_REQUIRED)
    if len(token) > _MAX_TOKEN_LENGTH:
        raise InvalidToken(_REFUSED)
    return token


async def authenticate(
    session: AsyncSession,
    authorization: str | None,
    *,
    keys: Keyring,
    now: datetime,
    allow_development: bool = True,
) -> Principal:
    token = bearer_token(authorization)
    try:
        claims = tokens.verify_access_token(keys, token, now=now)
    except tokens.InvalidToken as exc:
        log.info("refused access token: %s", exc)
        raise InvalidToken(_REFUSED) from None
    found = await consents.presented(session, claims.consent_id, grant_id=claims.grant_id)
    problem = (
        _consent_problem(found, claims.user_id, now)
        or _grant_problem(found, claims.grant_id)
        or _development_problem(found, allow_development)
    )
    if found is None or problem is not None:
        log.info("refused consent %s: %s", claims.consent_id, problem)
        client_id = found.public_client_id if found is not None else None
        raise ConsentRefused(Party(claims.user_id, claims.consent_id, client_id))
    consent = found.consent
    return Principal(
        user_id=consent.user_id,
        phone=found.phone,
        locale=found.locale,
        consent=ConsentGrant(
            id=consent.id,
            client=found.client_name or DEVELOPMENT_CLIENT,
            # A token never grants more than its consent, whatever it claims.
            scopes=claims.scopes & consent.scopes,
            account_ids=tuple(sorted(consent.account_ids)),
            status=consent.status,
            created_at=consent.created_at,
            expires_at=consent.expires_at,
            client_id=found.public_client_id,
            client_pk=consent.client_id,
        ),
        readable_accounts=found.readable_account_ids,
    )


def _development_problem(found: PresentedConsent | None, allowed: bool) -> str | None:
    if found is None or allowed or found.consent.client_id is not None:
        return None
    return "development consent refused in production"


def _grant_problem(found: PresentedConsent | None, grant_id: int | None) -> str | None:
    if found is None or grant_id is None:
        return None
    if not found.grant_found:
        return "no such grant for this consent"
    if found.grant_revoked:
        return "grant revoked"
    return None


def _consent_problem(found: PresentedConsent | None, user_id: int, now: datetime) -> str | None:
    if found is None:
        return "no such consent"
    if found.consent.user_id != user_id:
        return "consent of another customer"
    if not found.consent.usable(now):
        return f"consent is {found.consent.effective_status(now)}"
    return None
