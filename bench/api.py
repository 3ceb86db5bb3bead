"""API benchmark: `transactions` pages through the GraphQL schema, next to a floor.

Builds (or reuses) a ledger of N transactions for one customer with three accounts (cards
on two of them, counterparties on remittances and service payments), then times, in one
process and one run, alternating sample by sample:

- a 100-row and a 1000-row `transactions` page through `schema.execute` in-process (a
  fresh request context each time, the JSON encoded with orjson), and
- the floor: the same keyset SQL sent raw, rows turned into dicts, and orjson producing
  byte-for-byte the same JSON (checked),
- page 1 against page 10,000 (100-row pages; a deep keyset cursor), for both,
- a 100-row page selecting the nested relations (category with primary and label,
  counterparty, merchant, account, card); its floor joins account and card onto the page.

With --compare-fast every case runs through two APIs, one with the GraphQL execution fast
path on and one with it off (Settings.fast_execution; the same executor twice where this
tree has no such setting), beside the one floor.

The process's garbage collector is tuned as `serve` tunes each worker's once its app is
built (graph.server.runtime: startup objects frozen, the youngest generation collected less
often), for the API and the floor alike; --untuned-gc leaves Python's defaults.

    .venv/bin/python -m bench.api                 # N = 1,000,000 on SQLite
    .venv/bin/python -m bench.api --n 100000 --compare-fast \
        --url postgresql+asyncpg://postgres@127.0.0.1/bench

Results go to bench/results/api.json, one entry per database (and `<database>_compare_fast`).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import random
import secrets
import statistics
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from connectors.bank_access import BankAccess
from connectors.keys import Keyring
from graph.auth.principal import ConsentGrant, Principal
from graph.auth.scopes import ALL_SCOPES
from graph.context import Context
from graph.schema import build_schema
from graph.server.runtime import tune_collector
from graph.settings import Settings
from ledger import consents
from ledger.db import create_engine, is_sqlite, session_factory
from ledger.enrich import taxonomy
from ledger.models import Account, Card, Connection, Institution, Transaction, User, metadata, table
from ledger.money import format_minor

RESULTS = Path(__file__).parent / "results"
TX = table(Transaction)
SHARES = (0.80, 0.15, 0.05)  # of the N rows, per account
FIRST_DAY = date(2016, 1, 1)
DEEP_PAGE = 10_000
# Part of the SQLite file's name: bumped when the generated rows change, so an older file is
# not reused (2: cards and counterparties on some rows).
LEDGER_VERSION = 2

QUERY = """
query Page($first: Int!, $after: String) {
  transactions(first: $first, after: $after) {
    edges {
      cursor
      node {
        id status bookingDate type description
        amount { amount currency }
        balanceAfter { amount currency }
        category { code }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}
"""
# The same page with the relations a statement view shows next to each row: the category's
# primary and label (in the customer's language), counterparty, merchant, account, card.
NESTED_QUERY = """
query NestedPage($first: Int!, $after: String) {
  transactions(first: $first, after: $after) {
    edges {
      cursor
      node {
        id status bookingDate type description
        amount { amount currency }
        balanceAfter { amount currency }
        category { code primary label }
        counterparty { name accountMasked bank country }
        merchant { name mcc }
        account { id name numberMasked currency }
        card { id scheme panMasked status }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}
"""
LOCALE = "ru"  # the customer's, so category labels come in Russian


# --- the ledger ----------------------------------------------------------------------------


async def build_ledger(engine: AsyncEngine, n: int) -> tuple[int, list[int]]:
    """The customer and their account ids; rows are only inserted when not there yet."""
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
    sessions = session_factory(engine)
    async with sessions() as session:
        existing = (await session.execute(select(func.count()).select_from(TX))).scalar_one()
        accounts = (await session.execute(select(table(Account).c.id).order_by("id"))).scalars()
        account_ids = list(accounts)
        user = (await session.execute(select(table(User).c.id))).scalars().first()
    if existing == n and user is not None and len(account_ids) == len(SHARES):
        return user, account_ids
    if existing:
        raise SystemExit(f"the database holds {existing} transactions, not {n}: use a fresh one")
    started = time.perf_counter()
    async with sessions.begin() as session:
        user, connection, cards = await _customer(session)
    account_ids = list(cards)
    async with engine.connect() as conn:
        raw = await conn.get_raw_connection()
        writer = _copy_postgres if engine.dialect.name == "postgresql" else _insert_sqlite
        await writer(raw.driver_connection, _rows(n, connection, cards))
    async with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            await conn.execute(text("ANALYZE ledger_transaction"))
    print(f"built {n:,} transactions in {time.perf_counter() - started:.1f} s")
    return user, account_ids


async def _customer(session: AsyncSession) -> tuple[int, int, dict[int, list[int]]]:
    """The customer, their connection, and each account's card ids."""

    async def add(model: Any, **values: Any) -> int:
        t = table(model)
        return int(
            (await session.execute(insert(t).values(**values).returning(t.c.id))).scalar_one()
        )

    inst = await add(Institution, code="alif", name="Alif Bank", country="TJ")
    user = await add(User, phone="+992900000001")
    conn = await add(
        Connection, user_id=user, institution_id=inst, provider="alif", base_url="http://sandbox",
        bank_id="alif.tj", credentials_encrypted=b"-",
    )  # fmt: skip
    accounts = []
    for i in range(len(SHARES)):
        account = await add(
            Account, connection_id=conn, external_id=f"a{i}", institution_id=inst, user_id=user,
            type="WALLET", name=f"Account {i}", number_masked=f"••••860{i}", currency="TJS",
            payload_hash="-",
        )  # fmt: skip
        accounts.append(account)
    cards: dict[int, list[int]] = {account: [] for account in accounts}
    for i, (account_index, scheme, pan) in enumerate(_CARDS):
        account = accounts[account_index]
        card = await add(
            Card, connection_id=conn, external_id=f"c{i}", account_id=account, scheme=scheme,
            pan_masked=pan, holder_name="RUSTAM KARIMOV", expires_on="09/29", status="ACTIVE",
            payload_hash="-",
        )  # fmt: skip
        cards[account].append(card)
    return user, conn, cards


_COLUMNS = (
    "connection_id", "external_id", "account_id", "status", "booking_date", "value_date",
    "booked_at", "amount_minor", "currency", "balance_after_minor", "type", "description",
    "category", "category_source", "merchant_name", "mcc", "card_id", "counterparty_name",
    "counterparty_account", "counterparty_bank", "counterparty_country", "payload_hash",
    "created_at", "updated_at",
)  # fmt: skip
# (index into the accounts, scheme, masked PAN): two cards on the main wallet, one on the
# second account, none on the third, so card payments there have no card.
_CARDS = (
    (0, "VISA", "416958******4417"),
    (0, "KORTI_MILLI", "905762******0312"),
    (1, "MASTERCARD", "539923******8851"),
)
# (name, account, bank, country); None where a bank leaves a part out.
_SENDERS = (
    ("Каримов Рустам", "408178******2290", "Сбербанк", "RU"),
    ("Saidova Malika", "****7731", "Tinkoff", "RU"),
    ("Олимов Фаррух", None, None, "KZ"),
)
# Categories stored as the taxonomy codes the sync writes (the API would map a bank's key
# with taxonomy.canonical, which the floor does not do). A service payment names its
# provider as the counterparty; a remittance its sender (drawn from _SENDERS).
_KINDS = tuple(
    (type_, taxonomy.canonical(key), merchant, mcc, description, payee)
    for type_, key, merchant, mcc, description, payee in (
        ("CARD_PAYMENT", "groceries", "Auchan Dushanbe Mall", "5411", "Оплата Auchan", None),
        ("CARD_PAYMENT", "restaurants", "Rohat Teahouse", "5812", "Оплата Rohat", None),
        ("SERVICE_PAYMENT", "mobile", None, None, "Tcell, пополнение", "Tcell"),
        ("TRANSFER_IN", "remittance_in", None, None, "Перевод из России", None),
    )
)


def _rows(n: int, connection: int, cards: dict[int, list[int]]) -> Any:
    """N rows spread over ten years, with running balances per account, oldest first; card
    payments on an account with cards carry one of them, remittances a sender."""
    rng = random.Random(1)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    accounts = list(cards)
    for account, share in zip(accounts, SHARES, strict=True):
        count = (
            int(n * share) if account != accounts[-1] else n - sum(int(n * s) for s in SHARES[:-1])
        )
        balance = 10_000_00
        for i in range(count):
            day = FIRST_DAY + timedelta(days=i * 3650 // max(count, 1))
            type_, category, merchant, mcc, description, payee = _KINDS[rng.randrange(len(_KINDS))]
            amount = rng.randint(1_00, 900_00) * (1 if type_ == "TRANSFER_IN" else -1)
            balance += amount
            at = datetime.combine(day, datetime.min.time(), UTC) + timedelta(seconds=i % 86_000)
            card = (
                rng.choice(cards[account]) if type_ == "CARD_PAYMENT" and cards[account] else None
            )
            sender = _SENDERS[rng.randrange(len(_SENDERS))] if type_ == "TRANSFER_IN" else None
            counterparty = sender or (payee, None, None, None)
            yield (
                connection, f"{account}-{i}", account, "BOOKED", day, day, at, amount, "TJS",
                balance, type_, description, category, "PROVIDER", merchant, mcc, card,
                *counterparty, "-", now, now,
            )  # fmt: skip


async def _insert_sqlite(raw: Any, rows: Any) -> None:
    def sqlite_value(value: Any) -> Any:
        # The ledger's SQLite encodings: ISO dates, naive UTC timestamps.
        if isinstance(value, datetime):
            return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ")
        if isinstance(value, date):
            return value.isoformat()
        return value

    placeholders = ", ".join("?" for _ in _COLUMNS)
    sql = f"INSERT INTO ledger_transaction ({', '.join(_COLUMNS)}) VALUES ({placeholders})"
    batch: list[tuple[Any, ...]] = []
    for row in rows:
        batch.append(tuple(sqlite_value(v) for v in row))
        if len(batch) == 50_000:
            await raw.executemany(sql, batch)
            batch.clear()
    if batch:
        await raw.executemany(sql, batch)
    await raw.commit()


async def _copy_postgres(raw: Any, rows: Any) -> None:
    await raw.copy_records_to_table("ledger_transaction", records=rows, columns=list(_COLUMNS))


# --- the two paths -------------------------------------------------------------------------

Page = Callable[[int, str | None], Awaitable[bytes]]


def graphql_page(
    schema: Any,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    principal: Principal,
    query: str,
) -> Page:
    bank = BankAccess(Keyring(secrets.token_hex(16)))  # never asks a bank

    async def page(size: int, after: str | None) -> bytes:
        async with sessions() as session:
            context = Context(
                request_id="bench",
                settings=settings,
                principal=principal,
                session=session,
                bank=bank,
            )
            result = await schema.execute(
                query, variable_values={"first": size, "after": after}, context_value=context
            )
        assert not result.errors, result.errors
        return orjson.dumps({"data": result.data})

    return page


def _b64(textual: str, *, url: bool = False) -> str:
    encode = base64.urlsafe_b64encode if url else base64.b64encode
    return encode(textual.encode()).decode()


def _money(minor: int, currency: str) -> dict[str, str]:
    return {"amount": format_minor(minor, currency), "currency": currency}


FLOOR_COLUMNS = (
    "id, status, booking_date, type, description, amount_minor, currency, "
    "balance_after_minor, category, user_category"
)


def floor_sql(account_ids: list[int], columns: str = FLOOR_COLUMNS) -> tuple[str, str]:
    """The floor's keyset SQL (the same per-account merge the API runs), first page and
    after a cursor; named parameters :limit, :day, :id, which SQLAlchemy's text() and
    sqlite3 both take."""
    parts = [
        f"SELECT * FROM (SELECT {columns} FROM ledger_transaction WHERE account_id = {a} "
        f"AND superseded_at IS NULL AND removed_at IS NULL {{bound}} "
        "ORDER BY booking_date DESC, id DESC LIMIT :limit) "
        f"AS a{a}"
        for a in account_ids
    ]
    template = " UNION ALL ".join(parts) + " ORDER BY booking_date DESC, id DESC LIMIT :limit"
    return (
        template.replace("{bound}", ""),
        template.replace("{bound}", "AND (booking_date, id) < (:day, :id)"),
    )


def _flat_node(row: Sequence[Any]) -> dict[str, Any]:
    """QUERY's node from a row in FLOOR_COLUMNS order (further columns ignored)."""
    row_id, status, booking_date, type_, description, amount, currency, balance = row[:8]
    code = row[9] or row[8]  # the customer's own category first
    day = booking_date if isinstance(booking_date, str) else booking_date.isoformat()
    return {
        "id": _b64(f"Transaction:{row_id}"),
        "status": status,
        "bookingDate": day,
        "type": type_,
        "description": description,
        "amount": _money(amount, currency),
        "balanceAfter": None if balance is None else _money(balance, currency),
        "category": None if code is None else {"code": code},
    }


def floor_json(
    rows: Sequence[Sequence[Any]],
    size: int,
    extensions: Any = None,
    node: Callable[[Sequence[Any]], dict[str, Any]] = _flat_node,
) -> bytes:
    """The API's JSON for a page (size + 1 rows fetched), each row's node made by `node`
    (QUERY's by default), dicts and orjson; `extensions` (the API's over HTTP) after the
    data when given."""
    edges = []
    for row in rows[:size]:
        fields = node(row)
        edges.append(
            {"cursor": _b64(f"tx|{fields['bookingDate']}|{row[0]}", url=True), "node": fields}
        )
    page_info = {
        "hasNextPage": len(rows) > size,
        "endCursor": edges[-1]["cursor"] if edges else None,
    }
    response: dict[str, Any] = {"data": {"transactions": {"edges": edges, "pageInfo": page_info}}}
    if extensions is not None:
        response["extensions"] = extensions
    return orjson.dumps(response)


# The nested page's extra columns: the row's own (counterparty, merchant, the links), then
# its account's and its card's, joined onto the 101 rows of the page.
NESTED_COLUMNS = (
    "counterparty_name, counterparty_account, counterparty_bank, counterparty_country, "
    "merchant_name, mcc, account_id, card_id"
)
_JOINED = "acct.name, acct.number_masked, acct.currency, card.scheme, card.pan_masked, card.status"


def nested_floor_sql(account_ids: list[int]) -> tuple[str, str]:
    """floor_sql's page with NESTED_COLUMNS, joined to the account and (when there is one)
    the card in the same statement: one round trip, as a hand with the raw driver would."""
    first, after = (
        f"SELECT p.*, {_JOINED} FROM ({page}) AS p "
        "JOIN account AS acct ON acct.id = p.account_id "
        "LEFT JOIN card ON card.id = p.card_id "
        "ORDER BY p.booking_date DESC, p.id DESC"
        for page in floor_sql(account_ids, f"{FLOOR_COLUMNS}, {NESTED_COLUMNS}")
    )
    return first, after


def _nested_node(row: Sequence[Any]) -> dict[str, Any]:
    """NESTED_QUERY's node from a row of nested_floor_sql."""
    fields = _flat_node(row)
    (
        cp_name, cp_account, cp_bank, cp_country, merchant, mcc, account_id, card_id,
        account_name, account_number, account_currency, scheme, pan, card_status,
    ) = row[10:]  # fmt: skip
    if fields["category"] is not None:
        code = fields["category"]["code"]
        # Reference data, not GraphQL work: the same lookups the API's Category makes.
        fields["category"] |= {
            "primary": taxonomy.primary_of(code),
            "label": taxonomy.label(code, LOCALE),
        }
    counterparty = (cp_name, cp_account, cp_bank, cp_country)
    fields["counterparty"] = (
        None
        if counterparty == (None, None, None, None)
        else dict(zip(("name", "accountMasked", "bank", "country"), counterparty, strict=True))
    )
    fields["merchant"] = None if not (merchant or mcc) else {"name": merchant, "mcc": mcc}
    fields["account"] = {
        "id": _b64(f"Account:{account_id}"),
        "name": account_name,
        "numberMasked": account_number,
        "currency": account_currency,
    }
    fields["card"] = (
        None
        if card_id is None
        else {
            "id": _b64(f"Card:{card_id}"),
            "scheme": scheme,
            "panMasked": pan,
            "status": card_status,
        }
    )
    return fields


def nested_floor_json(rows: Sequence[Sequence[Any]], size: int) -> bytes:
    return floor_json(rows, size, node=_nested_node)


def floor_page(
    engine: AsyncEngine,
    sql: tuple[str, str],
    to_json: Callable[[Sequence[Sequence[Any]], int], bytes],
) -> Page:
    """Hand-written keyset SQL (first page, after a cursor), dicts, orjson."""
    first_sql, after_sql = text(sql[0]), text(sql[1])
    sqlite = is_sqlite(str(engine.url))

    async def page(size: int, after: str | None) -> bytes:
        params: dict[str, Any] = {"limit": size + 1}
        statement = first_sql
        if after is not None:
            _, day, row_id = base64.urlsafe_b64decode(after).decode().split("|")
            params |= {"day": day if sqlite else date.fromisoformat(day), "id": int(row_id)}
            statement = after_sql
        async with engine.connect() as conn:
            rows = (await conn.execute(statement, params)).all()
        return to_json(rows, size)

    return page


async def deep_cursor(engine: AsyncEngine, rows_before: int) -> tuple[str, int]:
    """The cursor after `rows_before` rows in the newest-first order (not timed), and the
    page number it starts; at most 90 % of the way down when N is smaller. Not the last
    page: near the oldest rows each account has fewer than a page left, so the merge reads
    fewer rows than page 1's (a third of them at the very end), and a deep page would look
    cheaper than it is."""
    async with engine.connect() as conn:
        total = (await conn.execute(select(func.count()).select_from(TX))).scalar_one()
        rows_before = min(rows_before, total * 9 // 10)
        row = (
            await conn.execute(
                select(TX.c.booking_date, TX.c.id)
                .order_by(TX.c.booking_date.desc(), TX.c.id.desc())
                .offset(rows_before - 1)
                .limit(1)
            )
        ).one()
    return _b64(f"tx|{row.booking_date.isoformat()}|{row.id}", url=True), rows_before // 100 + 1


# --- timing --------------------------------------------------------------------------------


async def timed(
    paths: Mapping[str, Callable[[], Awaitable[bytes]]], repeat: int
) -> dict[str, dict[str, float]]:
    """Each path's timings over `repeat` rounds; in each round every path runs once, the
    one going first rotating, so a drift in the machine's load falls on all alike."""
    for page in paths.values():
        for _ in range(3):
            await page()
    names = list(paths)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for round_ in range(repeat):
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:
            started = time.perf_counter()
            await paths[name]()
            samples[name].append((time.perf_counter() - started) * 1000)
    return {name: _summary(taken) for name, taken in samples.items()}


def _summary(samples: list[float]) -> dict[str, float]:
    samples = sorted(samples)
    return {
        "median_ms": round(statistics.median(samples), 3),
        "p90_ms": round(samples[int(len(samples) * 0.9) - 1], 3),
        "min_ms": round(samples[0], 3),
    }


# graph.settings.Settings' switch of the GraphQL execution fast path; a tree without it
# runs the standard executor under both labels of --compare-fast.
FAST_SETTING = "fast_execution"
# The goals, API/floor at the median.
GOALS = {"page_100": 2.5, "nested_100": 3.5}


def api_settings(url: str, fast: bool | None) -> Settings:
    """The API's settings for the run; `fast` sets the fast path's switch when Settings has
    one (None: leave it to its default and the environment)."""
    # The 1000-row page is over the API's default maximum page size.
    options: dict[str, Any] = {"database_url": url, "max_page_size": 1000, "max_query_cost": 10**9}
    if fast is not None and FAST_SETTING in Settings.model_fields:
        options[FAST_SETTING] = fast
    return Settings(**options)


def _has_relations(body: bytes) -> bool:
    """Whether a nested page shows a card and a counterparty somewhere (a ledger built by
    an older version of this file has neither, and would time nulls)."""
    nodes = [edge["node"] for edge in orjson.loads(body)["data"]["transactions"]["edges"]]
    return any(n["card"] for n in nodes) and any(n["counterparty"] for n in nodes)


async def run(n: int, url: str, repeat: int, compare_fast: bool, tuned_gc: bool) -> dict[str, Any]:
    load_before = os.getloadavg()
    engine = create_engine(url)
    user, account_ids = await build_ledger(engine, n)
    now = datetime.now(UTC)
    grant = ConsentGrant(
        id=0, client="bench", scopes=frozenset(ALL_SCOPES), account_ids=(),
        status=consents.AUTHORISED, created_at=now, expires_at=now + timedelta(days=1),
    )  # fmt: skip
    principal = Principal(
        user_id=user, phone="+992900000001", locale=LOCALE, consent=grant,
        readable_accounts=tuple(sorted(account_ids)),
    )  # fmt: skip
    sessions = session_factory(engine)
    variants = {"fast": True, "standard": False} if compare_fast else {"graphql": None}
    apis: dict[str, dict[str, Page]] = {}
    for label, fast in variants.items():
        settings = api_settings(url, fast)
        schema = build_schema(settings)
        apis[label] = {
            query: graphql_page(schema, settings, sessions, principal, query)
            for query in (QUERY, NESTED_QUERY)
        }
    if tuned_gc:
        tune_collector()  # as each worker of `serve` does once its app is built
    flat = floor_page(engine, floor_sql(account_ids), floor_json)
    nested = floor_page(engine, nested_floor_sql(account_ids), nested_floor_json)
    cursor, deep_page = await deep_cursor(engine, (DEEP_PAGE - 1) * 100)

    cases: dict[str, tuple[str, Page, int, str | None]] = {
        "page_100": (QUERY, flat, 100, None),
        "page_1000": (QUERY, flat, 1000, None),
        f"page_100_at_{deep_page}": (QUERY, flat, 100, cursor),
        "nested_100": (NESTED_QUERY, nested, 100, None),
    }
    results: dict[str, Any] = {}
    for name, (query, floor, size, after) in cases.items():
        expected = await floor(size, after)
        for label, pages in apis.items():
            same = await pages[query](size, after) == expected
            assert same, f"{name}: the floor's JSON differs from the API's ({label})"
        if query == NESTED_QUERY and not _has_relations(expected):
            raise SystemExit("the ledger has no cards or counterparties: rebuild it")
        paths = {label: partial(pages[query], size, after) for label, pages in apis.items()}
        paths["floor"] = partial(floor, size, after)
        timings = await timed(paths, repeat if size <= 100 else max(5, repeat // 4))
        base = timings.pop("floor")
        results[name] = {
            "rows": size,
            "floor": base,
            "api": timings,
            "ratio": {
                label: round(api["median_ms"] / base["median_ms"], 2)
                for label, api in timings.items()
            },
        }
    await engine.dispose()

    def deep_vs_first(timing: Any) -> float:
        deep, first = timing(results[f"page_100_at_{deep_page}"]), timing(results["page_100"])
        return round(deep["median_ms"] / first["median_ms"], 2)

    return {
        "n": n,
        "database": engine.dialect.name,
        "accounts": len(account_ids),
        "repeat": repeat,
        "deep_page": deep_page,
        "fast_execution_setting": FAST_SETTING in Settings.model_fields,
        "tuned_gc": tuned_gc,
        "cases": results,
        "deep_vs_first": {
            label: deep_vs_first(lambda case, label=label: case["api"][label]) for label in apis
        }
        | {"floor": deep_vs_first(lambda case: case["floor"])},
        "load_average": {"before": load_before, "after": os.getloadavg()},
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _ratio(ratio: float, goal: float | None) -> str:
    verdict = "" if goal is None else " met" if ratio <= goal else " not met"
    return f"{ratio:.2f}{verdict}".rjust(18)


def report(result: dict[str, Any]) -> None:
    where = f"{result['database']} ({result['accounts']} accounts)"
    print(f"\nN = {result['n']:,} transactions on {where}")
    if not result["fast_execution_setting"]:
        print(f"(Settings has no {FAST_SETTING}: every API column is the standard executor)")
    labels = list(result["cases"]["page_100"]["api"])
    header = "".join(f"{label + ' ms':>14}" for label in labels)
    ratios = "".join(f"{label + '/floor':>18}" for label in labels)
    print(f"{'case':<22}{header}{'floor ms':>10}{ratios}")
    for name, case in result["cases"].items():
        times = "".join(f"{case['api'][label]['median_ms']:>14.2f}" for label in labels)
        goal = GOALS.get(name)
        marks = "".join(_ratio(case["ratio"][label], goal) for label in labels)
        print(f"{name:<22}{times}{case['floor']['median_ms']:>10.2f}{marks}")
    deep = ", ".join(f"{label} {ratio:.2f}" for label, ratio in result["deep_vs_first"].items())
    print(f"page {result['deep_page']} / page 1: {deep}")
    print("goals (API/floor): " + ", ".join(f"{k} <= {v}" for k, v in GOALS.items()))
    before, after = (
        ", ".join(f"{x:.2f}" for x in result["load_average"][when]) for when in ("before", "after")
    )
    print(f"load average (1, 5, 15 min): {before} before, {after} after")
    if not result["tuned_gc"]:
        print("garbage collector untuned (serve tunes it)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="transactions in the ledger")
    parser.add_argument("--url", help="database URL (default: a SQLite file in bench/results)")
    parser.add_argument("--repeat", type=int, default=40, help="timed runs of a 100-row page")
    parser.add_argument(
        "--compare-fast", action="store_true",
        help=f"time the API with {FAST_SETTING} on and off, alternating, beside the floor",
    )  # fmt: skip
    parser.add_argument(
        "--untuned-gc", action="store_true",
        help="leave the garbage collector as Python sets it (serve tunes it: graph.server.runtime)",
    )  # fmt: skip
    args = parser.parse_args()
    RESULTS.mkdir(exist_ok=True)
    url = args.url or f"sqlite+aiosqlite:///{RESULTS / f'api-v{LEDGER_VERSION}-{args.n}.db'}"
    result = asyncio.run(run(args.n, url, args.repeat, args.compare_fast, not args.untuned_gc))
    report(result)
    # One entry per database (and per mode), so runs sit side by side.
    path = RESULTS / "api.json"
    recorded = json.loads(path.read_text()) if path.exists() else {}
    key = result["database"] + ("_compare_fast" if args.compare_fast else "")
    key += "_untuned_gc" if args.untuned_gc else ""
    recorded[key] = result
    path.write_text(json.dumps(recorded, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
