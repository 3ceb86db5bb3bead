"""Deterministic identifiers and random streams derived from the seed.

Everything the generator makes is a pure function of (seed, names...), so any block of
any account can be regenerated alone, in any order, with the same result.
"""

from __future__ import annotations

import hashlib
import random
import re

_UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
_TAIL_BITS = 48
_TAIL_MOD = 1 << _TAIL_BITS
# Odd, so multiplying by it is a bijection modulo 2**48: consecutive indexes get
# unrelated-looking id tails, yet the index can be recovered from the id.
_SPREAD = 0x9E3779B97F4B
_SPREAD_INVERSE = pow(_SPREAD, -1, _TAIL_MOD)


def _key(parts: tuple[object, ...]) -> str:
    return "|".join(str(part) for part in parts)


def digest(*parts: object) -> bytes:
    return hashlib.blake2b(_key(parts).encode(), digest_size=16).digest()


def rng_for(*parts: object) -> random.Random:
    # A str seed is hashed with SHA-512 by `random`, independent of PYTHONHASHSEED.
    return random.Random(_key(parts))


def _uuid_shape(hex20: str, tail: str) -> str:
    variant = "89ab"[int(hex20[15], 16) & 3]
    return f"{hex20[0:8]}-{hex20[8:12]}-4{hex20[12:15]}-{variant}{hex20[16:19]}-{tail}"


def uuid_from(*parts: object) -> str:
    """A UUID-4-shaped id that is a pure function of its parts."""
    hex32 = digest(*parts).hex()
    return _uuid_shape(hex32[:20], hex32[20:32])


def looks_like_uuid(value: str) -> bool:
    return bool(_UUID_RE.match(value))


class TransactionIdCodec:
    """Transaction ids that encode their position, so a lookup by id is O(1 block).

    The last 12 hex digits are (index * _SPREAD + mask) mod 2**48; the rest is a hash of
    (seed, account, index), which `decode` re-derives to reject forged or foreign ids.
    """

    def __init__(self, *scope: object) -> None:
        self._scope = scope
        self._mask = int.from_bytes(digest(*scope, "id-mask")[:6], "big")

    def encode(self, index: int) -> str:
        tail = (index * _SPREAD + self._mask) % _TAIL_MOD
        return _uuid_shape(digest(*self._scope, index).hex()[:20], f"{tail:012x}")

    def decode(self, transaction_id: str) -> int | None:
        """The index this id was made for, or None when it was not made here."""
        if not _UUID_RE.match(transaction_id):
            return None
        tail = int(transaction_id[-12:], 16)
        index = ((tail - self._mask) * _SPREAD_INVERSE) % _TAIL_MOD
        return index if self.encode(index) == transaction_id else None
