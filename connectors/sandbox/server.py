"""Run the sandbox bank with uvicorn, after printing how to log in to it; over HTTPS, and
requiring a client certificate (mutual TLS, as OBP deployments do), when asked."""

from __future__ import annotations

import ssl
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import uvicorn

from connectors.sandbox.app import PREFIX, create_app
from connectors.sandbox.bank import SandboxBank
from connectors.sandbox.config import SandboxConfig


@dataclass(frozen=True, slots=True)
class SandboxTls:
    """HTTPS with this certificate and key; with `client_ca_file`, only clients presenting a
    certificate that CA signed complete the handshake."""

    cert_file: Path
    key_file: Path
    client_ca_file: Path | None = None


def uvicorn_config(
    app: Any, host: str, port: int, tls: SandboxTls | None = None, **options: Any
) -> uvicorn.Config:
    """The server's configuration, loaded (the TLS context exists once this returns)."""
    if tls is not None:
        options.update(ssl_certfile=str(tls.cert_file), ssl_keyfile=str(tls.key_file))
        if tls.client_ca_file is not None:
            options.update(ssl_ca_certs=str(tls.client_ca_file), ssl_cert_reqs=ssl.CERT_REQUIRED)
    config = uvicorn.Config(app, host=host, port=port, **options)
    config.load()
    if tls is not None and tls.client_ca_file is not None and config.ssl is not None:
        # asyncio drops a refused handshake without sending the TLS alert. On TLS 1.3 the
        # server judges the client's certificate after the client has sent its request, so
        # the refusal would look like a connection dropped mid-request; on TLS 1.2 it falls
        # inside the handshake, where a client can tell it apart.
        config.ssl.maximum_version = ssl.TLSVersion.TLSv1_2
    return config


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
    tls: SandboxTls | None = None,
    out: TextIO = sys.stdout,
) -> None:
    app = create_app(config)
    scheme = "http" if tls is None else "https"
    print(banner(app.state.bank, f"{scheme}://{host}:{port}"), file=out, flush=True)
    if tls is not None and tls.client_ca_file is not None:
        print(f"  client certificates: required, signed by {tls.client_ca_file}", file=out)
    uvicorn.Server(uvicorn_config(app, host, port, tls, log_level="info")).run()
