"""Hypothesis strategies that write GraphQL query documents over the real schema.

The walk starts at the root fields that read the ledger and descends the graphql-core types:
a random subset of each object's fields (some aliased, some twice so the executor must
merge them), `__typename`, inline and named fragments, `@include`/`@skip` on variables,
arguments written inline or passed as variables, and inline fragments on the concrete
types behind `Node`. Depth is bounded so documents stay under the schema's depth limit most
of the time (over it is an error case both executors must answer alike). Values come from
`Pools`: ids of the customer's own objects, another customer's, malformed ones, cursors
taken from a real first page and garbage ones.

Half the documents keep to the shapes the execution plan runs (its root fields, no
directives, no abstract types, `id` asked often): drawn freely, most documents have some
directive or a root like `node` somewhere, go to graphql-core's executor alone, and the
comparison would rarely reach the plan (about one in eight did).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLUnionType,
    Undefined,
    get_named_type,
)
from hypothesis import strategies as st

from graph.execution.plan import ROOT_FIELDS

# The roots the fast path is for, and the ones around them a client mixes in.
ROOTS = ("transactions", "transfers", "servicePayments", "cards", "accounts", "node", "nodes",
         "viewer")  # fmt: skip
PLANNED_ROOTS = tuple(sorted(ROOT_FIELDS))
# Fields left out: a live call to the bank, whole statements (their own tests), and the
# one field whose value is the present moment (two executions would differ by microseconds).
SKIPPED_FIELDS = frozenset({"liveBalances", "statement", "statementExport", "nextUnattendedSyncAt"})
IDS = ("id", "ids")  # the arguments of node and nodes
PAGE_ARGUMENTS = frozenset({"first", "after", "last", "before"})
PAGINGS = ((), (), ("first",), ("first",), ("first", "after"), ("last",), ("last", "before"),
           ("first", "last"), ("after",))  # fmt: skip
MAX_DEPTH = 5  # object levels below the root field
MAX_FIELDS = 6  # fields drawn per selection set

PAGE_SIZES = (1, 2, 3, 5, 1, 2, 3, 5, 20, 100, 0, 101, -1)
CURRENCIES = ("TJS", "USD", "RUB", "EUR", "tjs", "")
TEXT = ("Auchan", "Оплата", "Tcell", "RU->TJ", "%", "_", "", "zzz")
DATES = ("2025-01-01", "2025-02-15", "2025-03-31", "2025-06-30", "2024-12-31", "2025-02-30")
DATETIMES = ("2025-03-01T00:00:00Z", "2000-01-01T00:00:00+05:00", "2999-01-01T00:00:00Z", "x")
DECIMALS = ("-100", "-50.5", "0", "20.00", "1000000", "-0.001", "abc")
CATEGORY_CODES = ("groceries", "restaurants", "remittance_in", "education", "transfers",
                  "mobile", "FOOD_AND_DRINK", "nope")  # fmt: skip


@dataclass(frozen=True, repr=False)
class Pools:
    """Values worth asking for: ids by type name (own first, then another customer's),
    malformed ids, and cursors by connection field name (real ones and garbage)."""

    own_ids: dict[str, list[str]]
    foreign_ids: list[str]
    bad_ids: list[str]
    cursors: list[str]

    def __repr__(self) -> str:  # hypothesis prints the strategy's arguments on a failure
        return "Pools(...)"

    def ids(self, type_name: str | None = None) -> st.SearchStrategy[str]:
        own = [i for name, ids in self.own_ids.items() if type_name in (None, name) for i in ids]
        everything = [*own, *self.foreign_ids, *self.bad_ids]
        return (
            st.sampled_from(own) | st.sampled_from(everything)
            if own
            else st.sampled_from(everything)
        )


@dataclass
class Document:
    """What a drawn query needs besides its selection: variables and named fragments."""

    variables: dict[str, tuple[str, Any]] = field(default_factory=dict)
    fragments: list[str] = field(default_factory=list)
    count: int = 0
    # Keeps to what the plan runs: no directives, no fields of abstract types.
    plannable: bool = False
    # Above zero while drawing fields a second time (to be merged with the first): a field
    # with arguments then gets an alias of its own, or most documents would be refused for
    # asking one response key with two sets of arguments.
    repeating: int = 0

    def fresh(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}{self.count}"

    def variable(self, type_text: str, value: Any) -> str:
        name = self.fresh("v")
        self.variables[name] = (type_text, value)
        return f"${name}"

    def text(self, name: str | None, selection: str) -> str:
        defs = ", ".join(f"${n}: {t}" for n, (t, _) in self.variables.items())
        head = "query" + (f" {name}" if name else "") + (f"({defs})" if defs else "")
        return "\n".join([f"{head} {selection}", *self.fragments])

    def values(self) -> dict[str, Any]:
        return {n: v for n, (_, v) in self.variables.items()}


def one_in(draw: st.DrawFn, n: int) -> bool:
    """True about once in `n` draws (shrinking towards False: the plainer document)."""
    return bool(draw(st.sampled_from((False,) * (n - 1) + (True,))))


def literal(kind: GraphQLInputType, value: Any) -> str:
    """`value` (as a JSON variable would carry it) written as a GraphQL literal of `kind`."""
    if value is None:
        return "null"
    if isinstance(kind, GraphQLNonNull):
        return literal(kind.of_type, value)
    if isinstance(kind, GraphQLList):
        return "[" + ", ".join(literal(kind.of_type, v) for v in value) + "]"
    if isinstance(kind, GraphQLInputObjectType):
        inner = ", ".join(f"{k}: {literal(kind.fields[k].type, v)}" for k, v in value.items())
        return "{" + inner + "}"
    if isinstance(kind, GraphQLEnumType):
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


def input_value(
    draw: st.DrawFn, kind: GraphQLInputType, name: str, pools: Pools, depth: int = 0
) -> Any:
    """A plausible value of an argument or input field (mostly valid, sometimes not)."""
    if isinstance(kind, GraphQLNonNull):
        return input_value(draw, kind.of_type, name, pools, depth)
    if isinstance(kind, GraphQLList):
        size = draw(st.integers(0, 3))
        return [input_value(draw, kind.of_type, name, pools, depth) for _ in range(size)]
    if isinstance(kind, GraphQLInputObjectType):
        names = draw(st.lists(st.sampled_from(sorted(kind.fields)), max_size=3, unique=True))
        return {n: input_value(draw, kind.fields[n].type, n, pools, depth + 1) for n in names}
    if isinstance(kind, GraphQLEnumType):
        return draw(st.sampled_from(sorted(kind.values)))
    assert isinstance(kind, GraphQLScalarType)
    if name in ("first", "last"):
        return draw(st.sampled_from(PAGE_SIZES))
    if name in ("after", "before"):
        return draw(st.sampled_from(pools.cursors))
    if kind.name == "ID":
        owner = {"accountIds": "Account", "cardIds": "Card", "institutionIds": "Institution"}
        return draw(pools.ids(owner.get(name)))
    by_name = {
        "currency": CURRENCIES,
        "currencies": CURRENCIES,
        "categories": CATEGORY_CODES,
    }
    if name in by_name:
        return draw(st.sampled_from(by_name[name]))
    by_type: dict[str, tuple[Any, ...]] = {
        "Date": DATES,
        "DateTime": DATETIMES,
        "Decimal": DECIMALS,
        "Int": (0, 1, 5, -3),
        "Boolean": (True, False),
    }
    return draw(st.sampled_from(by_type.get(kind.name, TEXT)))


def required(arg: GraphQLArgument) -> bool:
    return isinstance(arg.type, GraphQLNonNull) and arg.default_value is Undefined


def arguments(draw: st.DrawFn, doc: Document, gql_field: GraphQLField, pools: Pools) -> str:
    """Some of a field's arguments, each inline or as a variable: the required ones, a
    page (first/after, last/before, now and then both sizes), the others at random."""
    given = []
    pages = set(gql_field.args) >= PAGE_ARGUMENTS
    paging = set(draw(st.sampled_from(PAGINGS))) if pages else set()
    for name, arg in gql_field.args.items():
        if name in PAGE_ARGUMENTS:
            if name not in paging:
                continue
        elif not required(arg) and not one_in(draw, 3):
            continue
        value = input_value(draw, arg.type, name, pools)
        if draw(st.booleans()):
            written = doc.variable(str(arg.type), value)
        else:
            written = literal(arg.type, value)
        given.append(f"{name}: {written}")
    return f"({', '.join(given)})" if given else ""


def askable(gql_field: GraphQLField) -> bool:
    """Whether the walk can ask for this field: no required argument but global ids."""
    return all(not required(a) or name in IDS for name, a in gql_field.args.items())


def is_leaf(kind: GraphQLNamedType) -> bool:
    return isinstance(kind, GraphQLScalarType | GraphQLEnumType)


def is_abstract(kind: GraphQLNamedType) -> bool:
    return isinstance(kind, GraphQLInterfaceType | GraphQLUnionType)


def directive(draw: st.DrawFn, doc: Document) -> str:
    """Mostly nothing; sometimes `@include`/`@skip` on a variable or a literal."""
    if doc.plannable or not one_in(draw, 10):
        return ""
    choice = draw(st.sampled_from(("include", "skip")))
    value = draw(st.booleans())
    condition = doc.variable("Boolean!", value) if draw(st.booleans()) else str(value).lower()
    return f" @{choice}(if: {condition})"


def selection(
    draw: st.DrawFn, doc: Document, schema: GraphQLSchema, kind: Any, pools: Pools, depth: int
) -> str:
    """A selection set for the named type behind `kind`."""
    named = get_named_type(kind)
    if isinstance(named, GraphQLInterfaceType | GraphQLUnionType):
        return abstract_selection(draw, doc, schema, named, pools, depth)
    assert isinstance(named, GraphQLObjectType)
    items = object_items(draw, doc, schema, named, pools, depth)
    if one_in(draw, 6):
        # The same fields again through a fragment: the executor must merge them.
        spread = draw(st.sampled_from(("inline", "named")))
        doc.repeating += 1
        again = " ".join(object_items(draw, doc, schema, named, pools, depth))
        doc.repeating -= 1
        if spread == "inline":
            items.append(f"... on {named.name}{directive(draw, doc)} {{ {again} }}")
        else:
            fragment = doc.fresh("F")
            doc.fragments.append(f"fragment {fragment} on {named.name} {{ {again} }}")
            items.append(f"...{fragment}{directive(draw, doc)}")
    return "{ " + " ".join(items) + " }"


def object_items(
    draw: st.DrawFn,
    doc: Document,
    schema: GraphQLSchema,
    named: GraphQLObjectType,
    pools: Pools,
    depth: int,
) -> list[str]:
    fields = {
        name: f
        for name, f in named.fields.items()
        if name not in SKIPPED_FIELDS
        and askable(f)
        and (depth < MAX_DEPTH or is_leaf(get_named_type(f.type)))
        and not (doc.plannable and is_abstract(get_named_type(f.type)))
    }
    names = sorted(fields)
    # Fewer fields further down, so a document stays within the alias and cost limits.
    most = max(1, MAX_FIELDS - depth)
    chosen = draw(st.lists(st.sampled_from(names), max_size=most, unique=True)) if names else []
    if "edges" in fields and "edges" not in chosen and not one_in(draw, 4):
        chosen.append("edges")
    if "node" in fields and "node" not in chosen and named.name.endswith("Edge"):
        chosen.append("node")
    if doc.plannable and "id" in fields and "id" not in chosen and draw(st.booleans()):
        chosen.append("id")  # the audit's ids, which the plan collects as it writes
    items = []
    for name in chosen:
        items.append(field_text(draw, doc, schema, name, fields[name], pools, depth))
        if not fields[name].args and one_in(draw, 6):
            doc.repeating += 1
            items.append(field_text(draw, doc, schema, name, fields[name], pools, depth))
            doc.repeating -= 1
    if not items or one_in(draw, 5):
        items.append("__typename")
    return items


def field_text(
    draw: st.DrawFn,
    doc: Document,
    schema: GraphQLSchema,
    name: str,
    gql_field: GraphQLField,
    pools: Pools,
    depth: int,
) -> str:
    aliased = one_in(draw, 6)
    alias = f"{doc.fresh('a')}: " if aliased or (doc.repeating and gql_field.args) else ""
    text = f"{alias}{name}{arguments(draw, doc, gql_field, pools)}{directive(draw, doc)}"
    if is_leaf(get_named_type(gql_field.type)):
        return text
    return f"{text} {selection(draw, doc, schema, gql_field.type, pools, depth + 1)}"


def abstract_selection(
    draw: st.DrawFn,
    doc: Document,
    schema: GraphQLSchema,
    named: GraphQLInterfaceType | GraphQLUnionType,
    pools: Pools,
    depth: int,
) -> str:
    """`__typename`, the interface's own fields, and inline fragments on concrete types."""
    items = ["__typename"] if draw(st.booleans()) else []
    if isinstance(named, GraphQLInterfaceType) and draw(st.booleans()):
        items.append("id")
    possible = sorted(t.name for t in schema.get_possible_types(named))
    for type_name in draw(st.lists(st.sampled_from(possible), max_size=3, unique=True)):
        concrete = schema.get_type(type_name)
        inner = " ".join(object_items(draw, doc, schema, concrete, pools, depth))  # type: ignore[arg-type]
        items.append(f"... on {type_name}{directive(draw, doc)} {{ {inner} }}")
    return "{ " + " ".join(items or ["__typename"]) + " }"


@st.composite
def queries(draw: st.DrawFn, schema: GraphQLSchema, pools: Pools) -> tuple[str, dict[str, Any]]:
    """A query document over one to three root fields, and its variables."""
    doc = Document(plannable=draw(st.booleans()))
    query_type = schema.query_type
    assert query_type is not None
    pool = PLANNED_ROOTS if doc.plannable else ROOTS
    roots = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=3, unique=True))
    items = [field_text(draw, doc, schema, r, query_type.fields[r], pools, 0) for r in roots]
    name = draw(st.sampled_from((None, "Differential", "Page")))
    return doc.text(name, "{ " + " ".join(items) + " }"), doc.values()
