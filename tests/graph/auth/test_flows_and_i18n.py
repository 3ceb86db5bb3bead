"""Flow storage and cookies, language negotiation, the completeness of the translations."""

from __future__ import annotations

import re
import socket
import uuid
from pathlib import Path
from string import Template

import pytest
from babel.messages.catalog import Message
from redis.asyncio import Redis

from connectors.keys import Keyring
from graph.auth.consent import i18n, phones
from graph.auth.consent.flows import FLOW_TTL_SECONDS, CookieSigner, MemoryFlowStore, RedisFlowStore
from graph.auth.scopes import ALL_SCOPES
from ledger import consents


async def test_a_memory_flow_expires_after_its_ttl() -> None:
    now = [0.0]
    store = MemoryFlowStore(clock=lambda: now[0])
    await store.put("f", {"step": "phone"})
    assert await store.get("f") == {"step": "phone"}
    now[0] += FLOW_TTL_SECONDS + 1
    assert await store.get("f") is None


def _redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.mark.skipif(not _redis_up(), reason="no Redis on 127.0.0.1:6379")
async def test_a_redis_flow_round_trips_and_expires() -> None:
    client = Redis.from_url("redis://127.0.0.1:6379/0")
    prefix = f"test-flow-{uuid.uuid4().hex}:"
    store = RedisFlowStore(client, prefix=prefix)
    try:
        await store.put("f", {"step": "code", "consent_id": 7})
        assert await store.get("f") == {"step": "code", "consent_id": 7}
        assert 0 < await client.ttl(prefix + "f") <= FLOW_TTL_SECONDS
        await store.delete("f")
        assert await store.get("f") is None
    finally:
        await client.aclose()


def test_a_cookie_is_bound_to_the_secret_and_the_purpose() -> None:
    signer = CookieSigner(Keyring("secret"), "authorize")
    flow_id, cookie = signer.new_id()
    assert signer.flow_id(cookie) == flow_id
    assert CookieSigner(Keyring("other"), "authorize").flow_id(cookie) is None
    assert CookieSigner(Keyring("secret"), "manage").flow_id(cookie) is None
    assert signer.flow_id(cookie[:-1]) is None
    assert signer.flow_id(f"someone-else.{cookie.rpartition('.')[2]}") is None


def test_a_flow_begun_before_a_rotation_keeps_its_cookie_until_the_old_secret_goes() -> None:
    flow_id, cookie = CookieSigner(Keyring("old"), "authorize").new_id()
    rotated = CookieSigner(Keyring("new", ["old"]), "authorize")
    assert rotated.flow_id(cookie) == flow_id
    _, fresh = rotated.new_id()
    assert CookieSigner(Keyring("new"), "authorize").flow_id(fresh) is not None
    assert CookieSigner(Keyring("old"), "authorize").flow_id(fresh) is None  # new key signs
    assert CookieSigner(Keyring("new"), "authorize").flow_id(cookie) is None


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, "ru"),
        ("tg-TJ,ru;q=0.8", "tg"),
        ("de-DE,uz;q=0.4,en;q=0.6", "en"),
        ("fr", "ru"),
        ("en;q=abc,uz", "uz"),
    ],
)
def test_the_language_is_negotiated(header: str | None, expected: str) -> None:
    assert i18n.negotiate(header) == expected


def _messages(lang: str) -> dict[str, Message]:
    return {m.context: m for m in i18n.read_catalog(lang) if m.id}


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_every_message_is_translated_in_every_language(lang: str) -> None:
    """The same keys in every catalog, each translated, none fuzzy, with the English's
    $placeholders exactly (a translator's typo in `$app` would break the page)."""
    english, messages = _messages("en"), _messages(lang)
    catalog = i18n.read_catalog(lang)

    assert list(catalog.check()) == []
    assert set(messages) == set(english)
    for key, message in messages.items():
        assert isinstance(message.string, str) and message.string.strip(), key
        assert message.id == english[key].id, key  # the same English source everywhere
        assert not message.fuzzy, key
        placeholders = set(Template(message.id).get_identifiers())
        assert set(Template(message.string).get_identifiers()) == placeholders, key


def test_every_key_the_pages_ask_for_is_in_the_catalogs() -> None:
    english = _messages("en")
    sources = "".join(p.read_text() for p in Path(i18n.__file__).parent.glob("*.py"))
    asked = set(re.findall(r"i18n\.text\([\w.]+, \"(\w+)\"\)", sources))

    assert len(asked) > 20  # the pattern still finds the calls
    assert asked <= set(english)
    assert {f"scope {s}" for s in ALL_SCOPES} <= set(english)
    statuses = (consents.AUTHORISED, consents.REVOKED, consents.EXPIRED, consents.REJECTED)
    assert {f"status {s}" for s in statuses} <= set(english)
    with pytest.raises(KeyError):
        i18n.text("ru", "no_such_key")


def test_the_words_come_from_the_catalogs() -> None:
    assert i18n.text("tg", "title") == _messages("tg")["title"].string
    assert i18n.scope_text("uz", "cards:read") == _messages("uz")["scope cards:read"].string
    assert i18n.status_text("en", consents.REJECTED) == "denied"
    assert i18n.text("xx", "title") == i18n.text("en", "title")  # an unknown language: English


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("+992 90 123-45-67", "+992901234567"),
        ("(992) 901234567", "+992901234567"),
        ("901234567", "+992901234567"),
        ("+7 900 123 45 67", None),
        ("+99290123456", None),
        ("+992 90 123 45 6x", None),
        ("", None),
    ],
)
def test_phone_numbers_are_normalized(typed: str, expected: str | None) -> None:
    assert phones.normalize(typed) == expected
