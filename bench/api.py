"""API benchmark: `transactions` pages through the GraphQL schema, next to a floor.

Builds (or reuses) a ledger of N transactions for one customer with three accounts, then
times, in one process and one run:

- a 100-row and a 1000-row `transactions` page through `schema.execute` in-process (a
  fresh request context each time, the JSON encoded with orjson), and
- the floor: the same keyset SQL sent raw, rows turned into dicts, and orjson producing
  byte-for-byte the same JSON (checked),
- page 1 against page 10,000 (100-row pages; a deep keyset cursor), for both.

    .venv/bin/python -m bench.api                 # N = 1,000,000 on SQLite
    .venv/bin/python -m bench.api --n 100000 --url postgresql+asyncpg://postgres@127.0.0.1/bench

Results go to bench/results/api.json, one entry per database.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import random
import secrets
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, date, datetime, timedelta
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
from graph.settings import Settings
from ledger import consents
from ledger.db import create_engine, is_sqlite, session_factory
from ledger.enrich.taxonomy import canonical
from ledger.models import Account, Connection, Institution, Transaction, User, metadata, table
from ledger.money import format_minor

RESULTS = Path(__file__).parent / "results"
TX = table(Transaction)
SHARES = (0.80, 0.15, 0.05)  # of the N rows, per account
FIRST_DAY = date(2016, 1, 1)
DEEP_PAGE = 10_000

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
        user, connection, account_ids = await _customer(session)
    async with engine.connect() as conn:
        raw = await conn.get_raw_connection()
        writer = _copy_postgres if engine.dialect.name == "postgresql" else _insert_sqlite
        await writer(raw.driver_connection, _rows(n, connection, account_ids))
    async with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            await conn.execute(text("ANALYZE ledger_transaction"))
    print(f"built {n:,} transactions in {time.perf_counter() - started:.1f} s")
    return user, account_ids


async def _customer(session: AsyncSession) -> tuple[int, int, list[int]]:
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
    return user, conn, accounts


_COLUMNS = (
    "connection_id", "external_id", "account_id", "status", "booking_date", "value_date",
    "booked_at", "amount_minor", "currency", "balance_after_minor", "type", "description",
    "category", "category_source", "merchant_name", "mcc", "payload_hash", "created_at",
    "updated_at",
)  # fmt: skip
# Categories stored as the taxonomy codes the sync writes (the API would map a bank's key
# with taxonomy.canonical, which the floor does not do).
_KINDS = tuple(
    (type_, canonical(key), merchant, mcc, description)
    for type_, key, merchant, mcc, description in (
        ("CARD_PAYMENT", "groceries", "Auchan Dushanbe Mall", "5411", "Оплата Auchan"),
        ("CARD_PAYMENT", "restaurants", "Rohat Teahouse", "5812", "Оплата Rohat"),
        ("SERVICE_PAYMENT", "mobile", None, None, "Tcell, пополнение"),
        ("TRANSFER_IN", "remittance_in", None, None, "Перевод из России"),
    )
)


def _rows(n: int, connection: int, accounts: list[int]) -> Any:
    """N rows spread over ten years, with running balances per account, oldest first."""
    rng = random.Random(1)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    for account, share in zip(accounts, SHARES, strict=True):
        count = (
            int(n * share) if account != accounts[-1] else n - sum(int(n * s) for s in SHARES[:-1])
        )
        balance = 10_000_00
        for i in range(count):
            day = FIRST_DAY + timedelta(days=i * 3650 // max(count, 1))
            type_, category, merchant, mcc, description = _KINDS[rng.randrange(len(_KINDS))]
            amount = rng.randint(1_00, 900_00) * (1 if type_ == "TRANSFER_IN" else -1)
            balance += amount
            at = datetime.combine(day, datetime.min.time(), UTC) + timedelta(seconds=i % 86_000)
            yield (
                connection, f"{account}-{i}", account, "BOOKED", day, day, at, amount, "TJS",
                balance, type_, description, category, "PROVIDER", merchant, mcc, "-", now, now,
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


def graphql_page(
    schema: Any,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    principal: Principal,
) -> Callable[[int, str | None], Awaitable[bytes]]:
    async def page(size: int, after: str | None) -> bytes:
        async with sessions() as session:
            context = Context(
                request_id="bench",
                settings=settings,
                principal=principal,
                session=session,
                bank=BankAccess(Keyring(secrets.token_hex(16))),  # never asks a bank
            )
            result = await schema.execute(
                QUERY, variable_values={"first": size, "after": after}, context_value=context
            )
        assert not result.errors, result.errors
        return orjson.dumps({"data": result.data})

    return page


def _b64(textual: str, *, url: bool = False) -> str:
    encode = base64.urlsafe_b64encode if url else base64.b64encode
    return encode(textual.encode()).decode()


FLOOR_COLUMNS = (
    "id, status, booking_date, type, description, amount_minor, currency, "
    "balance_after_minor, category, user_category"
)


def floor_sql(account_ids: list[int]) -> tuple[str, str]:
    """The floor's keyset SQL (the same per-account merge the API runs), first page and
    after a cursor; named parameters :limit, :day, :id, which SQLAlchemy's text() and
    sqlite3 both take."""
    parts = [
        f"SELECT * FROM (SELECT {FLOOR_COLUMNS} FROM ledger_transaction WHERE account_id = {a} "
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


def floor_json(rows: Sequence[Sequence[Any]], size: int, extensions: Any = None) -> bytes:
    """The API's JSON for a page, from rows in FLOOR_COLUMNS order (size + 1 fetched), dicts
    and orjson; `extensions` (the API's over HTTP) after the data when given."""
    edges = []
    for row_id, status, booking_date, type_, description, amount, currency, balance, *codes in rows[
        :size
    ]:
        day = booking_date if isinstance(booking_date, str) else booking_date.isoformat()
        code = codes[1] or codes[0]
        edges.append(
            {
                "cursor": _b64(f"tx|{day}|{row_id}", url=True),
                "node": {
                    "id": _b64(f"Transaction:{row_id}"),
                    "status": status,
                    "bookingDate": day,
                    "type": type_,
                    "description": description,
                    "amount": {"amount": format_minor(amount, currency), "currency": currency},
                    "balanceAfter": None
                    if balance is None
                    else {"amount": format_minor(balance, currency), "currency": currency},
                    "category": None if code is None else {"code": code},
                },
            }
        )
    page_info = {
        "hasNextPage": len(rows) > size,
        "endCursor": edges[-1]["cursor"] if edges else None,
    }
    response: dict[str, Any] = {"data": {"transactions": {"edges": edges, "pageInfo": page_info}}}
    if extensions is not None:
        response["extensions"] = extensions
    return orjson.dumps(response)


def floor_page(
    engine: AsyncEngine, account_ids: list[int]
) -> Callable[[int, str | None], Awaitable[bytes]]:
    """Hand-written keyset SQL (the same per-account merge), dicts, orjson."""
    first, after_ = floor_sql(account_ids)
    first_sql, after_sql = text(first), text(after_)
    sqlite = is_sqlite(str(engine.url))

    async def page(size: int, after: str | None) -> bytes:
        params: dict[str, Any] = {"limit": size + 1}
        sql = first_sql
        if after is not None:
            _, day, row_id = base64.urlsafe_b64decode(after).decode().split("|")
            params |= {"day": day if sqlite else date.fromisoformat(day), "id": int(row_id)}
            sql = after_sql
        async with engine.connect() as conn:
            rows = (await conn.execute(sql, params)).all()
        return floor_json(rows, size)

    return page


async def deep_cursor(engine: AsyncEngine, rows_before: int) -> tuple[str, int]:
    """The cursor after `rows_before` rows in the newest-first order (not timed), and the
    page number it starts; the deepest page there is when N is smaller."""
    async with engine.connect() as conn:
        total = (await conn.execute(select(func.count()).select_from(TX))).scalar_one()
        rows_before = min(rows_before, total - 100)
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


async def timed(page: Callable[[], Awaitable[bytes]], repeat: int) -> dict[str, float]:
    for _ in range(3):
        await page()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        await page()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return {
        "median_ms": round(statistics.median(samples), 3),
        "p90_ms": round(samples[int(len(samples) * 0.9) - 1], 3),
        "min_ms": round(samples[0], 3),
    }


async def run(n: int, url: str, repeat: int) -> dict[str, Any]:
    engine = create_engine(url)
    user, account_ids = await build_ledger(engine, n)
    # The 1000-row page is over the API's default maximum page size.
    settings = Settings(database_url=url, max_page_size=1000, max_query_cost=10**9)
    now = datetime.now(UTC)
    grant = ConsentGrant(
        id=0, client="bench", scopes=frozenset(ALL_SCOPES), account_ids=(),
        status=consents.AUTHORISED, created_at=now, expires_at=now + timedelta(days=1),
    )  # fmt: skip
    principal = Principal(
        user_id=user, phone="+992900000001", locale="ru", consent=grant,
        readable_accounts=tuple(sorted(account_ids)),
    )  # fmt: skip
    schema = build_schema(settings)
    graphql = graphql_page(schema, settings, session_factory(engine), principal)
    floor = floor_page(engine, account_ids)
    cursor, deep_page = await deep_cursor(engine, (DEEP_PAGE - 1) * 100)

    cases: dict[str, tuple[int, str | None]] = {
        "page_100": (100, None),
        "page_1000": (1000, None),
        f"page_100_at_{deep_page}": (100, cursor),
    }
    results: dict[str, Any] = {}
    for name, (size, after) in cases.items():
        same = await graphql(size, after) == await floor(size, after)
        assert same, f"{name}: the floor's JSON differs from the API's"
        runs = repeat if size <= 100 else max(5, repeat // 4)
        api = await timed(lambda s=size, a=after: graphql(s, a), runs)
        base = await timed(lambda s=size, a=after: floor(s, a), runs)
        results[name] = {
            "rows": size,
            "graphql": api,
            "floor": base,
            "ratio": round(api["median_ms"] / base["median_ms"], 2),
        }
    deep = results[f"page_100_at_{deep_page}"]
    await engine.dispose()
    return {
        "n": n,
        "database": engine.dialect.name,
        "accounts": len(account_ids),
        "repeat": repeat,
        "deep_page": deep_page,
        "cases": results,
        "deep_vs_first": {
            "graphql": round(
                deep["graphql"]["median_ms"] / results["page_100"]["graphql"]["median_ms"], 2
            ),
            "floor": round(
                deep["floor"]["median_ms"] / results["page_100"]["floor"]["median_ms"], 2
            ),
        },
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def report(result: dict[str, Any]) -> None:
    where = f"{result['database']} ({result['accounts']} accounts)"
    print(f"\nN = {result['n']:,} transactions on {where}")
    print(f"{'case':<22}{'GraphQL ms':>12}{'floor ms':>10}{'ratio':>8}")
    for name, case in result["cases"].items():
        print(
            f"{name:<22}{case['graphql']['median_ms']:>12.2f}{case['floor']['median_ms']:>10.2f}"
            f"{case['ratio']:>8.2f}"
        )
    ratios = result["deep_vs_first"]
    print(
        f"page {result['deep_page']} / page 1: GraphQL {ratios['graphql']:.2f}, "
        f"floor {ratios['floor']:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="transactions in the ledger")
    parser.add_argument("--url", help="database URL (default: a SQLite file in bench/results)")
    parser.add_argument("--repeat", type=int, default=40, help="timed runs of a 100-row page")
    args = parser.parse_args()
    RESULTS.mkdir(exist_ok=True)
    url = args.url or f"sqlite+aiosqlite:///{RESULTS / f'api-{args.n}.db'}"
    result = asyncio.run(run(args.n, url, args.repeat))
    report(result)
    # One entry per database, so a SQLite run and a PostgreSQL run sit side by side.
    path = RESULTS / "api.json"
    recorded = json.loads(path.read_text()) if path.exists() else {}
    recorded[result["database"]] = result
    path.write_text(json.dumps(recorded, indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
