"""The command line: flags become a SandboxConfig; run() prints logins, then serves."""

from __future__ import annotations

import io
from datetime import date
from typing import Any

import pytest

from connectors.sandbox import SandboxBank, SandboxConfig, server
from connectors.sandbox.__main__ import parse_args

from .sandbox_support import AS_OF


def test_flags_map_to_the_config() -> None:
    config, host, port = parse_args(
        [
            "--port", "9000", "--seed", "7", "--customers", "5", "--months", "18",
            "--transactions-per-account", "1000", "--as-of", "2025-06-30",
            "--rate-limit-per-minute", "60", "--error-rate", "0.1", "--no-admin",
        ]
    )  # fmt: skip

    assert (host, port) == ("127.0.0.1", 9000)
    assert (config.seed, config.customers, config.months) == (7, 5, 18)
    assert config.transactions_per_account == 1000
    assert config.as_of == date(2025, 6, 30)
    assert config.faults.rate_limit_per_minute == 60
    assert config.faults.error_rate == 0.1
    assert config.admin_enabled is False


def test_run_prints_logins_then_serves(monkeypatch: pytest.MonkeyPatch) -> None:
    served: dict[str, Any] = {}
    monkeypatch.setattr(server.uvicorn.Server, "run", lambda self: served.update(c=self.config))
    out = io.StringIO()

    server.run(SandboxConfig(as_of=AS_OF), "127.0.0.1", 8123, out=out)

    bank: SandboxBank = served["c"].app.state.bank
    text = out.getvalue()
    assert "http://127.0.0.1:8123/obp/v5.1.0" in text
    assert bank.consumer_key in text
    for customer in bank.customers:
        assert customer.username in text and customer.password in text
    assert (served["c"].host, served["c"].port) == ("127.0.0.1", 8123)
    assert served["c"].ssl is None


def test_config_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="customers"):
        SandboxConfig(customers=0)
    with pytest.raises(ValueError, match="transactions_per_account"):
        SandboxConfig(transactions_per_account=-1)
