"""Who is asking: the customer and the consent their token carries."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import Enum
from typing import Protocol

import strawberry

from graph.auth.principal import Principal
from graph.context import Info
from graph.core.locales import Locale
from graph.relay.ids import to_global_id
from graph.relay.node import Node, node
from ledger import consents
from ledger.types import utcnow


@strawberry.enum
class ConsentStatus(Enum):
    # The values are the ledger's: it alone owns a consent's lifecycle.
    AWAITING_AUTHORISATION = consents.AWAITING
    AUTHORISED = consents.AUTHORISED
    REJECTED = consents.REJECTED
    REVOKED = consents.REVOKED
    EXPIRED = consents.EXPIRED


def mask_phone(phone: str) -> str:
    """+992901234501 -> +99290•••••01: the operator prefix and the last two digits."""
    if len(phone) < 9:
        return "•" * len(phone)
    return phone[:6] + "•" * (len(phone) - 8) + phone[-2:]


@node(scope=None)  # the token's own customer
@strawberry.type(description="The bank customer who granted the consent.")
class Customer(Node):
    phone_masked: str
    locale: Locale

    @classmethod
    async def resolve_node(cls, info: Info, pk: int) -> Customer | None:
        principal = info.context.principal
        return cls.of(principal) if pk == principal.user_id else None

    @classmethod
    def of(cls, principal: Principal) -> Customer:
        return cls(
            id=strawberry.ID(to_global_id("Customer", principal.user_id)),
            phone_masked=mask_phone(principal.phone),
            locale=Locale.of(principal.locale),
        )


class ConsentRecord(Protocol):
    """A consent as the token carries it (ConsentGrant) or as stored (ConsentState)."""

    @property
    def id(self) -> int: ...
    @property
    def scopes(self) -> frozenset[str]: ...
    @property
    def account_ids(self) -> Iterable[int]: ...
    @property
    def status(self) -> str: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def expires_at(self) -> datetime: ...


@node(scope=None)  # the token's own consent
@strawberry.type(description="What the customer allowed this app to read, and until when.")
class Consent(Node):
    client: str = strawberry.field(description='The app; "development" for development tokens.')
    scopes: list[str]
    account_ids: list[strawberry.ID] = strawberry.field(
        description="The shared accounts; empty means all of the customer's accounts."
    )
    status: ConsentStatus
    created_at: datetime
    expires_at: datetime
    days_left: int = strawberry.field(description="Whole days until it expires.")

    @classmethod
    async def resolve_node(cls, info: Info, pk: int) -> Consent | None:
        principal = info.context.principal
        return cls.of(principal, utcnow()) if pk == principal.consent.id else None

    @classmethod
    def of(cls, principal: Principal, now: datetime) -> Consent:
        return cls.of_record(principal.consent, principal.consent.client, now)

    @classmethod
    def of_record(cls, consent: ConsentRecord, client: str, now: datetime) -> Consent:
        """`client` is the app's name."""
        return cls(
            id=strawberry.ID(to_global_id("Consent", consent.id)),
            client=client,
            scopes=sorted(consent.scopes),
            account_ids=[
                strawberry.ID(to_global_id("Account", a)) for a in sorted(consent.account_ids)
            ],
            status=ConsentStatus(consent.status),
            created_at=consent.created_at,
            expires_at=consent.expires_at,
            days_left=max(0, (consent.expires_at - now).days),
        )


@strawberry.type
class Viewer:
    customer: Customer
    consent: Consent
