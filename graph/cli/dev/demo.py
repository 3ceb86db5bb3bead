"""`alif-graph demo`: the sandbox bank, a linked demo customer, a sync, the GraphQL server.

Everything runs in one event loop: the sandbox on :8080 over real HTTP (the connector talks
to it exactly as to a remote bank), then the API on :8000.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator

import uvicorn
from rich.console import Console
from sqlalchemy import select

from connectors.credentials import Credentials
from connectors.sandbox.app import create_app as create_sandbox
from connectors.sandbox.bank import SandboxBank
from connectors.sandbox.config import SandboxConfig
from connectors.sandbox.server import banner
from graph.auth.consent.sms import DevelopmentSender
from graph.auth.runtime import AuthConfig
from graph.cli.dev.demo_flow import demo_token
from graph.cli.sync import connect_bank, sync_connections
from graph.server.app import create_app
from graph.server.secrets import server_secret
from graph.settings import Settings
from ledger.db import create_engine, session_factory
from ledger.models import Connection, User, table

console = Console()
SANDBOX_HOST, SANDBOX_PORT = "127.0.0.1", 8080
API_HOST, API_PORT = "127.0.0.1", 8000


@contextlib.asynccontextmanager
async def serving(app: object, host: str, port: int) -> AsyncIterator[uvicorn.Server]:
    """Run an ASGI app with uvicorn inside the current loop until the block ends."""
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning"))  # type: ignore[arg-type]
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()  # surfaces "address already in use" and the like
        await asyncio.sleep(0.05)
    try:
        yield server
    finally:
        server.should_exit = True
        await task


async def _demo_connection(settings: Settings, bank: SandboxBank, base_url: str) -> int:
    """The demo customer's connection, created on the first run and reused afterwards."""
    customer = bank.customers[0]
    engine = create_engine(settings.database_url)
    try:
        async with session_factory(engine)() as s:
            users, conns = table(User), table(Connection)
            existing = (
                await s.execute(
                    select(conns.c.id)
                    .join(users, users.c.id == conns.c.user_id)
                    .where(users.c.phone == customer.phone, conns.c.base_url == base_url)
                )
            ).scalar_one_or_none()
    finally:
        await engine.dispose()
    if existing is not None:
        return int(existing)
    creds = Credentials(
        consumer_key=bank.consumer_key, username=customer.username, password=customer.password
    )
    return await connect_bank(
        "alif",
        base_url=base_url,
        creds=creds,
        bank_id=bank.bank_id,
        phone=customer.phone,
        database_url=settings.database_url,
        secret=server_secret(settings),
    )


async def run_demo(settings: Settings, *, serve_api: bool = True) -> None:
    # A fixed seed and as-of day keep the demo's data the same from run to run.
    sandbox = create_sandbox(SandboxConfig(seed=42))
    bank: SandboxBank = sandbox.state.bank
    base_url = f"http://{SANDBOX_HOST}:{SANDBOX_PORT}"
    async with serving(sandbox, SANDBOX_HOST, SANDBOX_PORT):
        console.print(banner(bank, base_url))
        connection_id = await _demo_connection(settings, bank, base_url)
        console.print(f"\n[bold]Syncing[/bold] connection {connection_id} ...")
        (report,) = await sync_connections(
            [connection_id],
            full=False,
            database_url=settings.database_url,
            secret=server_secret(settings),
            linking=True,  # the demo links the bank now, before the customer's consent
        )
        stats = report.stats
        console.print(
            f"sync {report.status}: {stats.pages} pages, {stats.inserted} inserted, "
            f"{stats.changed} changed, {stats.unchanged} unchanged, {stats.issues} issues"
        )
        await _serve_api(settings, phone=bank.customers[0].phone, forever=serve_api)


EXAMPLE_QUERY = (
    "{ accounts(first: 5) { edges { node { name currency "
    "balances { type amount { amount currency } } "
    "transactions(first: 3) { edges { node { bookingDate amount { amount currency } "
    "description category { code label(locale: RU) } } } } } } } }"
)


def _example(api_url: str, token: str) -> str:
    body = json.dumps({"query": EXAMPLE_QUERY})
    return (
        f"curl -s {api_url}/graphql -H 'Content-Type: application/json' "
        f"-H 'Authorization: Bearer {token}' -d '{body}'"
    )


async def _serve_api(settings: Settings, *, phone: str, forever: bool) -> None:
    """Serve the API, walk the consent flow for a demo app, print its access token."""
    sender = DevelopmentSender(reveal_codes=True)
    app = create_app(settings, auth=AuthConfig(sender=sender))
    api_url = f"http://{API_HOST}:{API_PORT}"
    async with serving(app, API_HOST, API_PORT):
        tokens = await demo_token(
            console, api_url=api_url, database_url=settings.database_url, sender=sender, phone=phone
        )
        console.print("\n[bold]Try it[/bold] (or paste the query into GraphiQL with the header):")
        console.print(_example(api_url, tokens["access_token"]), soft_wrap=True, highlight=False)
        if forever:
            console.print(f"\nGraphQL at {api_url}/graphql; consents at {api_url}/auth/consents")
            await asyncio.Event().wait()  # until Ctrl-C
