# ruff: noqa: RUF001  (Cyrillic and Uzbek Latin letters are the point of this module)
"""The consent pages' words in Russian, Tajik, Uzbek (Latin) and English.

The words live in gettext catalogs, one per language, so translators work in `.po` files:
`locale/<lang>/LC_MESSAGES/consent.po`. Each message's `msgctxt` is the key the pages ask
for (`title`, `scope accounts:read`, `status REVOKED`), its `msgid` the English, its `msgstr`
the translation; `$name` placeholders fill in with string.Template. The catalogs are read
with Babel once, at import: no compile step, no .mo files to keep in step with the .po.

Scopes are described in plain words, as a customer would say what an app may do. Tajik and
Uzbek wording follows the banks' own apps where a term was found (see
shared/reference/domain-tj.md) and needs a native speaker's review before launch.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

LANGUAGES = ("ru", "tg", "uz", "en")
DEFAULT_LANGUAGE = "ru"
# Each language's own name for itself: not a translation, the same on every page.
LANGUAGE_NAMES = {"ru": "Русский", "tg": "Тоҷикӣ", "uz": "Oʻzbekcha", "en": "English"}
LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "consent"


def catalog_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def read_catalog(lang: str) -> Catalog:
    with catalog_path(lang).open("rb") as handle:
        return read_po(handle, locale=lang, domain=DOMAIN)


def _words(catalog: Catalog) -> dict[str, str]:
    """key (msgctxt) -> the translation; an untranslated message falls back to the English."""
    return {
        message.context: str(message.string or message.id)
        for message in catalog
        if message.id and message.context
    }


_WORDS: dict[str, dict[str, str]] = {lang: _words(read_catalog(lang)) for lang in LANGUAGES}


def text(lang: str, key: str) -> str:
    words = _WORDS.get(lang, _WORDS["en"])
    # KeyError for a key no catalog has: a typo in the code, not a missing translation.
    return words.get(key) or _WORDS["en"][key]


def scope_text(lang: str, scope: str) -> str:
    return text(lang, f"scope {scope}")


def status_text(lang: str, status: str) -> str:
    """How the consents page names a consent's (effective) status."""
    return text(lang, f"status {status}")


def supported(lang: str | None) -> str | None:
    return lang if lang in LANGUAGES else None


def negotiate(accept_language: str | None) -> str:
    """The best of our languages for an Accept-Language header (`tg-TJ,ru;q=0.8`)."""
    best, best_q = DEFAULT_LANGUAGE, 0.0
    for item in (accept_language or "").split(",")[:20]:
        tag, _, params = item.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        if primary not in LANGUAGES:
            continue
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                continue
        if q > best_q:
            best, best_q = primary, q
    return best
