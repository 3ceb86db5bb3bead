"""A response body parsed exactly as the stdlib `json` module parses it (numbers with a
fraction or exponent as `Decimal`, bare NaN/Infinity through `parse_constant`), at
msgspec's speed: about half the stdlib's CPU on the sandbox's pages (issue 16).

msgspec parses the same JSON to the same values (dicts in key order, the last of a
repeated key winning, ints of any size, the float's own text handed to `Decimal`), and
refuses what the stdlib accepts beyond JSON: bare NaN/Infinity, a byte-order mark,
UTF-16/32, surrogates (escaped alone, or encoded in the bytes). Whatever msgspec
refuses goes to the stdlib, whose answer or error is today's. One difference remains:
msgspec takes a few more levels of nesting than the stdlib before its RecursionError
(both count the interpreter's recursion limit), so it is called a few frames deeper,
measured once here; where that cannot be measured (an interpreter whose C recursion does
not count Python frames), every body goes to the stdlib.
`tests/connectors/obp/test_obp_json_body.py` holds the two to each other.

`loads_kept` reads a page keeping only the keys of each item its mapper reads: the rest
of each item is skipped, never built (a sandbox transaction is ~1.7 KB, of which the
mapping reads four keys), which halves the decode and the garbage it leaves. It answers
only where msgspec takes the body; the caller parses anything else whole with `loads`.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from contextlib import suppress
from decimal import Decimal
from functools import lru_cache, partial
from typing import Any

import msgspec

_decode = msgspec.json.Decoder(float_hook=Decimal).decode


def _padded(body: bytes, frames: int, decode: Callable[[bytes], Any] = _decode) -> Any:
    if frames:
        return _padded(body, frames - 1, decode)
    return decode(body)


def _deepest(loads: Callable[[bytes], Any], opener: bytes, closer: bytes, most: int) -> int:
    """The deepest nesting (up to `most`) `loads` takes from here: a binary search."""
    low, high = 0, most
    while low < high:
        middle = (low + high + 1) // 2
        try:
            loads(opener * middle + b"1" + closer * middle)
        except RecursionError:
            high = middle - 1
        else:
            low = middle
    return low


def _padding() -> int | None:
    """Frames to call msgspec through so that it takes no deeper nesting than the stdlib
    called from the same frame, or None when the stdlib's limit is not found."""
    most = sys.getrecursionlimit() + 100
    shapes = ((b"[", b"]"), (b'{"a":', b"}"))
    # Each side through one frame of its own (a lambda, `_padded_by`): `loads` calls both.
    limits = [_deepest(lambda b: json.loads(b, parse_float=Decimal), *s, most) for s in shapes]
    if max(limits) >= most:
        return None
    for frames in range(16):
        taken = [_deepest(partial(_padded_by, frames), *s, most) for s in shapes]
        if all(t <= limit for t, limit in zip(taken, limits, strict=True)):
            return frames
    return None


def _padded_by(frames: int, body: bytes) -> Any:
    return _padded(body, frames)


# Two frames more than measured: the measure moves by one from frame to frame, and a
# body msgspec refuses for its depth only costs a second parse.
_MEASURED = _padding()
_FRAMES = None if _MEASURED is None else _MEASURED + 2


def loads(body: bytes, constant: Callable[[str], Any]) -> Any:
    """What `json.loads(body, parse_float=Decimal, parse_constant=constant)` answers (as
    httpx's `Response.json` called it, from as deep a frame): the value or the error."""
    if _FRAMES is not None:
        with suppress(Exception):  # anything msgspec refuses, the stdlib decides
            return _padded(body, _FRAMES)
    return json.loads(body, parse_float=Decimal, parse_constant=constant)


_DIGITS = b"0123456789"


def _long_integer(body: bytes) -> bool:
    """Whether the body may hold an integer longer than the stdlib converts (it refuses
    one), in a part msgspec would skip unread: a run of more digits than the limit. Any
    such run covers a multiple of the limit, so only those positions are looked at."""
    limit = sys.get_int_max_str_digits()
    for at in range(0, len(body) if limit else 0, limit or 1):
        if 48 <= body[at] <= 57:  # an ASCII digit
            after, before = body[at : at + limit + 1], body[max(0, at - limit) : at]
            run = len(after) - len(after.lstrip(_DIGITS)) + len(before)
            if run - len(before.rstrip(_DIGITS)) > limit:
                return True
    return False


@lru_cache(maxsize=16)
def _kept_decoder(key: str, keys: tuple[str, ...]) -> Callable[[bytes], Any]:
    """A decoder of `{key: [item, ...]}` whose items are objects holding `keys` (any
    JSON value each, decoded as `loads` decodes it; UNSET where absent)."""
    item = msgspec.defstruct("KeptItem", [(k, Any, msgspec.UNSET) for k in keys])
    page = msgspec.defstruct("KeptPage", [(key, list[item])])  # type: ignore[valid-type]
    return msgspec.json.Decoder(page, float_hook=Decimal).decode


def loads_kept(body: bytes, key: str, keys: tuple[str, ...]) -> list[dict[str, Any]] | None:
    """The list at `key` of the body's object, each item holding only those of `keys` it
    has, with the values `loads` would give them; None where msgspec refuses the body
    (not JSON, a bare literal, no list at `key`, an item that is not an object, too deep)
    or where what it would skip unread might make the stdlib refuse it (bytes that are
    not UTF-8, an integer too long to convert): parse that body whole instead."""
    if _FRAMES is None or _long_integer(body):
        return None
    try:
        body.decode()  # msgspec skips a string unread, whatever its bytes
        page = _padded(body, _FRAMES, _kept_decoder(key, keys))
    except Exception:  # msgspec's errors, RecursionError: the whole parse decides
        return None
    unset = msgspec.UNSET
    return [
        {k: value for k in keys if (value := getattr(item, k)) is not unset}
        for item in getattr(page, key)
    ]
