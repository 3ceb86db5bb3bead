"""Rotating the server secret: old tokens verify, new ones carry the new kid; stored
credentials (HKDF or the legacy key) decrypt; `keys reencrypt` moves them to the current
key, after which the old secret can go; a token of a removed secret is refused."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
from collections.abc import Iterator
from dataclasses import asdict
from datetime import timedelta

import jwt
import orjson
import pytest
from cryptography.fernet import Fernet
from pydantic import ValidationError
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from typer.testing import CliRunner

from connectors.credentials import Credentials, decrypt, encrypt
from connectors.keys import Keyring
from graph.auth.oauth.tokens import InvalidToken, issue_access_token, verify_access_token
from graph.auth.scopes import ALL_SCOPES
from graph.cli.main import app
from graph.settings import Settings, get_settings
from ledger import connections
from ledger.models import Connection, table
from ledger.types import utcnow

from .conftest import AppApi
from .helpers import KEYS, KID, SECRET, Api, consent_of, stored_credentials
from .ledger_data import LedgerData

NEW = "rotated-secret-" + "fedcba9876543210" * 4
ROTATED = Keyring(NEW, [SECRET])
VIEWER = "{ viewer { customer { id } } }"
CREDS = Credentials(consumer_key="ck", username="farrukh", password="p4ssw0rd")
INSTITUTION = ("alif", "Alif Bank", "TJ", None)
CONNECTIONS = table(Connection)
runner = CliRunner()


def _token(keys: Keyring, user_id: int, consent_id: int) -> str:
    return issue_access_token(
        keys,
        user_id=user_id,
        consent_id=consent_id,
        scopes=frozenset(ALL_SCOPES),
        now=utcnow(),
        ttl=timedelta(minutes=5),
    )


def _legacy_blob(secret: str) -> bytes:
    """Credentials as stored before keys per purpose: Fernet over sha256(prefix + secret)."""
    digest = hashlib.sha256(b"alif-graph/credentials:" + secret.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest)).encrypt(orjson.dumps(asdict(CREDS)))


@pytest.fixture
def keys_env(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    monkeypatch.setenv("ALIF_GRAPH_DATABASE_URL", db_url)
    yield monkeypatch
    get_settings.cache_clear()


async def _reencrypt(env: pytest.MonkeyPatch, *, old: str | None = SECRET) -> tuple[int, str]:
    """`alif-graph keys reencrypt` with NEW as the current secret and `old` as the old one,
    in a thread (the CLI runs its own event loop)."""
    env.setenv("ALIF_GRAPH_SECRET_KEY", NEW)
    if old is None:
        env.delenv("ALIF_GRAPH_OLD_SECRET_KEYS", raising=False)
    else:
        env.setenv("ALIF_GRAPH_OLD_SECRET_KEYS", old)
    get_settings.cache_clear()
    result = await asyncio.to_thread(runner.invoke, app, ["keys", "reencrypt"])
    return result.exit_code, result.output


async def _link(sessions: async_sessionmaker[AsyncSession], phone: str, blob: bytes) -> int:
    async with sessions.begin() as s:
        return await connections.link_customer(
            s,
            phone=phone,
            institution=INSTITUTION,
            provider="alif",
            base_url="http://bank.test",
            bank_id="alif.tj",
            credentials_encrypted=blob,
        )


def test_a_token_names_its_key_and_verifies_while_that_key_is_configured() -> None:
    old = _token(KEYS, 1, 2)
    new = _token(ROTATED, 1, 2)
    assert jwt.get_unverified_header(old)["kid"] == KID
    new_kid = jwt.get_unverified_header(new)["kid"]
    assert new_kid == Keyring(NEW).token_signing_key[0] != KID
    now = utcnow()
    assert verify_access_token(ROTATED, old, now=now).consent_id == 2
    assert verify_access_token(Keyring(NEW), new, now=now).consent_id == 2
    for keys, token in ((Keyring(NEW), old), (KEYS, new)):
        with pytest.raises(InvalidToken):
            verify_access_token(keys, token, now=now)


def test_a_token_without_a_kid_or_with_another_keys_kid_is_refused() -> None:
    claims = jwt.decode(_token(KEYS, 1, 2), options={"verify_signature": False})
    key = KEYS.token_signing_key[1]
    other_kid = Keyring("another").token_signing_key[0]
    signed = [
        jwt.encode(claims, key, algorithm="HS256", headers=headers)
        for headers in (None, {"kid": other_kid}, {"kid": ""})
    ]
    # PyJWT will not write a kid that is not a string; the API still meets one.
    header = base64.urlsafe_b64encode(orjson.dumps({"alg": "HS256", "kid": 7})).rstrip(b"=")
    body = signed[0].split(".", 1)[1].rsplit(".", 1)[0]
    head = f"{header.decode()}.{body}"
    mac = hmac.new(key, head.encode(), hashlib.sha256).digest()
    signed.append(f"{head}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}")
    for token in signed:
        with pytest.raises(InvalidToken):
            verify_access_token(KEYS, token, now=utcnow())
    # Nor does the raw secret sign: only its derived token key does.
    raw = jwt.encode(claims, SECRET, algorithm="HS256", headers={"kid": KID})
    with pytest.raises(InvalidToken):
        verify_access_token(KEYS, raw, now=utcnow())


def test_old_secrets_come_comma_separated_and_never_repeat_the_current_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ALIF_GRAPH_OLD_SECRET_KEYS", " one , two,, ")
    assert Settings(secret_key=NEW).old_secret_keys == ["one", "two"]
    with pytest.raises(ValidationError, match="also listed in old_secret_keys"):
        Settings(secret_key="one")


async def test_rotate_reencrypt_and_drop_the_old_secret(
    keys_env: pytest.MonkeyPatch,
    api: Api,
    app_api: AppApi,
    ledger: LedgerData,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    old_token = await api.token()
    async with sessions.begin() as s:  # the test ledger's stand-in credentials, made real
        made_real = await s.execute(
            update(CONNECTIONS)
            .where(CONNECTIONS.c.credentials_encrypted == b"-")
            .values(credentials_encrypted=encrypt(CREDS, KEYS))
        )
    stored = made_real.rowcount + 2  # type: ignore[attr-defined]
    hkdf = await _link(sessions, "+992900000101", encrypt(CREDS, KEYS))
    legacy = await _link(sessions, "+992900000102", _legacy_blob(SECRET))
    purged = await _link(sessions, "+992900000103", encrypt(CREDS, KEYS))
    async with sessions.begin() as s:  # a purged customer's connection holds no credentials
        await s.execute(
            update(CONNECTIONS).where(CONNECTIONS.c.id == purged).values(credentials_encrypted=b"")
        )

    # Rotated: the old secret's token still works, a new token is signed with the new kid.
    rotated = await app_api(secret_key=NEW, old_secret_keys=[SECRET])
    assert (await rotated.post(VIEWER, token=old_token)).status_code == 200
    new_token = _token(ROTATED, ledger.user_a, consent_of(old_token))
    assert jwt.get_unverified_header(new_token)["kid"] != KID
    assert (await rotated.post(VIEWER, token=new_token)).status_code == 200
    assert await stored_credentials(sessions, ROTATED) == [CREDS] * stored

    # Re-encrypt: every stored credential under the new key; a second run changes nothing.
    assert await _reencrypt(keys_env) == (
        0,
        f"credentials: {stored} re-encrypted with the current key, 0 already current\n",
    )
    async with sessions() as s:
        before = dict(
            (await s.execute(select(CONNECTIONS.c.id, CONNECTIONS.c.credentials_encrypted))).all()
        )
    assert await _reencrypt(keys_env) == (
        0,
        f"credentials: 0 re-encrypted with the current key, {stored} already current\n",
    )
    async with sessions() as s:
        after = dict(
            (await s.execute(select(CONNECTIONS.c.id, CONNECTIONS.c.credentials_encrypted))).all()
        )
    assert after == before and after[purged] == b""
    assert await stored_credentials(sessions, KEYS) == []  # nothing left under the old key

    # The old secret dropped: every connection still opens; the old token is refused.
    assert await stored_credentials(sessions, Keyring(NEW)) == [CREDS] * stored
    assert all(decrypt(after[c], Keyring(NEW)) == CREDS for c in (hkdf, legacy))
    dropped = await app_api(secret_key=NEW, old_secret_keys=[])
    assert (await dropped.post(VIEWER, token=new_token)).status_code == 200
    refused = await dropped.post(VIEWER, token=old_token)
    assert refused.status_code == 401
    assert await _reencrypt(keys_env, old=None) == (
        0,
        f"credentials: 0 re-encrypted with the current key, {stored} already current\n",
    )


async def test_reencrypt_leaves_what_no_key_opens_and_says_which(
    keys_env: pytest.MonkeyPatch, sessions: async_sessionmaker[AsyncSession]
) -> None:
    lost = await _link(sessions, "+992900000104", encrypt(CREDS, Keyring("a forgotten secret")))
    kept = await _link(sessions, "+992900000105", encrypt(CREDS, KEYS))

    code, output = await _reencrypt(keys_env)

    assert code == 1
    assert output == (
        "credentials: 1 re-encrypted with the current key, 0 already current; 1 open with no "
        f"configured key, left as stored (connections {lost}): add the secret they were "
        "encrypted with to ALIF_GRAPH_OLD_SECRET_KEYS, or link them again\n"
    )
    assert await stored_credentials(sessions, Keyring(NEW)) == [CREDS]
    async with sessions() as s:
        found = await s.execute(select(CONNECTIONS.c.id).where(CONNECTIONS.c.id == kept))
    assert found.scalar_one() == kept


async def test_reencrypt_without_a_secret_in_production_is_one_line(
    keys_env: pytest.MonkeyPatch,
) -> None:
    keys_env.setenv("ALIF_GRAPH_ENV", "production")
    keys_env.delenv("ALIF_GRAPH_SECRET_KEY", raising=False)
    get_settings.cache_clear()

    result = await asyncio.to_thread(runner.invoke, app, ["keys", "reencrypt"])

    assert result.exit_code == 3  # configuration (docs/cli.md)
    assert result.output.startswith("error: ALIF_GRAPH_SECRET_KEY must be set in production")
    assert result.output.count("\n") == 1 and "Traceback" not in result.output
