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
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from contextlib import suppress
from decimal import Decimal
from functools import partial
from typing import Any

import msgspec

_decode = msgspec.json.Decoder(float_hook=Decimal).decode


def _padded(body: bytes, frames: int) -> Any:
    if frames:
        return _padded(body, frames - 1)
    return _decode(body)


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
