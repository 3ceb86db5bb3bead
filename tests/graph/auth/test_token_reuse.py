"""A token presented again is judged again: the kept claims (tokens._decoded) never stand in
for a check against the clock or against the keyring the caller holds."""

from __future__ import annotations

from datetime import timedelta

import pytest

from connectors.keys import Keyring
from graph.auth.oauth.tokens import InvalidToken, issue_access_token, verify_access_token
from ledger.types import utcnow

TTL = timedelta(minutes=10)


def _token(keys: Keyring) -> str:
    return issue_access_token(
        keys, user_id=1, consent_id=2, scopes=frozenset({"accounts:read"}), now=utcnow(), ttl=TTL
    )


def test_a_token_accepted_before_is_refused_once_expired() -> None:
    keys = Keyring("current-secret")
    token = _token(keys)
    assert verify_access_token(keys, token, now=utcnow()).consent_id == 2

    with pytest.raises(InvalidToken, match="expired"):
        verify_access_token(keys, token, now=utcnow() + TTL)
    assert verify_access_token(keys, token, now=utcnow()).consent_id == 2


def test_a_token_accepted_by_one_keyring_is_refused_by_one_without_its_secret() -> None:
    old = Keyring("old-secret")
    token = _token(old)
    assert verify_access_token(old, token, now=utcnow()).user_id == 1
    assert verify_access_token(Keyring("new", ["old-secret"]), token, now=utcnow()).user_id == 1

    with pytest.raises(InvalidToken, match="no configured key"):
        verify_access_token(Keyring("new"), token, now=utcnow())
