"""Nothing for a scanner: in production a request error names no part of the schema, and
directives are capped (graph.core.errors, graph.limits.validation)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
)

from graph.schema import build_schema
from graph.settings import Settings

from .conftest import AppApi
from .helpers import Api, codes
from .ledger_data import LedgerData

# What clairvoyance and its kind send to learn names from the answers: (query, variables).
PROBES: list[tuple[str, dict[str, Any]]] = [
    ("{ accountz { totalCount } }", {}),  # wrong root field
    ("{ accounts { edges { node { nmae } } } }", {}),  # wrong field on a type
    ("{ accounts(firts: 1) { totalCount } }", {}),  # wrong argument
    ('{ accounts(first: "ten") { totalCount } }', {}),  # wrong type on an argument
    ("{ transactions(orderBy: 1) { totalCount } }", {}),  # not an enum value
    ("{ transactions(orderBy: BOOKING_DATE_DES) { totalCount } }", {}),  # enum typo
    ("{ accounts(filter: {nope: 1}) { totalCount } }", {}),  # wrong input field
    ("fragment f on Acount { id } { ...f }", {}),  # fragment on an unknown type
    ('{ node(id: "x") { ... on Accoun { id } } }', {}),  # inline fragment, unknown type
    ('{ node(id: "x") { ... on Card { id } } viewer { ... on Card { id } } }', {}),
    ("{ accounts @nope { totalCount } }", {}),  # unknown directive
    ("{ node { id } }", {}),  # missing required argument
    ("{ viewer { customer { id { x } } } }", {}),  # subfields on a scalar
    ("{ accounts }", {}),  # no subfields on an object
    ("{ viewer }", {}),
    (  # a variable's value checked against an input type
        "query($f: TransactionFilter) { transactions(filter: $f) { totalCount } }",
        {"f": {"bogus": 1}},
    ),
    ("query($n: Strin) { viewer { __typename } }", {}),  # unknown variable type
    ("query($n: Int) { accounts(after: $n) { totalCount } }", {"n": 1}),  # wrong variable type
    ("mutation { revokeConsen }", {}),
]


def schema_names() -> set[str]:
    """Every type, field, argument, input field and enum value name the schema has."""
    schema = build_schema(Settings())._schema
    names: set[str] = set()
    for name, kind in schema.type_map.items():
        if name.startswith("__"):
            continue
        names.add(name)
        if isinstance(kind, GraphQLObjectType | GraphQLInterfaceType):
            for field_name, field in kind.fields.items():
                names.add(field_name)
                names.update(field.args)
        elif isinstance(kind, GraphQLInputObjectType):
            names.update(kind.fields)
        elif isinstance(kind, GraphQLEnumType):
            names.update(kind.values)
    return names


def named(message: str, names: set[str]) -> set[str]:
    return set(re.findall(r"[_A-Za-z][_0-9A-Za-z]*", message)) & names


@pytest.fixture
async def production(app_api: AppApi) -> Api:
    return await app_api(env="production")


async def app_token(api: Api) -> str:
    pk, _ = await api.register_app()
    return await api.token(client=pk)


async def test_no_production_error_names_the_schema(production: Api, api: Api, ledger: LedgerData):
    names = schema_names()
    token = await app_token(production)
    told: set[str] = set()
    for query, variables in PROBES:
        refused = await production.query(query, variables, token=token)
        development = await api.query(query, variables)

        assert refused["data"] is None and codes(refused) == ["BAD_USER_INPUT"], query
        assert all(not named(e["message"], names) for e in refused["errors"]), refused
        assert all("locations" not in e for e in refused["errors"]), refused
        told |= {n for e in development["errors"] for n in named(e["message"], names)}
    # What production keeps back: development's messages do name the schema.
    assert {"accounts", "Account", "TransactionFilter", "Card"} <= told


async def test_many_wrong_guesses_are_one_error(production: Api, ledger: LedgerData):
    body = await production.query("{ a b c d viewer { e f } }", token=await app_token(production))

    assert len(body["errors"]) == 1


@pytest.mark.parametrize(
    "query",
    [
        "{ viewer { customer { id }",  # a syntax error quotes only the request
        "{ " + " ".join(f"a{i}: __typename" for i in range(31)) + " }",  # a limit's
    ],
)
async def test_production_keeps_messages_that_name_no_schema(
    production: Api, api: Api, ledger: LedgerData, query: str
):
    refused = await production.query(query, token=await app_token(production))
    development = await api.query(query)

    assert [e["message"] for e in refused["errors"]] == [
        e["message"] for e in development["errors"]
    ]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("{ __typename @a @b @c @d @e }", "More than 4 directives in one place."),
        ("{ __typename" + " @aa" * 3000 + " }", "More than 4 directives in one place."),
        (
            "{ " + " __typename @skip(if: false)" * 51 + " }",
            "More than 50 directives in the document.",
        ),
    ],
)
@pytest.mark.parametrize("env", ["development", "production"])
async def test_directives_are_capped(
    app_api: AppApi, ledger: LedgerData, query: str, message: str, env: str
):
    api = await app_api(env=env, max_query_tokens=20_000)
    pk, _ = await api.register_app()

    body = await api.query(query, token=await api.token(client=pk))

    # One error, whatever the number of directives.
    assert [(e["message"], e["extensions"]["code"]) for e in body["errors"]] == [
        (message, "BAD_USER_INPUT")
    ]


async def test_directives_within_the_caps_are_served(api: Api, ledger: LedgerData):
    fields = " __typename @skip(if: false)" * 48
    query = "{ viewer @include(if: true) @skip(if: false) { __typename } " + fields + " }"

    body = await api.query(query)

    assert "errors" not in body and body["data"]["__typename"] == "Query"
