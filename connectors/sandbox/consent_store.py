"""The sandbox bank's consents on disk, so a restarted bank still honours what it granted.

A real bank keeps consents in its database; the sandbox's customers and transactions are
derived from the seed, but consents are made at runtime, so they live in a small SQLite file
of the bank's own (standard library only: the sandbox imports nothing of the project). One row
per consent, rewritten on every change; read once when the bank starts.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict, fields
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from connectors.sandbox.bank import Consent

_SCHEMA = "CREATE TABLE IF NOT EXISTS consent (consent_id TEXT PRIMARY KEY, body TEXT NOT NULL)"
_TIMES = ("created_at", "valid_from", "expires_at")


def _encode(consent: Consent) -> str:
    body: dict[str, Any] = asdict(consent)
    for name in _TIMES:
        body[name] = body[name].isoformat()
    body["secret"] = body["secret"].hex()
    body["account_ids"] = list(body["account_ids"])
    return json.dumps(body, sort_keys=True)


class ConsentStore:
    """Consents by id in `path` (created on first use)."""

    def __init__(self, path: Path) -> None:
        self._db = sqlite3.connect(path)
        self._db.execute(_SCHEMA)
        self._db.commit()

    def load(self, cls: type[Consent]) -> dict[str, Consent]:
        known = {f.name for f in fields(cls)}
        found: dict[str, Consent] = {}
        for consent_id, text in self._db.execute("SELECT consent_id, body FROM consent"):
            body = {k: v for k, v in json.loads(text).items() if k in known}
            for name in _TIMES:
                body[name] = datetime.fromisoformat(body[name])
            body["secret"] = bytes.fromhex(body["secret"])
            body["account_ids"] = tuple(body["account_ids"])
            found[consent_id] = cls(**body)
        return found

    def save(self, consent: Consent) -> None:
        self._db.execute(
            "INSERT INTO consent (consent_id, body) VALUES (?, ?) "
            "ON CONFLICT (consent_id) DO UPDATE SET body = excluded.body",
            (consent.consent_id, _encode(consent)),
        )
        self._db.commit()

    def close(self) -> None:
        self._db.close()
