"""`alif-graph demo`: the sandbox bank, the GraphQL server, and a demo customer who links the
bank through the bank's own approval pages inside our consent flow.

Everything runs in one event loop: the sandbox on :8080 and the API on :8000, over real
HTTP (the API talks to the sandbox exactly as to a remote bank). The demo then plays the
customer's browser: our consent pages, "link your Alif account", the bank's login,
review and SMS code, back to our pages, approve. No bank password is stored anywhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from datetime import timedelta

import uvicorn
from pydantic import SecretStr
from rich.console import Console

from connectors.sandbox.app import create_app as create_sandbox
from connectors.sandbox.bank import SandboxBank
from connectors.sandbox.config import SandboxConfig
from connectors.sandbox.nbt_feed import PATH as NBT_PATH
from connectors.sandbox.server import banner
from graph.auth.consent.authorize import MAX_DAYS
from graph.auth.consent.sms import DevelopmentSender
from graph.auth.runtime import AuthConfig
from graph.cli.dev.demo_flow import demo_token
from graph.cli.rates import run_sync
from graph.server.app import create_app
from graph.settings import Settings

console = Console()
SANDBOX_HOST, SANDBOX_PORT = "127.0.0.1", 8080
API_HOST, API_PORT = "127.0.0.1", 8000


@contextlib.asynccontextmanager
async def serving(app: object, host: str, port: int) -> AsyncIterator[uvicorn.Server]:
    """Run an ASGI app with uvicorn inside the current loop until the block ends. The
    process's logging is the caller's (`alif-graph demo` installs graph.server.logs'):
    each server configuring it anew would replace every handler, a test's capture too."""
    config = uvicorn.Config(
        app,  # type: ignore[arg-type]
        host=host,
        port=port,
        log_level="warning",
        log_config=None,
        proxy_headers=False,  # nothing stands in front of the demo
    )
    server = uvicorn.Server(config)
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


def linked_settings(settings: Settings, bank: SandboxBank, bank_url: str) -> Settings:
    """`settings` pointed at the sandbox bank as its registered consumer."""
    return settings.model_copy(
        update={
            "bank_base_url": bank_url,
            "bank_id": bank.bank_id,
            "bank_consumer_key": SecretStr(bank.consumer_key),
        }
    )


async def run_demo(
    settings: Settings,
    *,
    serve_api: bool = True,
    sandbox_port: int = SANDBOX_PORT,
    api_port: int = API_PORT,
) -> None:
    # A fixed seed keeps the demo's data the same from run to run; the bank grants
    # consents as long as ours may last (OBP's own default is an hour).
    sandbox = create_sandbox(
        SandboxConfig(
            seed=42, consent_max_ttl_seconds=int(timedelta(days=MAX_DAYS).total_seconds())
        )
    )
    bank: SandboxBank = sandbox.state.bank
    bank_url = f"http://{SANDBOX_HOST}:{sandbox_port}"
    async with serving(sandbox, SANDBOX_HOST, sandbox_port):
        console.print(banner(bank, bank_url))
        await _serve_api(
            linked_settings(settings, bank, bank_url), bank, api_port=api_port, forever=serve_api
        )


async def sync_demo_rates(settings: Settings, bank: SandboxBank) -> None:
    """NBT's rates for the sandbox's whole history (and the week before it), from the
    sandbox's copy of NBT's feed, as `alif-graph rates sync` would store them."""
    last = bank.as_of.date()
    first = last - timedelta(days=31 * bank.config.months + 7)
    url = f"{settings.bank_base_url}{NBT_PATH}"
    report = await run_sync(settings.database_url, url, first, last)
    console.print(
        f"NBT rates {first}..{last} from the sandbox's feed: {report.published} days "
        f"published, {report.stored} rates stored"
    )


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


async def _serve_api(
    settings: Settings, bank: SandboxBank, *, api_port: int, forever: bool
) -> None:
    """Serve the API, walk the consent flow (linking the bank) for a demo app, print its
    access token."""
    sender = DevelopmentSender(reveal_codes=True)
    app = create_app(settings, auth=AuthConfig(sender=sender))
    api_url = f"http://{API_HOST}:{api_port}"
    async with serving(app, API_HOST, api_port):
        tokens = await demo_token(
            console, api_url=api_url, settings=settings, sender=sender, bank=bank
        )
        await sync_demo_rates(settings, bank)
        console.print("\n[bold]Try it[/bold] (or paste the query into GraphiQL, linked below):")
        console.print(_example(api_url, tokens["access_token"]), soft_wrap=True, highlight=False)
        # The token rides in the fragment, which the browser never sends: not in any log.
        graphiql = f"{api_url}/graphql#token={tokens['access_token']}"
        console.print(f"GraphiQL, signed in: {graphiql}", soft_wrap=True, highlight=False)
        if forever:
            console.print(f"\nGraphQL at {api_url}/graphql; consents at {api_url}/auth/consents")
            await asyncio.Event().wait()  # until Ctrl-C
