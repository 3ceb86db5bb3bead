"""The categorizer: one transaction's facts in, one category (or none) out.

It works from what any OBP bank sends: the description, the counterparty's and merchant's
names, the amount's sign, the OBP transaction type, the MCC and the bank's own category
(Alif's CATEGORY attribute or service-provider code). Highest first:

1. LINK: a known transfer between the customer's own accounts (`own_transfer`, set by the
   pairing of legs) is TRANSFER_IN/OUT_OWN_ACCOUNT;
2. BANK: the bank's own category, where it is one the taxonomy knows (`taxonomy.BANK_CODES`);
3. MCC: the ISO 18245 table (`mcc.py`);
4. TYPE: types that say what the money was (cash withdrawal, fee, exchange, cashback,
   salary, installment);
5. MERCHANT: the curated table of Tajik payees and merchants (`payees.PAYEES`);
6. TEXT: the words of the text (`payees.WORDS`), after a fuzzy spelling correction of
   unknown words against the tables' vocabulary (rapidfuzz);
7. TYPE again, weakly: a plain transfer in or out is a transfer to or from a person.

Nothing matched stays uncategorized (code None, confidence 0) rather than guessed. The
customer's override and rules rank above all of this; they live in their own columns
(`ledger/enrich/rules.py`), so this function never sees them. Deterministic: the same facts
give the same verdict.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from rapidfuzz import fuzz, process

from ledger.enrich import taxonomy
from ledger.enrich.mcc import GENERIC, mcc_codes
from ledger.enrich.payees import PAYEES, STOPWORDS, WORDS, Codes
from ledger.enrich.text import normalize


class Source(StrEnum):
    """Where a category came from, highest first (USER and RULE: the customer's)."""

    USER = "USER"
    RULE = "RULE"
    LINK = "LINK"
    BANK = "BANK"
    MCC = "MCC"
    TYPE = "TYPE"
    MERCHANT = "MERCHANT"
    TEXT = "TEXT"
    NONE = "NONE"


@dataclass(frozen=True, slots=True)
class Facts:
    """What the categorizer reads of one transaction."""

    amount_minor: int
    type: str = "OTHER"
    description: str | None = None
    counterparty_name: str | None = None
    merchant_name: str | None = None
    mcc: str | None = None
    bank_category: str | None = None
    # "IN" or "OUT" when the ledger knows this is a leg of a transfer between the
    # customer's own accounts (the pairing of legs sets it); None when it does not know.
    own_transfer: str | None = None


@dataclass(frozen=True, slots=True)
class Verdict:
    code: str | None
    source: Source
    confidence: int  # 0..100: how sure the categorizer is

    @property
    def primary(self) -> str | None:
        return taxonomy.primary_of(self.code) if self.code else None


UNKNOWN = Verdict(None, Source.NONE, 0)

_STRONG_TYPES: dict[str, Codes] = {
    "CASH_WITHDRAWAL": "TRANSFER_OUT_CASH_WITHDRAWAL",
    "CURRENCY_EXCHANGE": "TRANSFER_OUT_CURRENCY_EXCHANGE",
    "FEE": "BANK_FEES_OTHER",
    "CASHBACK": "INCOME_CASHBACK",
    "SALARY": "INCOME_SALARY",
    "INSTALLMENT": "LOAN_PAYMENTS_NASIYA",
}
_WEAK_TYPES: dict[str, Codes] = {
    "TRANSFER_OUT": "TRANSFER_OUT_TO_PERSON",
    "TRANSFER_IN": "TRANSFER_IN_FROM_PERSON",
    "INTERNATIONAL_TRANSFER": ("TRANSFER_OUT_REMITTANCE", "TRANSFER_IN_REMITTANCE"),
    "TOP_UP": ("RENT_AND_UTILITIES_MOBILE", "TRANSFER_IN_CASH_DEPOSIT"),
}
# Words that say little on their own: any other word of the text outranks them.
_GENERIC_CODES = frozenset(
    {
        "TRANSFER_OUT_TO_PERSON",
        "BANK_FEES_OTHER",
        "GENERAL_MERCHANDISE_OTHER",
        "ENTERTAINMENT_STREAMING",
        "FOOD_AND_DRINK_GROCERIES",
    }
)
_PREFIX_MIN = 5  # a table word this long matches every word it begins
_FUZZY_MIN = 5  # words shorter than this are never corrected
_FUZZY_CUTOFF = 84


def _split(index: dict[str, Codes]) -> tuple[dict[str, Codes], tuple[tuple[str, Codes], ...]]:
    words = {k: v for k, v in index.items() if " " not in k}
    phrases = tuple(
        sorted(((k, v) for k, v in index.items() if " " in k), key=lambda kv: -len(kv[0]))
    )
    return words, phrases


_PAYEE_WORDS, _PAYEE_PHRASES = _split(PAYEES)
_TEXT_WORDS, _TEXT_PHRASES = _split(WORDS)
_VOCABULARY = tuple(sorted({w for key in (*PAYEES, *WORDS, *STOPWORDS) for w in key.split()}))
_KNOWN = frozenset(_VOCABULARY)
_PREFIXES = frozenset(w for w in _VOCABULARY if len(w) >= _PREFIX_MIN)


@lru_cache(maxsize=65536)
def _correct(word: str) -> tuple[str, bool]:
    """The word, or the table word it is a misspelling of; and whether it was corrected."""
    if word in _KNOWN or len(word) < _FUZZY_MIN:
        return word, False
    if any(word[:k] in _PREFIXES for k in range(_PREFIX_MIN, len(word))):
        return word, False
    best = process.extractOne(word, _VOCABULARY, scorer=fuzz.ratio, score_cutoff=_FUZZY_CUTOFF)
    return (best[0], True) if best else (word, False)


def _word_hit(word: str, words: dict[str, Codes]) -> Codes | None:
    found = words.get(word)
    if found is not None:
        return found
    for k in range(len(word) - 1, _PREFIX_MIN - 1, -1):
        stem = words.get(word[:k])
        if stem is not None:
            return stem
    return None


@dataclass(frozen=True, slots=True)
class _Hit:
    codes: Codes
    words: int  # how many words the table entry has
    position: int
    corrected: bool


def _hits(
    tokens: list[str],
    padded: str,
    words: dict[str, Codes],
    phrases: tuple[tuple[str, Codes], ...],
    corrected: list[bool],
) -> list[_Hit]:
    hits = []
    for phrase, codes in phrases:
        at = padded.find(" " + phrase)
        if at >= 0:
            position = padded.count(" ", 0, at)
            hits.append(_Hit(codes, phrase.count(" ") + 1, position, False))
    for position, word in enumerate(tokens):
        found = _word_hit(word, words)
        if found is not None:
            hits.append(_Hit(found, 1, position, corrected[position]))
    return hits


def _pick(codes: Codes, credit: bool) -> str:
    if isinstance(codes, tuple):
        return codes[1] if credit else codes[0]
    return codes


_INCOMING = ("INCOME", "TRANSFER_IN")
# Payees that are places (a mall) rather than what was bought there.
_PLACES = frozenset({"GENERAL_MERCHANDISE_DEPARTMENT"})


def _fits(code: str, credit: bool) -> bool:
    """Income and money in are never a debit."""
    return credit or not code.startswith(_INCOMING)


@lru_cache(maxsize=65536)
def _read_text(text: str, credit: bool) -> Verdict:
    """MERCHANT or TEXT verdict of normalized text, or UNKNOWN.

    A payee outranks words, except on a credit whose words say income or money in (a
    salary from "Baraka Savdo" is not groceries). Among payees the longest name wins, then
    the earliest; a place (a mall) yields to what is in it. Among words: a specific word
    outranks a generic one ("fee", "shop"), which outranks a bare "transfer"; then the
    longest, then the earliest.
    """
    raw = text.split()
    fixed = [_correct(w) for w in raw]
    tokens = [w for w, _ in fixed]
    corrected = [c for _, c in fixed]
    padded = " " + " ".join(tokens)
    words = [
        h
        for h in _hits(tokens, padded, _TEXT_WORDS, _TEXT_PHRASES, corrected)
        if _fits(_pick(h.codes, credit), credit)
    ]
    incoming = [h for h in words if _pick(h.codes, credit).startswith(_INCOMING)]
    payees = [
        h
        for h in _hits(tokens, padded, _PAYEE_WORDS, _PAYEE_PHRASES, corrected)
        if _fits(_pick(h.codes, credit), credit)
    ]
    if payees and not (credit and incoming):
        best = min(payees, key=lambda h: (_pick(h.codes, credit) in _PLACES, -h.words, h.position))
        return Verdict(_pick(best.codes, credit), Source.MERCHANT, 80 if best.corrected else 90)
    if not words:
        return UNKNOWN

    def rank(h: _Hit) -> tuple[int, int, int]:
        single = h.words == 1
        if isinstance(h.codes, tuple) and single:
            level = 2
        elif _pick(h.codes, credit) in _GENERIC_CODES and single:
            level = 1
        else:
            level = 0
        return (level, -h.words, h.position)

    best = min(words, key=rank)
    code = _pick(best.codes, credit)
    confidence = 55 if code in _GENERIC_CODES or isinstance(best.codes, tuple) else 70
    return Verdict(code, Source.TEXT, confidence - (10 if best.corrected else 0))


def categorize(facts: Facts) -> Verdict:
    """The category of one transaction (see the module's precedence)."""
    credit = facts.amount_minor > 0
    if facts.own_transfer in ("IN", "OUT"):
        code = (
            "TRANSFER_IN_OWN_ACCOUNT" if facts.own_transfer == "IN" else "TRANSFER_OUT_OWN_ACCOUNT"
        )
        return Verdict(code, Source.LINK, 100)
    if facts.bank_category:
        bank = taxonomy.bank_code(facts.bank_category, credit=credit)
        if bank is not None:
            return Verdict(bank, Source.BANK, 95)
    by_mcc = mcc_codes(facts.mcc)
    if by_mcc is not None:
        return Verdict(_pick(by_mcc, credit), Source.MCC, 60 if facts.mcc in GENERIC else 85)
    text = normalize(
        " ".join(t for t in (facts.merchant_name, facts.counterparty_name, facts.description) if t)
    )
    strong = _STRONG_TYPES.get(facts.type)
    if strong is not None:
        code = _pick(strong, credit)
        if code == "BANK_FEES_OTHER":  # the text may say which fee
            said = _read_text(text, credit) if text else UNKNOWN
            if said.code and said.code.startswith("BANK_FEES_"):
                code = said.code
        return Verdict(code, Source.TYPE, 80)
    verdict = _read_text(text, credit) if text else UNKNOWN
    if verdict.code is not None:
        return verdict
    weak = _WEAK_TYPES.get(facts.type)
    if weak is not None:
        return Verdict(_pick(weak, credit), Source.TYPE, 45)
    return UNKNOWN
