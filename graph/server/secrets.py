"""The server's keys: derived from ALIF_GRAPH_SECRET_KEY (or in development a local key
file) and the former secrets of ALIF_GRAPH_OLD_SECRET_KEYS, one key per purpose
(connectors/keys.py)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from connectors.keys import Keyring
from graph.settings import Settings

DEV_KEY_FILE = Path(".alif-graph-secret")


class MissingSecret(RuntimeError):
    pass


def server_keys(settings: Settings) -> Keyring:
    """Current secret first: it signs and encrypts; the old ones only verify and decrypt."""
    return Keyring(_current_secret(settings), settings.old_secret_keys)


def _current_secret(settings: Settings) -> str:
    if settings.secret_key:
        return settings.secret_key
    if settings.is_production:
        raise MissingSecret("ALIF_GRAPH_SECRET_KEY must be set in production")
    # Development: one random key per checkout, readable only by its owner, so the demo
    # needs no set-up and still never stores credentials in plain text.
    if not DEV_KEY_FILE.exists():
        fd = os.open(DEV_KEY_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(32))
    return DEV_KEY_FILE.read_text().strip()
