"""The end of `alif-graph demo`: an app obtains a real access token through the consent
pages of the running API, as a customer would, with the development code sender's code."""

from __future__ import annotations

from typing import Any

import httpx
from rich.console import Console

from graph.auth.consent.sms import DevelopmentSender
from graph.auth.oauth import clients
from graph.auth.scopes import ALL_SCOPES
from graph.cli.dev.walkthrough import obtain_token
from ledger.db import create_engine, session_factory

# Never contacted: the walkthrough reads the code from the redirect itself.
DEMO_REDIRECT_URI = "http://127.0.0.1:8765/callback"
# The demo customer's PIN, chosen at their first approval (development data only).
DEMO_PIN = "428571"


async def demo_token(
    console: Console, *, api_url: str, database_url: str, sender: DevelopmentSender, phone: str
) -> dict[str, Any]:
    engine = create_engine(database_url)
    try:
        async with session_factory(engine).begin() as session:
            new = await clients.create(
                session, name="Demo Budget App", redirect_uris=[DEMO_REDIRECT_URI]
            )
    finally:
        await engine.dispose()
    console.print(f"\n[bold]Consent flow[/bold] for app {new.client.client_id}, customer {phone}")

    def code_for(number: str) -> str | None:
        code = sender.last_code(number)
        console.print(f"one-time code sent to {number}: [bold]{code}[/bold] (development)")
        return code

    async with httpx.AsyncClient(base_url=api_url, timeout=60) as http:
        tokens = await obtain_token(
            http,
            client_id=new.client.client_id,
            client_secret=new.secret,
            redirect_uri=DEMO_REDIRECT_URI,
            phone=phone,
            pin=DEMO_PIN,
            scopes=ALL_SCOPES,
            code_for=code_for,
        )
    console.print(f"access token (valid {tokens['expires_in']} s, scopes {tokens['scope']}):")
    console.print(tokens["access_token"], soft_wrap=True, highlight=False)
    return tokens
