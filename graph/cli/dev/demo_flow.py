"""The end of `alif-graph demo`: an app obtains a real access token through the consent
pages of the running API, as a customer would: the development code sender's code, then
"link your Alif account" through the sandbox bank's own approval pages."""

from __future__ import annotations

from typing import Any

import httpx
from rich.console import Console

from connectors.sandbox.bank import SandboxBank
from graph.auth.consent.sms import DevelopmentSender
from graph.auth.oauth import clients
from graph.auth.scopes import ALL_SCOPES
from graph.cli.dev.walkthrough import BankCustomer, obtain_token, sandbox_sca_code
from graph.settings import Settings
from ledger.db import create_engine, session_factory

# Never contacted: the walkthrough reads the code from the redirect itself.
DEMO_REDIRECT_URI = "http://127.0.0.1:8765/callback"
# The demo customer's PIN, chosen at their first approval (development data only).
DEMO_PIN = "428571"


async def demo_token(
    console: Console,
    *,
    api_url: str,
    settings: Settings,
    sender: DevelopmentSender,
    bank: SandboxBank,
) -> dict[str, Any]:
    engine = create_engine(settings.database_url)
    try:
        async with session_factory(engine).begin() as session:
            new = await clients.create(
                session, name="Demo Budget App", redirect_uris=[DEMO_REDIRECT_URI]
            )
    finally:
        await engine.dispose()
    customer = bank.customers[0]
    bank_url = settings.bank_base_url or ""
    console.print(
        f"\n[bold]Consent flow[/bold] for app {new.client.client_id}, customer {customer.phone}"
    )

    def code_for(number: str) -> str | None:
        code = sender.last_code(number)
        console.print(f"one-time code sent to {number}: [bold]{code}[/bold] (development)")
        return code

    async with httpx.AsyncClient(base_url=api_url, timeout=60) as http:

        async def bank_code(consent_request_id: str) -> str:
            code = await sandbox_sca_code(http, bank_url, bank.consumer_key, consent_request_id)
            console.print(
                f"linking at the bank as {customer.username}; the bank's SMS code: "
                f"[bold]{code}[/bold] (sandbox)"
            )
            return code

        tokens = await obtain_token(
            http,
            client_id=new.client.client_id,
            client_secret=new.secret,
            redirect_uri=DEMO_REDIRECT_URI,
            phone=customer.phone,
            pin=DEMO_PIN,
            scopes=ALL_SCOPES,
            code_for=code_for,
            bank=BankCustomer(customer.username, customer.password, bank_code),
        )
    console.print(f"access token (valid {tokens['expires_in']} s, scopes {tokens['scope']}):")
    console.print(tokens["access_token"], soft_wrap=True, highlight=False)
    return tokens
