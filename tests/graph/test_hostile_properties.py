"""Every argument of every root field, given generated bad values, is answered with a typed
error: never INTERNAL_SERVER_ERROR, never a 500, on both databases.

The fields and their argument types come from the schema itself (build_schema), so a new
root field or argument is covered without touching this test. Hypothesis generates the
cases; they are then sent through the real app (the app is async, so generation and
sending are two steps, and a failure names the case rather than a shrunk one).
"""

from __future__ import annotations

import json
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    get_named_type,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graph.schema import build_schema
from graph.settings import Settings

from .helpers import Api
from .ledger_data import LedgerData

SCHEMA = build_schema(Settings())._schema

BAD_TEXT = st.one_of(
    st.text(max_size=30),
    st.text(alphabet=st.sampled_from(["\x00", "\ud800", "\udfff", "a", "%", "_", "\\"])),
    st.sampled_from(["", " " * 200, "x" * 5_000, "QWNjb3VudDox\x00", "\ud83d"]),
)
BAD_DATE = st.one_of(
    st.sampled_from(["0000-01-01", "0001-01-01", "9999-12-31", "10000-01-01", "2025-02-30"]),
    st.dates().map(str),
    st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
    st.integers().map(lambda n: f"{n}-01-01"),
)
BAD_NUMBER = st.one_of(
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=False, allow_infinity=False),
    st.integers().map(str),
    st.sampled_from(["1e400", "-0", "NaN", "9" * 40, "0.0000000001"]),
)
JUNK = st.one_of(st.none(), st.booleans(), BAD_NUMBER, BAD_TEXT, st.just([]), st.just({}))


def bad_value(kind: GraphQLInputType, depth: int = 0) -> st.SearchStrategy[Any]:
    """Generated values for an argument of type `kind`: mostly wrong in its own terms (text
    for a String, dates for a Date), sometimes of the wrong type altogether."""
    if isinstance(kind, GraphQLNonNull):
        return bad_value(kind.of_type, depth)
    if isinstance(kind, GraphQLList):
        return st.lists(bad_value(kind.of_type, depth), max_size=3) | JUNK
    named = get_named_type(kind)
    if isinstance(named, GraphQLInputObjectType):
        if depth > 2:
            return JUNK
        fields = {name: bad_value(f.type, depth + 1) for name, f in named.fields.items()}
        return st.fixed_dictionaries({}, optional=fields) | JUNK
    if isinstance(named, GraphQLEnumType):
        return st.sampled_from(list(named.values)) | BAD_TEXT | JUNK
    assert isinstance(named, GraphQLScalarType)
    own = {
        "String": BAD_TEXT,
        "ID": BAD_TEXT,
        "Date": BAD_DATE,
        "DateTime": BAD_DATE,
        "Decimal": BAD_NUMBER.map(str),
        "Int": BAD_NUMBER,
        "Float": BAD_NUMBER,
        "Boolean": st.booleans(),
    }
    return own.get(named.name, BAD_TEXT) | JUNK


def operation(field_name: str) -> tuple[str, dict[str, GraphQLInputType]]:
    """A query giving every argument of the root field a variable."""
    field = SCHEMA.query_type.fields[field_name]
    arguments = dict(field.args.items())
    declared = ", ".join(f"${name}: {kind.type}" for name, kind in arguments.items())
    given_ = ", ".join(f"{name}: ${name}" for name in arguments)
    selection = ""
    if not isinstance(get_named_type(field.type), GraphQLScalarType | GraphQLEnumType):
        selection = "{ __typename }"
    return (
        f"query({declared}) {{ {field_name}({given_}) {selection} }}",
        {name: kind.type for name, kind in arguments.items()},
    )


ROOT_FIELDS = [name for name, f in SCHEMA.query_type.fields.items() if f.args]


def generated_cases(per_field: int) -> list[tuple[str, dict[str, Any]]]:
    cases: list[tuple[str, dict[str, Any]]] = []

    @settings(
        max_examples=per_field * len(ROOT_FIELDS),
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(st.data())
    def collect(data: st.DataObject) -> None:
        field = data.draw(st.sampled_from(ROOT_FIELDS))
        query, kinds = operation(field)
        variables = {name: data.draw(bad_value(kind), label=name) for name, kind in kinds.items()}
        cases.append((query, variables))

    collect()
    return cases


def test_every_root_field_with_arguments_is_covered():
    assert {"transactions", "transfers", "statement", "node", "nodes"} <= set(ROOT_FIELDS)


async def test_bad_values_for_every_argument_are_typed_errors(api: Api, ledger: LedgerData):
    token = await api.token()
    for query, variables in generated_cases(per_field=12):
        # json.dumps escapes lone surrogates, the one way JSON can carry them.
        body = json.dumps({"query": query, "variables": variables}).encode()
        response = await api.client.post(
            "/graphql",
            content=body,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        case = (query, variables)
        assert response.status_code in (200, 400), (case, response.text)
        errors = response.json().get("errors", [])
        assert all(e["extensions"]["code"] != "INTERNAL_SERVER_ERROR" for e in errors), (
            case,
            errors,
        )
