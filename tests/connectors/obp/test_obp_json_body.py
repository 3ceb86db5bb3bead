"""`connectors.obp.json_body.loads` answers as the client's decoder before it did (httpx's
`Response.json` with `parse_float=Decimal` and a `parse_constant`): the same values, of
the same types, in the same order, or the same exception with the same message, for JSON
of every shape and for what lies around it: bare NaN/Infinity, repeated keys, integers
of any size, numbers with exponents, invalid UTF-8, surrogates, byte-order marks,
UTF-16/32, control characters, trailing bytes, truncation, deep nesting, empty bodies."""

from __future__ import annotations

import json
import sys
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


# --- `loads_kept`: a page's items with only the keys the mapper reads -------------------

_KEPT = ("id", "details", "other_account")


def _kept_expected(body: bytes) -> tuple[Any, ...] | None:
    """What `loads_kept` may answer: the stdlib's value trimmed, where it has that shape."""
    before = _before(body)
    if before[0] != "value":
        return None
    value = json.loads(body.decode("utf-8-sig", "surrogatepass"), parse_float=Decimal)
    items = value.get("transactions") if isinstance(value, dict) else None
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        return None
    return ("value", _tokens([{k: item[k] for k in _KEPT if k in item} for item in items]))


def _kept_now(body: bytes) -> tuple[Any, ...] | None:
    items = json_body.loads_kept(body, "transactions", _KEPT)
    return None if items is None else ("value", _tokens(items))


@st.composite
def _pages(draw: st.DrawFn) -> bytes:
    """`{"transactions": [...]}` bodies: items of kept and other keys, repeated keys,
    items that are not objects, and the near misses of `_bodies` around them."""
    keys = st.sampled_from([*_KEPT, "this_account", "metadata", "x"])
    items = []
    for _ in range(draw(st.integers(0, 4))):
        if draw(st.integers(0, 9)) == 0:
            items.append(draw(_json_text(2)))
            continue
        pairs = draw(st.lists(st.tuples(keys, _json_text(1)), max_size=6))
        items.append("{" + ",".join(f'"{k}":{v}' for k, v in pairs) + "}")
    text = '{"transactions":[' + ",".join(items) + "]"
    if draw(st.booleans()):
        text += ',"other":' + draw(_json_text(1))
    body = (text + "}").encode("utf-8", "surrogatepass")
    if draw(st.integers(0, 4)) == 0:
        at = draw(st.integers(0, len(body)))
        body = body[:at] + draw(st.sampled_from(_EXTRA)) + body[at:]
    return body


@settings(max_examples=1000)
@given(st.one_of(_pages(), _bodies()))
def test_loads_kept_answers_the_stdlibs_value_trimmed_or_nothing(body: bytes) -> None:
    now = _kept_now(body)
    assert now is None or now == _kept_expected(body)


def test_loads_kept_takes_plain_pages() -> None:
    """The fast path answers for a well-formed page (it is not always None)."""
    body = (
        b'{"transactions": [{"id": "t-1", "this_account": {"id": "a"}, "details": '
        b'{"value": {"amount": "-1.50"}, "rate": 1.25}, "id": "t-2"}, {"metadata": null}],'
        b' "other": [1]}'
    )
    assert _kept_now(body) == _kept_expected(body) is not None
    assert json_body.loads_kept(body, "transactions", _KEPT) == [
        {"id": "t-2", "details": {"value": {"amount": "-1.50"}, "rate": Decimal("1.25")}},
        {},
    ]


@pytest.mark.parametrize("shape", ["list", "object"])
@pytest.mark.parametrize("where", ["details", "metadata"])
def test_loads_kept_is_never_deeper_than_the_stdlib(shape: str, where: str) -> None:
    """A page nested past the stdlib's limit, in a kept key or a skipped one, is left to
    the whole parse (which raises as the stdlib did)."""
    limit = _stdlib_limit(shape)
    for depth in range(limit - 12, limit + 12):
        body = b'{"transactions": [{"id": "t", "%s": %s}]}' % (
            where.encode(),
            _nested(shape, depth - 3),
        )
        if _kept_now(body) is not None:
            assert _before(body)[0] == "value", depth


@pytest.mark.parametrize("limit", [4300, 640, 0])
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 5)), max_size=6))
def test_long_integers_are_found_wherever_they_lie(limit: int, runs: list[tuple[int, int]]) -> None:
    """`_long_integer` finds every run of more digits than the stdlib converts, at any
    position (around the multiples of the limit it looks at), and no shorter one."""
    sizes = [0, 1, limit - 1, limit, limit + 1, 2 * limit + 3]
    body = b"".join(b"x" * sizes[gap] + b"7" * sizes[run] for gap, run in runs)
    before = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(limit)
    try:
        found = json_body._long_integer(body)
    finally:
        sys.set_int_max_str_digits(before)
    longest = max((len(run) for run in body.split(b"x")), default=0)
    assert found == (limit > 0 and longest > limit)
