"""`python -m connectors.sandbox --port 8080 --seed 42`: serve the sandbox bank."""

from __future__ import annotations

import argparse
import logging
import sqlite3
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from connectors.sandbox.config import FaultConfig, SandboxConfig
from connectors.sandbox.server import SandboxTls, run


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m connectors.sandbox", description="A simulated Alif Bank speaking OBP."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--customers", type=int, default=3)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument(
        "--transactions-per-account",
        type=int,
        default=None,
        help="exactly this many per account (default: a realistic volume)",
    )
    parser.add_argument(
        "--as-of", type=date.fromisoformat, default=None, help="YYYY-MM-DD (default: now)"
    )
    parser.add_argument("--bank-id", default="alif.tj")
    parser.add_argument("--consent-max-ttl", type=int, default=3600, help="seconds")
    parser.add_argument("--rate-limit-per-minute", type=int, default=None)
    parser.add_argument("--error-rate", type=float, default=0.0)
    parser.add_argument("--latency-ms", type=int, default=0)
    parser.add_argument("--no-admin", action="store_true", help="do not serve /sandbox/admin")
    parser.add_argument(
        "--state-file",
        type=Path,
        default=None,
        help="a SQLite file keeping the consents the bank grants across restarts",
    )
    parser.add_argument("--tls-cert", type=Path, help="serve HTTPS with this PEM certificate")
    parser.add_argument("--tls-key", type=Path, help="the key of --tls-cert")
    parser.add_argument(
        "--client-ca",
        type=Path,
        help="require a client certificate signed by this CA (mutual TLS; needs --tls-cert)",
    )
    args = parser.parse_args(argv)
    if (args.tls_cert is None) != (args.tls_key is None):
        parser.error("--tls-cert and --tls-key go together")
    if args.client_ca is not None and args.tls_cert is None:
        parser.error("--client-ca needs --tls-cert and --tls-key")
    return args


def parse_tls(argv: Sequence[str] | None = None) -> SandboxTls | None:
    """HTTPS (and mutual TLS) from the same flags; None serves plain HTTP."""
    args = _parse(argv)
    if args.tls_cert is None:
        return None
    return SandboxTls(args.tls_cert, args.tls_key, client_ca_file=args.client_ca)


def parse_args(argv: Sequence[str] | None = None) -> tuple[SandboxConfig, str, int]:
    args = _parse(argv)
    faults = FaultConfig(
        rate_limit_per_minute=args.rate_limit_per_minute,
        error_rate=args.error_rate,
        latency_ms=args.latency_ms,
    )
    config = SandboxConfig(
        seed=args.seed,
        customers=args.customers,
        months=args.months,
        transactions_per_account=args.transactions_per_account,
        as_of=args.as_of,
        bank_id=args.bank_id,
        consent_max_ttl_seconds=args.consent_max_ttl,
        faults=faults,
        admin_enabled=not args.no_admin,
        state_file=args.state_file,
    )
    return config, args.host, args.port


def main(argv: Sequence[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    config, host, port = parse_args(argv)
    try:
        run(config, host, port, tls=parse_tls(argv))
    except sqlite3.Error as exc:  # the --state-file cannot be opened or is not ours
        raise SystemExit(f"python -m connectors.sandbox: error: --state-file: {exc}") from None


if __name__ == "__main__":
    main()
