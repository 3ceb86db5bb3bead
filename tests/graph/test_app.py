"""Health, readiness, GraphiQL, and the generated schema file."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import httpx
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from graph.schema import build_schema
from graph.server.app import create_app
from graph.settings import Settings
from ledger import migrate
from ledger.db import create_engine

ROOT = Path(__file__).resolve().parents[2]


async def test_health_and_readiness(client: httpx.AsyncClient):
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    assert (await client.get("/readyz")).json() == {"status": "ready"}


async def test_readiness_fails_without_a_database(tmp_path: Path):
    settings = Settings(
        database_url="postgresql+asyncpg://nobody@127.0.0.1:1/none", secret_key="k" * 40
    )
    app = create_app(settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        response = await c.get("/readyz")

    assert response.status_code == 503


async def test_graphiql_is_served_in_development_without_a_token(client: httpx.AsyncClient):
    response = await client.get("/graphql", headers={"Accept": "text/html"})

    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


async def test_graphiql_loads_every_asset_from_this_server(client: httpx.AsyncClient):
    page = (await client.get("/graphql", headers={"Accept": "text/html"})).text

    links = re.findall(r'(?:src|href)="([^"]+)"\s+integrity="(sha384-[^"]+)"', page)
    assert {Path(link).name for link, _ in links} == {
        "graphiql.min.js", "graphiql.min.css", "react.production.min.js",
        "react-dom.production.min.js",
    }  # fmt: skip
    assert "//" not in re.sub(r"<!--.*?-->", "", page.split("<script>")[0], flags=re.S)
    for link, integrity in links:
        asset = await client.get(f"/{link}")
        digest = base64.b64encode(hashlib.sha384(asset.content).digest()).decode()
        assert asset.status_code == 200
        assert integrity == f"sha384-{digest}"


async def test_graphiql_is_off_in_production(settings: Settings, engine: AsyncEngine):
    production = settings.model_copy(update={"env": "production"})
    app = create_app(production, engine=engine)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        response = await c.get("/graphql", headers={"Accept": "text/html"})
        asset = await c.get("/static/graphiql/graphiql.min.js")

    assert response.status_code == 404
    assert asset.status_code == 404


def test_schema_file_is_the_generated_sdl():
    generated = build_schema(Settings()).as_str() + "\n"

    assert (ROOT / "schema.graphql").read_text() == generated


async def _ready(settings: Settings, db_url: str) -> httpx.Response:
    app = create_app(settings.model_copy(update={"database_url": db_url}))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        return await c.get("/readyz")


async def test_readiness_fails_on_a_database_without_tables(settings: Settings, db_url: str):
    response = await _ready(settings, db_url)  # reachable, answers SELECT 1, holds nothing

    assert response.status_code == 503
    assert response.json() == {
        "status": "unavailable",
        "reason": "the database has no tables; run `alif-graph db upgrade`",
    }


async def test_readiness_fails_behind_the_latest_migration(settings: Settings, db_url: str):
    (head,) = migrate.head_revisions()
    previous = ScriptDirectory.from_config(migrate.alembic_config()).get_revision(head)
    engine = create_engine(db_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32))"))
            await conn.execute(
                text("INSERT INTO alembic_version VALUES (:v)"), {"v": previous.down_revision}
            )
    finally:
        await engine.dispose()

    response = await _ready(settings, db_url)

    assert response.status_code == 503
    assert "behind the latest migration" in response.json()["reason"]
