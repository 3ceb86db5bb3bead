"""Keys per purpose (HKDF) and rotation: what the current secret does, what old ones still do."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import asdict

import orjson
import pytest
from cryptography.fernet import Fernet

from connectors.credentials import Credentials, CredentialsError, decrypt, encrypt
from connectors.keys import (
    ACCESS_TOKENS,
    CREDENTIALS,
    FLOW_COOKIES,
    SCA_CODES,
    Keyring,
    KeyringError,
    derive,
)

OLD = "old-secret-" + "a" * 32
NEW = "new-secret-" + "b" * 32
CREDS = Credentials(consumer_key="ck", username="farrukh", password="p4ssw0rd")


def legacy_blob(secret: str, credentials: Credentials) -> bytes:
    """Credentials as stored before keys per purpose: Fernet over sha256(prefix + secret)."""
    digest = hashlib.sha256(b"alif-graph/credentials:" + secret.encode()).digest()
    fernet = Fernet(base64.urlsafe_b64encode(digest))
    return fernet.encrypt(orjson.dumps(asdict(credentials)))


def test_each_purpose_has_its_own_key_and_each_secret_its_own_keys() -> None:
    purposes = [ACCESS_TOKENS, CREDENTIALS, SCA_CODES, f"{FLOW_COOKIES}/authorize"]
    keys = {derive(secret, p) for secret in (OLD, NEW) for p in purposes}
    assert len(keys) == 2 * len(purposes)
    assert all(len(k) == 32 and OLD.encode() not in k for k in keys)
    assert derive(OLD, CREDENTIALS) == derive(OLD, CREDENTIALS)  # every worker agrees
    ring = Keyring(OLD)
    (code_key,) = ring.code_keys
    (cookie_key,) = ring.cookie_keys("authorize")
    assert code_key == derive(OLD, SCA_CODES) and cookie_key == derive(OLD, "flow-cookie/authorize")
    assert ring.token_signing_key[1] == derive(OLD, ACCESS_TOKENS)
    assert ring.cookie_keys("authorize") != ring.cookie_keys("manage")


def test_the_current_secret_encrypts_and_old_ones_only_decrypt() -> None:
    old_blob = encrypt(CREDS, Keyring(OLD))
    rotated = Keyring(NEW, [OLD])
    assert decrypt(old_blob, rotated) == CREDS
    assert not rotated.is_current_credentials(old_blob)
    new_blob = encrypt(CREDS, rotated)
    assert rotated.is_current_credentials(new_blob)
    assert decrypt(new_blob, Keyring(NEW)) == CREDS
    with pytest.raises(CredentialsError):
        decrypt(new_blob, Keyring(OLD))  # the old key never encrypts
    with pytest.raises(CredentialsError):
        decrypt(old_blob, Keyring(NEW))  # dropped: gone
    assert not rotated.is_current_credentials(b"not a fernet token")


def test_credentials_stored_before_keys_per_purpose_still_decrypt() -> None:
    legacy = legacy_blob(OLD, CREDS)
    assert decrypt(legacy, Keyring(OLD)) == CREDS
    assert decrypt(legacy, Keyring(NEW, [OLD])) == CREDS
    moved = Keyring(NEW, [OLD]).credentials.rotate(legacy)
    assert decrypt(moved, Keyring(NEW)) == CREDS
    with pytest.raises(CredentialsError):
        decrypt(legacy, Keyring(NEW))


def test_a_keyring_refuses_an_unusable_set_of_secrets_and_shows_no_key() -> None:
    with pytest.raises(KeyringError):
        Keyring("")
    with pytest.raises(KeyringError):
        Keyring(NEW, [OLD, NEW])
    ring = Keyring(NEW, [OLD, OLD, ""])
    assert len(ring.code_keys) == 2  # duplicates and blanks add nothing
    assert NEW not in repr(ring) and OLD not in repr(ring)
    assert ring.token_signing_key[0] not in repr(ring)
