"""The settings' client certificate and CA bundle for the bank, as one `BankTls` for every
bank call of the process (sync, live balances, bank linking)."""

from __future__ import annotations

from connectors.tls import BankTls
from graph.settings import Settings


def bank_tls(settings: Settings) -> BankTls | None:
    """None when neither is set: httpx's defaults (certifi's bundle, no client certificate).
    Raises connectors.errors.UpstreamConfigurationError when a file cannot be loaded."""
    if settings.bank_client_cert_file is None and settings.bank_ca_file is None:
        return None
    password = settings.bank_client_key_password
    return BankTls.load(
        cert_file=settings.bank_client_cert_file,
        key_file=settings.bank_client_key_file,
        key_password=password.get_secret_value() if password else None,
        ca_file=settings.bank_ca_file,
    )
