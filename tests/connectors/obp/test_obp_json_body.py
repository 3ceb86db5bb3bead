"""`connectors.obp.json_body.loads` answers as the client's decoder before it did (httpx's
`Response.json` with `parse_float=Decimal` and a `parse_constant`): the same values, of
the same types, in the same order, or the same exception with the same message, for JSON
of every shape and for what lies around it: bare NaN/Infinity, repeated keys, integers
of any size, numbers with exponents, invalid UTF-8, surrogates, byte-order marks,
UTF-16/32, control characters, trailing bytes, truncation, deep nesting, empty bodies."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.obp import json_body


def _literal(text: str) -> tuple[str, str]:
    return ("literal", text)  # a tuple: nothing JSON parses to


def _tokens(value: Any) -> list[Any]:
    """The value as a flat list of typed tokens (a walk of its own: deep values would
    exhaust the recursion of `==` and `repr`)."""
    tokens: list[Any] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if type(item) is dict:
            tokens.append(("{", len(item)))
            for key, child in reversed(item.items()):
                stack.append(child)
                stack.append(("key", key))
        elif type(item) is list:
            tokens.append(("[", len(item)))
            stack.extend(reversed(item))
        else:
            tokens.append((type(item).__name__, repr(item)))
    return tokens


# Each is called from a frame as deep, the way the client calls it.
def _before(body: bytes) -> tuple[Any, ...]:
    try:
        value = httpx.Response(200, content=body).json(parse_float=Decimal, parse_constant=_literal)
    except Exception as exc:
        return ("raises", type(exc), str(exc))
    return ("value", _tokens(value))


def _now(body: bytes) -> tuple[Any, ...]:
    try:
        value = json_body.loads(body, _literal)
    except Exception as exc:
        return ("raises", type(exc), str(exc))
    return ("value", _tokens(value))


_SPACE = st.sampled_from(["", "", " ", "\n", "\t", "\r\n", "  ", "\x0c", "\u00a0"])
_NUMBERS = st.one_of(
    st.integers().map(str),
    st.integers(min_value=-(10**40), max_value=10**40).map(str),
    st.from_regex(r"-?(0|[1-9][0-9]{0,25})(\.[0-9]{1,25})?([eE][+-]?[0-9]{1,4})?", fullmatch=True),
    st.sampled_from(["NaN", "Infinity", "-Infinity", "-0", "-0.0", "1E400", "1e-400", "01",
                     "1.", ".5", "+1", "1e", "-", "0x10", "1_000", "nan", "\u0661"]),
    st.integers(min_value=4290, max_value=4310).map(lambda n: "7" * n),
)  # fmt: skip
_STRINGS = st.one_of(
    st.text(),
    st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x10FFFF)),
    st.sampled_from(["\ud800", "\udc00", "a\udbff", "\ud83d\ude00", "\x00", "\x7f", "é", ""]),
)


@st.composite
def _json_text(draw: st.DrawFn, depth: int = 0) -> str:
    """JSON-like text: valid as a rule, with the near misses above mixed in."""
    space = draw(_SPACE)
    kind = draw(st.integers(0, 9 if depth < 3 else 5))
    if kind == 0:
        return space + draw(st.sampled_from(["true", "false", "null", "True", "nul"]))
    if kind in (1, 2):
        return space + draw(_NUMBERS)
    if kind in (3, 4, 5):
        text = draw(_STRINGS)
        if draw(st.booleans()):
            return space + json.dumps(text, ensure_ascii=draw(st.booleans()))
        return space + '"' + text + '"'  # raw: control characters, quotes, backslashes
    items = draw(st.lists(_json_text(depth + 1), max_size=4))
    if kind in (6, 7):
        return space + "[" + ",".join(items) + draw(st.sampled_from(["", "", ","])) + "]"
    keys = st.sampled_from(["a", "b", "é", "\ud800"]) | _STRINGS
    pairs = [
        json.dumps(draw(keys), ensure_ascii=draw(st.booleans())) + ":" + item for item in items
    ]
    return space + "{" + ",".join(pairs) + "}" + space


_ENCODINGS = ["utf-8"] * 6 + ["utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32",
                              "utf-32-le", "cp1251"]  # fmt: skip
_EXTRA = [b"\x00", b"\xff", b"\xed\xa0\x80", b"\xc0\x80", b",", b"]", b"}", b'"', b"\\", b" x",
          b"\xef\xbb\xbf", b"NaN"]  # fmt: skip


@st.composite
def _bodies(draw: st.DrawFn) -> bytes:
    text = draw(_json_text())
    encoding = draw(st.sampled_from(_ENCODINGS))
    try:
        body = text.encode(encoding, "surrogatepass")
    except (UnicodeEncodeError, LookupError):
        body = text.encode("utf-8", "surrogatepass")
    change = draw(st.integers(0, 5))
    if change == 1 and body:
        body = body[: draw(st.integers(0, len(body) - 1))]
    elif change == 2:
        at = draw(st.integers(0, len(body)))
        extra = draw(st.sampled_from(_EXTRA))
        body = body[:at] + extra + body[at:]
    elif change == 3:
        body = b"[" + body + b"," + body + b"]"
    return body


@settings(max_examples=600)
@given(_bodies())
def test_loads_answers_as_the_stdlib_did(body: bytes) -> None:
    assert _now(body) == _before(body)


def _nested(shape: str, depth: int) -> bytes:
    opener, closer = {"list": (b"[", b"]"), "object": (b'{"a":', b"}")}[shape]
    return opener * depth + b'"x"' + closer * depth


def _stdlib_limit(shape: str) -> int:
    low, high = 0, 5000
    while low < high:
        middle = (low + high + 1) // 2
        if _before(_nested(shape, middle))[0] == "value":
            low = middle
        else:
            high = middle - 1
    return low


@pytest.mark.parametrize("shape", ["list", "object"])
def test_nesting_around_the_recursion_limit_answers_as_the_stdlib_did(shape: str) -> None:
    limit = _stdlib_limit(shape)
    assert 100 < limit < 5000
    for depth in range(limit - 12, limit + 12):
        body = _nested(shape, depth)
        assert _now(body) == _before(body), depth
        mixed = body.replace(b'{"a":', b'[{"a":', 3).replace(b"}", b"}]", 3)
        assert _now(mixed) == _before(mixed), depth


def test_plain_bodies_are_parsed_by_msgspec(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fast path is taken on this interpreter (the stdlib is not asked)."""
    assert json_body._FRAMES is not None
    body = b'{"transactions": [{"id": "t-1", "amount": 10.50, "n": 7, "ok": true}]}'
    expected = _before(body)

    def refuse(*_: Any, **__: Any) -> Any:
        raise AssertionError("the stdlib was asked")

    monkeypatch.setattr(json_body.json, "loads", refuse)
    assert _now(body) == expected
    with pytest.raises(AssertionError, match="stdlib was asked"):
        json_body.loads(b"[NaN]", _literal)
