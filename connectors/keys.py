"""One key per purpose, derived from the operator's secrets, with rotation.

The operator configures one current secret and any number of old ones (graph/ reads them
from settings; nothing here reads the environment). Each purpose gets its own key from each
secret (HKDF-SHA256, RFC 5869, a distinct `info` per purpose), so a key that leaks from one
use (a token signature's key, a credentials key) says nothing about the others.

Rotation: the current secret's keys sign, encrypt and hash; the old secrets' keys still
verify tokens (by the token's `kid`), decrypt credentials (MultiFernet), check pending
one-time codes and accept flow cookies. Dropping an old secret ends all of that at once, so
first re-encrypt stored credentials (`alif-graph keys reencrypt`) and wait out the access
tokens' lifetime.

Credentials stored before keys were derived per purpose were encrypted with a SHA-256
derivation of the secret: that key is kept for decryption only, behind the HKDF keys, so no
connection is lost; `keys reencrypt` moves such blobs to the current key.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

# The `info` of each purpose; changing one voids every key of that purpose.
ACCESS_TOKENS = "access-token"
CREDENTIALS = "credentials"
SCA_CODES = "sca-code"
FLOW_COOKIES = "flow-cookie"
EXPORT_LINKS = "export-link"
_KEY_ID = "key-id"


class KeyringError(ValueError):
    """No usable secret (empty, or the current one repeated as an old one)."""


def derive(secret: str, purpose: str) -> bytes:
    """The 32-byte key of one purpose from one secret."""
    hkdf = HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=b"alif-graph",
        info=f"alif-graph/v1/{purpose}".encode(),
    )
    return hkdf.derive(secret.encode())


def _fernet(key: bytes) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(key))


def _legacy_credentials_fernet(secret: str) -> Fernet:
    # The derivation used before keys per purpose: decrypt-only, so old rows still open.
    digest = hashlib.sha256(b"alif-graph/credentials:" + secret.encode()).digest()
    return _fernet(digest)


class Keyring:
    """The keys of every purpose: the current secret's first, then the old secrets'."""

    __slots__ = ("_code_keys", "_credentials", "_current_fernet", "_secrets", "_token_keys")

    def __init__(self, current: str, old: Sequence[str] = ()) -> None:
        if not current:
            raise KeyringError("the current secret is empty")
        if current in old:
            raise KeyringError("the current secret is also listed as an old one")
        # Order matters: the current secret signs and encrypts; duplicates add nothing.
        self._secrets = (current, *dict.fromkeys(s for s in old if s))
        self._token_keys = {
            _key_id(secret): derive(secret, ACCESS_TOKENS) for secret in self._secrets
        }
        fernets = [_fernet(derive(secret, CREDENTIALS)) for secret in self._secrets]
        self._current_fernet = fernets[0]
        self._credentials = MultiFernet(
            [*fernets, *(_legacy_credentials_fernet(secret) for secret in self._secrets)]
        )
        self._code_keys = tuple(derive(secret, SCA_CODES) for secret in self._secrets)

    def __repr__(self) -> str:  # never a key, not even its id, in a log or traceback
        return f"Keyring(secrets={len(self._secrets)})"

    @property
    def token_signing_key(self) -> tuple[str, bytes]:
        """(kid, key) that signs new access tokens."""
        kid = next(iter(self._token_keys))
        return kid, self._token_keys[kid]

    def token_verification_key(self, kid: str) -> bytes | None:
        """The key a token's `kid` names, or None (unknown, or a removed secret's)."""
        return self._token_keys.get(kid)

    @property
    def credentials(self) -> MultiFernet:
        """Encrypts with the current key; decrypts with any (HKDF first, then legacy)."""
        return self._credentials

    def is_current_credentials(self, blob: bytes) -> bool:
        """Whether the blob is already encrypted with the current key (re-encryption skips it)."""
        try:
            self._current_fernet.decrypt(blob)
        except InvalidToken:
            return False
        return True

    @property
    def code_keys(self) -> tuple[bytes, ...]:
        """One-time code HMAC keys: the first hashes new codes, every one checks a code."""
        return self._code_keys

    def cookie_keys(self, purpose: str) -> tuple[bytes, ...]:
        """Flow-cookie HMAC keys of one page's purpose: the first signs, every one verifies."""
        return tuple(derive(secret, f"{FLOW_COOKIES}/{purpose}") for secret in self._secrets)

    @property
    def export_link_keys(self) -> tuple[bytes, ...]:
        """Statement download links' HMAC keys: the first signs, every one verifies."""
        return tuple(derive(secret, EXPORT_LINKS) for secret in self._secrets)


def _key_id(secret: str) -> str:
    # A public name for the key (a JWT header): derived, so it reveals nothing of the key.
    return base64.urlsafe_b64encode(derive(secret, _KEY_ID)[:9]).decode()
