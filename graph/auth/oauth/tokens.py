"""Signed access tokens (JWT, HS256 only).

The algorithm is pinned on both sides: a token claiming `none` or any other algorithm is
refused, whatever its signature. A token only names a consent (and, when issued by the
OAuth token endpoint, its grant `gid`); what it may read is looked up in the consent on every
request, so a revocation of either takes effect immediately.

Expiry and issue time are judged against the caller's clock, not the library's: an `iat`
up to `MAX_CLOCK_SKEW` ahead is the issuer's clock running fast and is accepted (FAPI 2.0
Security Profile 5.3.2.1); further ahead, the token is refused.

Each token names its signing key in the `kid` header (connectors/keys.py): the current
secret's key signs, and a token signed with an old secret's key still verifies until that
secret is removed from the settings. A token without a `kid`, or naming a key that is not
configured, is refused.

Every request presents its token again, and decoding it (base64, JSON, the HMAC) cost ~75 µs
a request. What the decoding finds depends on the token and the keyring alone (PyJWT's one
check against the clock, `nbf`, only ever turns a refusal into an acceptance), so the claims
of the tokens that decoded are kept (`_decoded`, bounded); the checks against the caller's
clock and of the claims' types run on every call, in the same order as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

import jwt

from connectors.keys import Keyring

ALGORITHM = "HS256"
ISSUER = "alif-graph"
AUDIENCE = "alif-graph-api"
_REQUIRED = ["exp", "iat", "sub", "cid", "iss", "aud"]
MAX_CLOCK_SKEW = timedelta(seconds=10)
# Tokens whose decoded claims are kept: more than the customers one worker serves at once.
_DECODED_TOKENS = 4096


class InvalidToken(Exception):
    """Not a valid access token; the reason is for logs, not for clients."""


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: int
    consent_id: int
    scopes: frozenset[str]
    grant_id: int | None = None  # None: a development token, not issued through OAuth


def issue_access_token(
    keys: Keyring,
    *,
    user_id: int,
    consent_id: int,
    scopes: frozenset[str],
    now: datetime,
    ttl: timedelta,
    grant_id: int | None = None,
) -> str:
    claims: dict[str, object] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": str(user_id),
        "cid": consent_id,
        "scope": " ".join(sorted(scopes)),
        "iat": int(now.timestamp()),
        "exp": int((now + ttl).timestamp()),
    }
    if grant_id is not None:
        claims["gid"] = grant_id
    kid, key = keys.token_signing_key
    return jwt.encode(claims, key, algorithm=ALGORITHM, headers={"kid": kid})


def verify_access_token(keys: Keyring, token: str, *, now: datetime) -> AccessClaims:
    try:
        claims = _decoded(keys, token)
        _check_times(claims, now)
        user_id = int(claims["sub"])
        consent_id = claims["cid"]
        scope = claims.get("scope", "")
        grant_id = claims.get("gid")
        if type(consent_id) is not int or not isinstance(scope, str):
            raise InvalidToken("malformed claims")
        if grant_id is not None and type(grant_id) is not int:
            raise InvalidToken("malformed claims")
    except (jwt.InvalidTokenError, ValueError) as exc:
        raise InvalidToken(str(exc)) from None
    return AccessClaims(
        user_id=user_id,
        consent_id=consent_id,
        scopes=frozenset(scope.split()),
        grant_id=grant_id,
    )


@lru_cache(maxsize=_DECODED_TOKENS)
def _decoded(keys: Keyring, token: str) -> dict[str, Any]:
    """The token's claims, signature and issuer checked; raises (and keeps nothing) when
    they fail. A keyring never changes (connectors/keys.py), so it is its own cache key;
    the cache holds it, so its identity is not reused while an entry names it. Callers only
    read the claims."""
    kid = jwt.get_unverified_header(token).get("kid")
    key = keys.token_verification_key(kid) if isinstance(kid, str) else None
    if key is None:
        raise InvalidToken("no configured key has this kid")
    claims: dict[str, Any] = jwt.decode(
        token,
        key,
        algorithms=[ALGORITHM],
        audience=AUDIENCE,
        issuer=ISSUER,
        options={"require": _REQUIRED, "verify_exp": False, "verify_iat": False},
    )
    return claims


def _check_times(claims: dict[str, Any], now: datetime) -> None:
    exp, iat = claims["exp"], claims["iat"]
    if type(exp) is not int or type(iat) is not int:
        raise InvalidToken("exp and iat must be whole seconds")
    if exp <= now.timestamp():
        raise InvalidToken("expired")
    if iat > (now + MAX_CLOCK_SKEW).timestamp():
        raise InvalidToken("issued in the future")
