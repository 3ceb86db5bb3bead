"""Run the sandbox bank with uvicorn, after printing how to log in to it."""

from __future__ import annotations

import sys
from typing import TextIO

import uvicorn

from connectors.sandbox.app import PREFIX, create_app
from connectors.sandbox.bank import SandboxBank
from connectors.sandbox.config import SandboxConfig


def banner(bank: SandboxBank, base_url: str) -> str:
    """What a demo needs: where the bank is, who can log in, and the consumer key."""
    lines = [
        f"Alif sandbox bank (OBP {PREFIX.rsplit('/', 1)[-1]}), seed {bank.config.seed}",
        f"  base URL:      {base_url}",
        f"  OBP API:       {base_url}{PREFIX}",
        f"  bank id:       {bank.bank_id}",
        f"  consumer key:  {bank.consumer_key}",
        f"  data as of:    {bank.as_of.isoformat()}",
        "  customers (username / password):",
    ]
    for customer in bank.customers:
        lines.append(
            f"    {customer.username:<12} {customer.password:<18} "
            f"{customer.display_name} ({customer.archetype}, {customer.phone})"
        )
        for account in bank.accounts_of(customer.username):
            lines.append(f"        {account.currency} {account.number}  {account.label}")
    return "\n".join(lines)


def run(
    config: SandboxConfig,
    host: str = "127.0.0.1",
    port: int = 8080,
    *,
    out: TextIO = sys.stdout,
) -> None:
    app = create_app(config)
    print(banner(app.state.bank, f"http://{host}:{port}"), file=out, flush=True)
    uvicorn.run(app, host=host, port=port, log_level="info")
