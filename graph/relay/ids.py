"""Opaque global ids: base64 of "TypeName:id", as Relay clients expect.

Decoding is strict: anything that is not exactly such a value of a registered node type
(graph.relay.node) is a BAD_USER_INPUT error, never a 500 and never a lookup.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable, Sequence

from graph.core.errors import BadUserInput
from graph.relay.node import NODE_TYPES

_DECODED = re.compile(r"^([A-Za-z]+):([1-9][0-9]{0,18})$")
_MAX_ID_LENGTH = 80


def to_global_id(type_name: str, pk: int) -> str:
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


def from_global_id(value: str) -> tuple[str, int]:
    """(type name, primary key) of a global id."""
    if not isinstance(value, str) or len(value) > _MAX_ID_LENGTH:
        raise BadUserInput("Malformed ID.")
    try:
        decoded = base64.b64decode(value, validate=True).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise BadUserInput(f"Malformed ID: {value!r}.") from None
    match = _DECODED.match(decoded)
    if match is None or match.group(1) not in NODE_TYPES:
        raise BadUserInput(f"Malformed ID: {value!r}.")
    return match.group(1), int(match.group(2))


def pk_of(value: str, type_name: str) -> int:
    """The primary key of a global id that must name a `type_name`."""
    kind, pk = from_global_id(value)
    if kind != type_name:
        raise BadUserInput(f"Expected an ID of type {type_name}, got one of type {kind}.")
    return pk


def pks_of(values: Iterable[str] | None, type_name: str) -> Sequence[int] | None:
    """Primary keys of a list filter; None (no filter) stays None."""
    if values is None:
        return None
    return sorted({pk_of(v, type_name) for v in values})
