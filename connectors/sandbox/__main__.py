"""`python -m connectors.sandbox --port 8080 --seed 42`: serve the sandbox bank."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from connectors.sandbox.config import FaultConfig, SandboxConfig
from connectors.sandbox.server import run


def parse_args(argv: Sequence[str] | None = None) -> tuple[SandboxConfig, str, int]:
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
    args = parser.parse_args(argv)
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
    run(config, host, port)


if __name__ == "__main__":
    main()
