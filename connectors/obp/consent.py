"""OBP consent payloads: the consumer's consent request (PostConsentRequestJsonV500), the
consent it yields (ConsentJsonV500), revocation answers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from connectors.errors import UpstreamMalformed

ROUTING_SCHEMES = ("AccountNumber", "AccountId")


@dataclass(frozen=True, slots=True)
class AccountAccess:
    """One account a consent request names, by its routing, through the owner view (the
    only view OBP lets a consent request grant)."""

    scheme: str
    address: str


@dataclass(frozen=True, slots=True)
class ConsentRequestInfo:
    """`{"consent_request_id","payload","consumer_id"}`: what the bank keeps until the
    customer answers."""

    consent_request_id: str
    consumer_id: str | None

    @classmethod
    def from_json(cls, body: Any) -> ConsentRequestInfo:
        if not isinstance(body, dict) or not isinstance(body.get("consent_request_id"), str):
            raise UpstreamMalformed("consent request answer lacks consent_request_id")
        consumer_id = body.get("consumer_id")
        return cls(
            consent_request_id=body["consent_request_id"],
            consumer_id=consumer_id if isinstance(consumer_id, str) else None,
        )


@dataclass(frozen=True, slots=True)
class ConsentInfo:
    """`{"consent_id","jwt","status"}`. The JWT is a credential: kept out of repr."""

    consent_id: str
    status: str
    jwt: str | None = field(default=None, repr=False)

    @classmethod
    def from_json(cls, body: Any) -> ConsentInfo:
        if not isinstance(body, dict):
            raise UpstreamMalformed("consent answer is not an object")
        consent_id, status, jwt = body.get("consent_id"), body.get("status"), body.get("jwt")
        if not isinstance(consent_id, str) or not isinstance(status, str):
            raise UpstreamMalformed("consent answer lacks consent_id or status")
        if jwt is not None and not isinstance(jwt, str):
            raise UpstreamMalformed("consent answer has a non-string jwt")
        return cls(consent_id=consent_id, status=status, jwt=jwt)


def consent_request_body(
    *,
    bank_id: str,
    everything: bool,
    accounts: Sequence[AccountAccess],
    time_to_live: int,
    phone_number: str | None,
) -> dict[str, Any]:
    """The PostConsentRequestJsonV500 body; refuses what OBP would reject before sending."""
    if everything == bool(accounts):
        raise ValueError("give either accounts or everything=True, not both or neither")
    if any(a.scheme not in ROUTING_SCHEMES for a in accounts):
        raise ValueError(f"an account routing scheme is one of {', '.join(ROUTING_SCHEMES)}")
    if time_to_live <= 0:
        raise ValueError("time_to_live must be positive seconds")
    body: dict[str, Any] = {
        "everything": everything,
        "bank_id": bank_id,
        "account_access": [
            {"account_routing": {"scheme": a.scheme, "address": a.address}, "view_id": "owner"}
            for a in accounts
        ],
        "entitlements": [],
        "time_to_live": time_to_live,
    }
    if phone_number is not None:
        # Addressed to one customer: the bank refuses it to anyone else (OBP-35023).
        body["phone_number"] = phone_number
    return body
