# ruff: noqa: RUF001, RUF002  (Cyrillic and Uzbek letters are the point of this module)
"""Statement text in one spelling: Russian, Tajik and Uzbek, Cyrillic or Latin, alike.

`normalize` folds case, transliterates Cyrillic (Tajik letters included) to one Latin
spelling, folds the Latin spellings people type (kh/x, q/k, dzh/j, o'/oʻ) onto it, and
drops digits (amounts, phone numbers, contract numbers) and punctuation. Rules and the
categorizer both match on it, so "Барқи Тоҷик", "BARKI TOJIK" and "barqi tojik" agree.
"""

from __future__ import annotations

import re
from functools import lru_cache

_CYRILLIC = {
    "а": "a", "б": "b", "в": "v", "г": "g", "ғ": "g", "д": "d", "е": "e", "ё": "e",
    "ж": "zh", "з": "z", "и": "i", "ӣ": "i", "й": "y", "к": "k", "қ": "k", "л": "l",
    "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u",
    "ӯ": "u", "ф": "f", "х": "x", "ҳ": "h", "ц": "ts", "ч": "ch", "ҷ": "j", "ш": "sh",
    "щ": "sh", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu", "я": "ya", "ў": "u",
    "і": "i", "ї": "i", "є": "e",
}  # fmt: skip
_TABLE = str.maketrans(
    {
        **_CYRILLIC,
        "ʻ": "",
        "ʼ": "",
        "'": "",
        "`": "",
        "’": "",
        "‘": "",
        "q": "k",
        "w": "v",
        "ё": "e",
    }
)
# Latin spellings folded onto the transliteration's: Tajik/Russian "kh" is Uzbek "x".
_LATIN = ((re.compile(r"kh"), "x"), (re.compile(r"dzh|dj"), "j"), (re.compile(r"yo"), "e"))
_NON_WORD = re.compile(r"[^a-z]+")


def fold(text: str) -> str:
    """One spelling of `text`: lowercase Latin words separated by single spaces. Uncached,
    for a caller that keeps its own results (the sync's categorization: each text it folds
    is new to it, so a cache here only held a second copy of each, 50,000 at 1M rows)."""
    folded = text.casefold().translate(_TABLE)
    for pattern, replacement in _LATIN:
        folded = pattern.sub(replacement, folded)
    return " ".join(_NON_WORD.sub(" ", folded).split())


@lru_cache(maxsize=65536)
def normalize(text: str) -> str:
    """`fold`, cached: rules, payees and queries fold the same few texts again and again."""
    return fold(text)


def like_pattern(text: str) -> str:
    """`%text%` for SQL LIKE on normalized text (which has no % or _ to escape)."""
    return f"%{normalize(text)}%"
