"""OBP's error answers mapped onto the provider-neutral tree in `connectors/errors.py`.

The HTTP status decides the error type; for a 400 the `OBP-NNNNN` prefix of the envelope's
message refines it, because OBP answers 400 for many errors that have a more precise meaning.
"""

from __future__ import annotations

import re

from connectors.errors import (
    BankConsentExpired,
    BankConsentRevoked,
    UpstreamAuthError,
    UpstreamBadRequest,
    UpstreamConfigurationError,
    UpstreamError,
    UpstreamForbidden,
    UpstreamNotFound,
    UpstreamRateLimited,
    UpstreamUnavailable,
)

_OBP_CODE_RE = re.compile(r"^\s*(OBP-\d{5})\b")

# Codes from obp-protocol.md section 3 (ErrorMessages.scala).
_AUTH_CODES = frozenset(
    {
        "OBP-20001",  # not logged in
        "OBP-20003",  # DirectLogin token invalid or expired
        "OBP-20004",  # bad credentials
        "OBP-20013",  # account locked
        "OBP-20202",  # OAuth2 token cannot be verified
        "OBP-20204",
        "OBP-20205",
        "OBP-20206",  # OAuth2 token invalid or expired
        "OBP-35001",  # consent not found
        "OBP-35003",  # consent expired
        "OBP-35004",  # consent signature bad
        "OBP-35005",  # consent not ACCEPTED (revoked, rejected)
        "OBP-35032",  # consent header neither a JWT nor a known id
    }
)
# The bank refused our client certificate, checked from the PSD2-CERT header its TLS proxy
# forwards (OBP-API ErrorMessages.scala): the deployment's configuration, not the consent.
_CERTIFICATE_CODES = frozenset(
    {
        "OBP-20260",  # certificate-bound token, no client certificate presented
        "OBP-20261",  # client certificate does not match the token's binding
        "OBP-20262",  # instance requires certificate-bound tokens
        *(f"OBP-{n}" for n in range(20300, 20313)),  # X.509: missing, unparsable, expired...
        # The consent belongs to another consumer; OBP's default check
        # (consumer_validation_method_for_consent=CONSUMER_CERTIFICATE) compares our
        # certificate with the one registered for the consent's consumer.
        "OBP-35015",
    }
)
# The consent itself is over at the bank. OBP-API's Consent.checkConsent checks the JWT's
# `exp` before the consent's status, so an expired consent answers OBP-35003 whatever its
# status, and only an unexpired one that is no longer ACCEPTED (revoked by the customer at
# the bank, or by the bank) answers OBP-35005 "not in status ACCEPTED". OBP-35012 answers a
# revocation of a consent that is already revoked.
_CONSENT_ENDED: dict[str, type[UpstreamError]] = {
    "OBP-35003": BankConsentExpired,
    "OBP-35005": BankConsentRevoked,
    "OBP-35012": BankConsentRevoked,
}
_FORBIDDEN_CODES = frozenset({"OBP-20006", "OBP-20017", "OBP-30022"})
_NOT_FOUND_CODES = frozenset(
    {
        "OBP-30001",
        "OBP-30003",
        "OBP-30017",
        "OBP-30018",
        "OBP-30067",
        "OBP-30076",
        "OBP-35028",  # consent request not found (or another consumer's)
    }
)


def parse_obp_code(message: str | None) -> str | None:
    """`"OBP-10018: Too Many Requests..."` -> `"OBP-10018"`; match the prefix, not the text."""
    if not message:
        return None
    match = _OBP_CODE_RE.match(message)
    return match.group(1) if match else None


def error_class(status: int, code: str | None) -> type[UpstreamError]:
    """The error type for a non-2xx status, refined by the OBP code when the status is 400;
    a certificate code wins over 401 and 403 too (another login would not help), and so
    does a consent the bank says is over (expired, revoked)."""
    if 400 <= status < 500 and code in _CERTIFICATE_CODES:
        return UpstreamConfigurationError
    if status in (400, 401) and code in _CONSENT_ENDED:
        return _CONSENT_ENDED[code]
    if status == 401:
        return UpstreamAuthError
    if status == 403:
        return UpstreamForbidden
    if status == 404:
        return UpstreamNotFound
    if status == 429:
        return UpstreamRateLimited
    if status == 409 or status >= 500:
        return UpstreamUnavailable
    if status == 400 and code is not None:
        if code in _AUTH_CODES:
            return UpstreamAuthError
        if code in _FORBIDDEN_CODES:
            return UpstreamForbidden
        if code in _NOT_FOUND_CODES:
            return UpstreamNotFound
    return UpstreamBadRequest
