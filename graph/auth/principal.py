"""The principal of a request: the customer, and the consent their token carries.

Checked on every request: the token's signature and expiry, then the consent itself
(AUTHORISED, not expired, the token's customer; in production also an app's, not a
development consent). Any failure is the same UNAUTHENTICATED to the client; the precise
reason goes to the log only.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import RowMapping, select
from sqlalchemy.ext.asyncio import AsyncSession

from graph.auth.oauth.tokens import InvalidToken, verify_access_token
from graph.core.errors import Unauthenticated
from ledger.models import AuthorizationGrant, Client, Consent, User, table

log = logging.getLogger("graph.auth")

CONSENTS = table(Consent)
CUSTOMERS = table(User)
CLIENTS = table(Client)
GRANTS = table(AuthorizationGrant)

DEVELOPMENT_CLIENT = "development"
_MAX_TOKEN_LENGTH = 4096
_REFUSED = "The access token is invalid or expired."


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

    @property
    def consented_accounts(self) -> tuple[int, ...] | None:
        """The account ids the consent is limited to, or None for all accounts."""
        return self.account_ids or None


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: int
    phone: str
    locale: str
    consent: ConsentGrant

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


class ConsentRefused(Unauthenticated):
    """A correctly signed token whose consent may not be used. The token's signature vouches
    for the customer and consent it names, so the audit can record them; the client still
    sees only the generic refusal."""

    def __init__(self, party: Party) -> None:
        super().__init__(_REFUSED)
        self.party = party


def bearer_token(authorization: str | None) -> str:
    """The token of an `Authorization: Bearer <token>` header, the only place one is read."""
    if not authorization:
        raise Unauthenticated("An access token is required: Authorization: Bearer <token>.")
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > _MAX_TOKEN_LENGTH:
        raise Unauthenticated("An access token is required: Authorization: Bearer <token>.")
    return token


async def authenticate(
    session: AsyncSession,
    authorization: str | None,
    *,
    secret: str,
    now: datetime,
    allow_development: bool = True,
) -> Principal:
    token = bearer_token(authorization)
    try:
        claims = verify_access_token(secret, token)
    except InvalidToken as exc:
        log.info("refused access token: %s", exc)
        raise Unauthenticated(_REFUSED) from None
    stmt = (
        select(
            CONSENTS,
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
        # revokes every access token it issued.
        .outerjoin(
            GRANTS, (GRANTS.c.id == claims.grant_id) & (GRANTS.c.consent_id == CONSENTS.c.id)
        )
        .where(CONSENTS.c.id == claims.consent_id)
    )
    row = (await session.execute(stmt)).mappings().first()
    problem = (
        _consent_problem(row, claims.user_id, now)
        or _grant_problem(row, claims.grant_id)
        or _development_problem(row, allow_development)
    )
    if row is None or problem is not None:
        log.info("refused consent %s: %s", claims.consent_id, problem)
        client_id = row["public_client_id"] if row is not None else None
        raise ConsentRefused(Party(claims.user_id, claims.consent_id, client_id))
    return Principal(
        user_id=row["user_id"],
        phone=row["phone"],
        locale=row["locale"],
        consent=ConsentGrant(
            id=row["id"],
            client=row["client_name"] or DEVELOPMENT_CLIENT,
            # A token never grants more than its consent, whatever it claims.
            scopes=claims.scopes & frozenset(row["scopes"].split()),
            account_ids=tuple(sorted({int(a) for a in row["account_ids"].split()})),
            status=row["status"],
            created_at=row["created_at"],
            expires_at=row["expires_at"],
            client_id=row["public_client_id"],
        ),
    )


def _development_problem(row: RowMapping | None, allowed: bool) -> str | None:
    if row is None or allowed or row["client_id"] is not None:
        return None
    return "development consent refused in production"


def _grant_problem(row: RowMapping | None, grant_id: int | None) -> str | None:
    if row is None or grant_id is None:
        return None
    if row["grant_id"] is None:
        return "no such grant for this consent"
    if row["grant_revoked_at"] is not None:
        return "grant revoked"
    return None


def _consent_problem(row: RowMapping | None, user_id: int, now: datetime) -> str | None:
    if row is None:
        return "no such consent"
    if row["user_id"] != user_id:
        return "consent of another customer"
    if row["status"] != "AUTHORISED":
        return f"consent is {row['status']}"
    if row["expires_at"] <= now:
        return "consent expired"
    return None
