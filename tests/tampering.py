"""A token, signature or MAC with one character changed, never decoding to the same bytes.

Changing the last characters of unpadded base64url text can leave the decoded bytes as
they were: the last character carries spare bits that decoders ignore (a 32-byte MAC is
43 characters, the last holding 4 bits of it), so `signature[:-2] + "AA"` is the very
same signature about once in a thousand runs. The first character carries six bits of
the value, so changing it always changes the bytes.
"""

from __future__ import annotations


def tamper(text: str) -> str:
    """`text` with the first character of its last dot-separated part (a JWT's
    signature, a link's MAC) replaced by another base64url character."""
    head, dot, last = text.rpartition(".")
    swap = "B" if last[0] == "A" else "A"
    return f"{head}{dot}{swap}{last[1:]}"
