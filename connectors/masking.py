"""Keeping card numbers, credentials and account numbers out of records, errors and logs.

Masking happens at the boundary: the full PAN is read from upstream JSON, masked here,
and only the masked form travels on. `redact` is the last line of defence for free text
(server error messages, excerpts of bad records) that might still contain a secret.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

MASK = "***"
BULLETS = "••••"

# 12 to 19 digits, optionally grouped by spaces or dashes, not part of a longer digit run
# (20-digit Tajik account numbers are left alone; they are not card numbers).
_PAN_RE = re.compile(r"(?<!\d)\d(?:[ -]?\d){11,18}(?!\d)")
_PAN_SEPARATORS = re.compile(r"[ -]")
_MASKED_PAN_RE = re.compile(r"^(\d{0,6})[*•xX]+(\d{4})$")
_JWT_RE = re.compile(r"eyJ[\w-]*\.[\w-]*\.[\w-]*")
_CREDENTIAL_RE = re.compile(r'\b(token|password|consumer_key)(\s*=\s*)"[^"]*"', re.IGNORECASE)
_BEARER_RE = re.compile(r"\b(Bearer)\s+[\w.~+/=-]+", re.IGNORECASE)

# Below this length a "secret" would redact ordinary words; such secrets are not credentials.
_MIN_SECRET_LENGTH = 4


class PanFormatError(ValueError):
    """A card number that is neither a plain PAN nor an already-masked one."""


def mask_pan(number: str) -> str:
    """`4028011234561234` -> `402801******1234`.

    The BIN (first six) is kept only for numbers of 16 digits or more, where BIN plus the
    last four still hides at least six digits; shorter numbers show the last four only.
    An already-masked value (`402801******1234`, `****1234`) is normalized, not rejected.
    """
    compact = _PAN_SEPARATORS.sub("", number.strip())
    if compact.isdigit() and 12 <= len(compact) <= 19:
        head = compact[:6] if len(compact) >= 16 else ""
        return head + "*" * (len(compact) - len(head) - 4) + compact[-4:]
    masked = _MASKED_PAN_RE.match(compact)
    if masked:
        head, last4 = masked.groups()
        return head + "*" * (len(compact) - len(head) - 4) + last4
    # Never echo the value: it may be a card number in an odd format.
    raise PanFormatError(f"card number has an unexpected format ({len(compact)} characters)")


def pan_prefix(number: str) -> str:
    """The leading digits that are safe to inspect (the BIN of a full or masked PAN)."""
    compact = _PAN_SEPARATORS.sub("", number.strip())
    digits = re.match(r"\d*", compact)
    return digits.group(0)[:6] if digits else ""


def mask_account(number: str) -> str:
    """`20202972100049668601` -> `••••8601`: the last four characters only."""
    compact = number.strip()
    return BULLETS + compact[-4:] if len(compact) > 4 else BULLETS


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """Remove known secrets, JWTs, credential parameters, bearer tokens and card numbers."""
    for secret in sorted(
        {s for s in secrets if len(s) >= _MIN_SECRET_LENGTH}, key=len, reverse=True
    ):
        text = text.replace(secret, MASK)
    text = _JWT_RE.sub(MASK, text)
    text = _CREDENTIAL_RE.sub(rf'\1\2"{MASK}"', text)
    text = _BEARER_RE.sub(rf"\1 {MASK}", text)
    return _PAN_RE.sub(lambda m: mask_pan(m.group(0)), text)


def excerpt(raw: Any, limit: int = 240) -> str:
    """A short, redacted rendering of an upstream record for a SyncIssue."""
    try:
        text = json.dumps(raw, ensure_ascii=False, sort_keys=True, default=str)
    except (TypeError, ValueError):  # circular or otherwise unrenderable input
        text = repr(raw)
    text = redact(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"
