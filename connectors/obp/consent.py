"""OBP consent flow payloads: create (SMS/EMAIL/IMPLICIT), answer the SCA challenge, revoke."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from connectors.errors import UpstreamMalformed
from connectors.obp.dates import format_timestamp

SCA_METHODS = ("SMS", "EMAIL", "IMPLICIT")


@dataclass(frozen=True, slots=True)
class ConsentView:
    """One account view the consent grants, e.g. the owner view of one account."""

    bank_id: str
    account_id: str
    view_id: str = "owner"


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


def consent_body(
    sca_method: str,
    *,
    views: list[ConsentView] | None,
    everything: bool,
    time_to_live: int | None,
    phone_number: str | None,
    email: str | None,
    valid_from: datetime | None,
    consumer_id: str | None,
) -> dict[str, Any]:
    """The `PostConsentBodyCommonJson` body; refuses combinations OBP would reject."""
    if sca_method not in SCA_METHODS:
        raise ValueError(f"sca_method must be one of {', '.join(SCA_METHODS)}")
    if everything == bool(views):
        raise ValueError("give either views or everything=True, not both or neither")
    if sca_method == "SMS" and not phone_number:
        raise ValueError("the SMS method needs phone_number")
    if sca_method == "EMAIL" and not email:
        raise ValueError("the EMAIL method needs email")
    if time_to_live is not None and time_to_live <= 0:
        raise ValueError("time_to_live must be positive seconds")
    body: dict[str, Any] = {
        "everything": everything,
        "views": [
            {"bank_id": v.bank_id, "account_id": v.account_id, "view_id": v.view_id}
            for v in views or ()
        ],
        "entitlements": [],
    }
    optional = {
        "time_to_live": time_to_live,
        "phone_number": phone_number,
        "email": email,
        "consumer_id": consumer_id,
        "valid_from": format_timestamp(valid_from) if valid_from else None,
    }
    body.update({k: v for k, v in optional.items() if v is not None})
    return body
