"""Who is calling: a consent (Consent-JWT / Consent-Id + Consumer-Key) or a DirectLogin token.

OBP tries the consent headers first, then DirectLogin; no other scheme is served here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from connectors.sandbox import errors
from connectors.sandbox.bank import OWNER_VIEW, Consent, SandboxBank
from connectors.sandbox.config import FaultConfig
from connectors.sandbox.errors import ObpError
from connectors.sandbox.ids import looks_like_uuid
from connectors.sandbox.models import Account, Customer


@dataclass(frozen=True, slots=True)
class Principal:
    user: Customer
    consumer_key: str
    consent: Consent | None = None

    def can_see(self, account: Account) -> bool:
        if account.owner != self.user.username:
            return False
        return self.consent is None or self.consent.covers(account)


def granted_view(account: Account, faults: FaultConfig) -> str:
    """The one view the customer has on the account: `owner`, unless the account is
    shared with them through another view (the `shared_views` fault)."""
    return faults.shared_views.get(account.id, OWNER_VIEW)


def parse_params(value: str) -> dict[str, str]:
    """`username="U", password="P"` -> {"username": "U", "password": "P"}."""
    params: dict[str, str] = {}
    for part in value.split(","):
        key, sep, raw = part.partition("=")
        if sep:
            params[key.strip().lower()] = raw.strip().strip('"')
    return params


def direct_login_params(headers: Mapping[str, str]) -> dict[str, str] | None:
    """From `DirectLogin: ...`, or the deprecated `Authorization: DirectLogin ...`."""
    value = headers.get("directlogin")
    if value is None:
        scheme, _, rest = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "directlogin":
            return None
        value = rest
    return parse_params(value)


def consent_from_headers(headers: Mapping[str, str], bank: SandboxBank) -> Consent | None:
    """The consent named by Consent-JWT (read first) or Consent-Id; None when neither."""
    token = headers.get("consent-jwt")
    if token:
        return bank.consent_from_jwt(token)
    consent_id = headers.get("consent-id")
    if not consent_id:
        return None
    if not looks_like_uuid(consent_id):
        # OBP accepts a JWT in Consent-Id too; anything else is malformed.
        return bank.consent_from_jwt(consent_id)
    consent = bank.consent(consent_id)
    if consent is None:
        raise ObpError(errors.CONSENT_NOT_FOUND)
    return consent


def check_consumer(headers: Mapping[str, str], consent: Consent) -> None:
    """Consumer validation method CONSUMER_KEY_VALUE."""
    key = headers.get("consumer-key")
    if not key:
        raise ObpError(errors.CONSUMER_KEY_MISSING)
    if key != consent.consumer_key:
        raise ObpError(errors.CONSUMER_MISMATCH)


def authenticate(
    headers: Mapping[str, str], bank: SandboxBank, realm: str, max_token_uses: int | None
) -> Principal:
    consent = consent_from_headers(headers, bank)
    if consent is not None:
        bank.check_consent_usable(consent)
        check_consumer(headers, consent)
        return Principal(bank.customer(consent.username), consent.consumer_key, consent)
    params = direct_login_params(headers)
    if params is None:
        challenge = f'OAuth realm="{realm}", Bearer realm="{realm}", DirectLogin realm="{realm}"'
        raise ObpError(errors.USER_NOT_LOGGED_IN, headers={"WWW-Authenticate": challenge})
    token = params.get("token")
    if not token:
        raise ObpError(errors.DIRECT_LOGIN_MISSING, "token")
    user, consumer_key = bank.token_user(token, max_token_uses)
    return Principal(user, consumer_key)
