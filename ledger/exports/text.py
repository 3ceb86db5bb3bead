"""What the formats share: amounts as text, cleaned free text, and a write buffer.

Amounts are written from the ledger's integer minor units by `ledger.money.format_minor`:
exactly the currency's decimals, a dot, no grouping, zero as 0.00 (never -0.00).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable

from ledger.money import format_minor

# C0 controls, DEL and the C1 block: never in an exported cell or element. (XML 1.0 forbids
# most of them, and a line break in a line-oriented format would start a new record.)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]+")
FLUSH_AT = 64 * 1024  # characters buffered before a chunk goes out


def amount(minor: int, currency: str) -> str:
    """Signed: -12.50, 0.00, 1500.00."""
    return format_minor(minor, currency)


def magnitude(minor: int, currency: str) -> str:
    """Unsigned, for formats that carry the direction apart (camt.053, 1C)."""
    return format_minor(abs(minor), currency)


def clean(text: str | None, limit: int | None = None) -> str:
    """One line of text: control characters become spaces, the ends are trimmed, and it is
    cut to `limit` characters (the field's width in the receiving format)."""
    if not text:
        return ""
    one_line = _CONTROL.sub(" ", text).strip()
    return one_line[:limit].rstrip() if limit is not None else one_line


class Buffer:
    """Collects text and hands it out in chunks of about FLUSH_AT characters, encoded."""

    __slots__ = ("_encode", "_parts", "_size")

    def __init__(self, encode: Callable[[str], bytes] = str.encode) -> None:
        self._parts: list[str] = []
        self._size = 0
        self._encode = encode

    def add(self, text: str) -> bytes | None:
        """Adds text; returns a chunk when enough has gathered."""
        self._parts.append(text)
        self._size += len(text)
        return self.take() if self._size >= FLUSH_AT else None

    def take(self) -> bytes:
        chunk = self._encode("".join(self._parts))
        self._parts.clear()
        self._size = 0
        return chunk


async def chunks(
    lines: AsyncIterator[str], encode: Callable[[str], bytes] = str.encode
) -> AsyncIterator[bytes]:
    """Text produced piecewise, as bounded chunks of bytes."""
    buffer = Buffer(encode)
    async for line in lines:
        chunk = buffer.add(line)
        if chunk is not None:
            yield chunk
    last = buffer.take()
    if last:
        yield last
