"""The node registry: every Node type of the schema is registered once, on its class, and
comes back through `node(id:)`; an id naming anything else is BAD_USER_INPUT."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

import pytest
import strawberry
from aiodataloader import DataLoader
from graphql import GraphQLInterfaceType
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from graph.context import Info
from graph.core.loaders import RequestLoaders
from graph.relay.ids import to_global_id
from graph.relay.node import NODE_TYPES, Node, node
from graph.schema import build_schema
from graph.settings import Settings
from ledger.enrich import rules
from ledger.enrich.rules import RuleSpec
from ledger.types import utcnow

from .helpers import Api, codes, consent_of
from .ledger_data import LedgerData

NODE = "query N($id: ID!) { node(id: $id) { __typename id } }"
NODES = "query N($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }"


def schema_node_types() -> set[str]:
    schema = build_schema(Settings())._schema
    interface = schema.get_type("Node")
    assert isinstance(interface, GraphQLInterfaceType)
    return {t.name for t in schema.get_possible_types(interface)}


def test_every_node_type_of_the_schema_is_registered_and_nothing_else():
    assert schema_node_types() == set(NODE_TYPES)


def test_a_registered_type_keeps_its_scope():
    assert {name: t.scope for name, t in NODE_TYPES.items()} == {
        "Account": "accounts:read",
        "BankConnection": "accounts:read",
        "Card": "cards:read",
        "CategoryRule": "transactions:read",
        "Consent": None,
        "Customer": None,
        "Institution": None,
        "ServicePayment": "payments:read",
        "Transaction": "transactions:read",
        "Transfer": "transfers:read",
    }


async def test_every_registered_type_round_trips_through_node(
    api: Api, ledger: LedgerData, sessions: async_sessionmaker[AsyncSession]
):
    token = await api.token()
    async with sessions.begin() as s:
        spec = RuleSpec(category="FOOD_AND_DRINK_COFFEE", text="coffee")
        rule_id = await rules.create(s, ledger.user_a, spec, now=utcnow())
    pks = {
        "Account": ledger.wallet.id,
        "BankConnection": ledger.wallet.connection_id,
        "Card": ledger.card_ids[0],
        "CategoryRule": rule_id,
        "Consent": consent_of(token),
        "Customer": ledger.user_a,
        "Institution": ledger.institution_id,
        "ServicePayment": ledger.payment_ids[0],
        "Transaction": ledger.wallet.transactions[0]["id"],
        "Transfer": ledger.transfer_ids[0],
    }
    # A type added to the registry must be added here too.
    assert set(pks) == set(NODE_TYPES)

    for type_name, pk in pks.items():
        global_id = to_global_id(type_name, pk)
        body = await api.query(NODE, {"id": global_id}, token=token)

        assert "errors" not in body, (type_name, body)
        assert body["data"]["node"] == {"__typename": type_name, "id": global_id}


async def test_nodes_of_every_type_come_back_in_order(api: Api, ledger: LedgerData):
    token = await api.token()
    ids = [
        to_global_id("Transfer", ledger.transfer_ids[0]),
        to_global_id("Account", ledger.usd.id),
        to_global_id("Customer", ledger.user_a),
        to_global_id("Account", ledger.foreign.id),  # customer B's: null, no error
        to_global_id("Institution", ledger.institution_id),
    ]

    body = await api.query(NODES, {"ids": ids}, token=token)

    assert "errors" not in body
    assert [n and n["id"] for n in body["data"]["nodes"]] == [*ids[:3], None, ids[4]]


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


# "Balance" and "Money" are types of the schema, but not nodes.
@pytest.mark.parametrize("type_name", ["Unheard", "Balance", "Money", "Node", "account"])
async def test_an_id_of_an_unregistered_type_is_bad_user_input(
    api: Api, ledger: LedgerData, type_name: str
):
    given = b64(f"{type_name}:1")

    body = await api.query(NODE, {"id": given})

    assert codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["message"] == f"Malformed ID: {given!r}."
    assert body["data"] == {"node": None}


async def test_one_unregistered_id_fails_the_whole_nodes_list(api: Api, ledger: LedgerData):
    ids = [to_global_id("Account", ledger.wallet.id), b64("Unheard:1")]

    body = await api.query(NODES, {"ids": ids})

    assert codes(body) == ["BAD_USER_INPUT"]
    assert body["data"] is None  # `nodes` is non-null


def test_node_refuses_a_class_that_is_not_a_strawberry_node():
    class Plain(Node):
        pass

    with pytest.raises(TypeError, match=r"above @strawberry\.type"):
        node(scope=None)(Plain)


def test_node_refuses_a_type_that_does_not_say_how_it_is_loaded():
    @strawberry.type(name="Unloadable")
    class Unloadable(Node):
        pass

    with pytest.raises(TypeError, match="must define resolve_node"):
        node(scope=None)(Unloadable)
    assert "Unloadable" not in NODE_TYPES


def test_node_refuses_a_second_type_of_a_registered_name():
    @strawberry.type(name="Account")
    class Impostor(Node):
        @classmethod
        async def resolve_node(cls, info: Info, pk: int) -> Impostor | None:
            return None

    with pytest.raises(TypeError, match="two node types are named Account"):
        node(scope=None)(Impostor)
    assert NODE_TYPES["Account"].cls is not Impostor


class Made(DataLoader[int, int]):
    """A loader that remembers the context it was made from."""

    def __init__(self, context: Any) -> None:
        super().__init__()
        self.context = context

    async def batch_load_fn(self, keys: Sequence[int]) -> list[int]:
        return list(keys)


async def test_request_loaders_make_each_loader_once_per_request():
    first, second = object(), object()
    one, other = RequestLoaders(first), RequestLoaders(second)

    made = one.get(Made)

    assert made.context is first
    assert one.get(Made) is made
    assert other.get(Made) is not made
