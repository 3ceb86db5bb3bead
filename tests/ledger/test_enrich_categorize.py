# ruff: noqa: RUF001, RUF003  (Cyrillic and Uzbek letters are the point of these tests)
"""The categorizer and its taxonomy: precedence, spellings, typos, direction, unknowns."""

from __future__ import annotations

import random
import re

import pytest

from ledger.enrich import taxonomy
from ledger.enrich.categorize import Facts, Source, categorize
from ledger.enrich.mcc import mcc_codes
from ledger.enrich.payees import PAYEES
from ledger.enrich.text import normalize

TAJIK = set("ҳқғӯҷӣ")


def test_every_code_fits_its_columns_and_has_a_primary() -> None:
    for code in taxonomy.DETAILED:
        assert len(code) <= taxonomy.MAX_CODE, code
        primary = taxonomy.primary_of(code)
        assert primary in taxonomy.PRIMARY and code.startswith(primary + "_"), code
    assert set(taxonomy.BANK_CODES.values()) <= set(taxonomy.DETAILED)
    assert len(taxonomy.PRIMARY) == 16


@pytest.mark.parametrize("table", [taxonomy.PRIMARY, taxonomy.DETAILED])
def test_every_label_is_in_four_languages_in_the_right_letters(table) -> None:
    for code, (ru, tg, uz, en) in table.items():
        assert all((ru, tg, uz, en)), code
        assert re.fullmatch(r"[\w &,()'.\-/]+", en, re.ASCII), (code, en)
        assert not re.search(r"[a-zA-Z]", ru.replace("ТВ", "")), (code, ru)
        # Uzbek is Latin with the official ʻ and ʼ, never a typed apostrophe.
        assert not re.search(r"[\u0400-\u04ff']", uz), (code, uz)
        # Tajik Cyrillic: no Russian-only letters (ы, щ, ъ, э in native words) where a
        # Tajik one belongs; and the labels use the Tajik letters at all.
        assert not re.search(r"[щы]", tg), (code, tg)
    assert any(TAJIK & set(tg) for _, tg, _, _ in taxonomy.DETAILED.values())


def test_labels_fall_back_to_the_code_and_uncategorized() -> None:
    assert taxonomy.label("FOOD_AND_DRINK_GROCERIES", "tg") == "Маҳсулоти хӯрокворӣ"
    assert taxonomy.label("groceries", "en") == "Groceries"  # a bank's key
    assert taxonomy.label("FOOD_AND_DRINK", "uz") == "Oziq-ovqat va ichimliklar"
    assert taxonomy.label("SOMETHING_NEW", "ru") == "SOMETHING_NEW"
    assert taxonomy.label(None, "en") == "Uncategorized"


FULL = Facts(
    amount_minor=-5000,
    type="CASH_WITHDRAWAL",
    description="Tcell top-up",
    merchant_name="Аптека Шифо",
    mcc="5411",
    bank_category="restaurants",
    own_transfer="OUT",
)


def test_precedence_link_bank_mcc_type_merchant_text_then_weak_type() -> None:
    """Each source, removed in turn, gives way to the next one down."""
    steps = [
        ({}, "TRANSFER_OUT_OWN_ACCOUNT", Source.LINK),
        ({"own_transfer": None}, "FOOD_AND_DRINK_RESTAURANT", Source.BANK),
        ({"bank_category": None}, "FOOD_AND_DRINK_GROCERIES", Source.MCC),
        ({"mcc": None}, "TRANSFER_OUT_CASH_WITHDRAWAL", Source.TYPE),
        ({"type": "CARD_PAYMENT"}, "MEDICAL_PHARMACY", Source.MERCHANT),
        ({"merchant_name": None, "description": "в аптеке"}, "MEDICAL_PHARMACY", Source.TEXT),
        ({"description": "№ 5581", "type": "TRANSFER_OUT"}, "TRANSFER_OUT_TO_PERSON", Source.TYPE),
        ({"type": "OTHER"}, None, Source.NONE),
    ]  # fmt: skip
    facts = FULL
    for changes, code, source in steps:
        facts = _with(facts, changes)
        verdict = categorize(facts)
        assert (verdict.code, verdict.source) == (code, source), changes
    assert categorize(facts).confidence == 0


def _with(facts: Facts, changes: dict) -> Facts:
    values = {f: getattr(facts, f) for f in Facts.__dataclass_fields__}
    return Facts(**{**values, **changes})


def test_an_unknown_bank_key_falls_through_to_the_next_source() -> None:
    verdict = categorize(Facts(amount_minor=-100, bank_category="brand_new_key", mcc="5912"))
    assert (verdict.code, verdict.source) == ("MEDICAL_PHARMACY", Source.MCC)


@pytest.mark.parametrize(
    "text",
    ["Барқи Тоҷик", "БАРКИ ТОЧИК", "barqi tojik", "Barki Tojik", "OAXSh «Barqi Tojik» 100234"],
)
def test_one_payee_in_every_script_and_spelling(text: str) -> None:
    verdict = categorize(Facts(amount_minor=-9900, type="SERVICE_PAYMENT", description=text))
    assert verdict.code == "RENT_AND_UTILITIES_ELECTRICITY"
    assert verdict.source == Source.MERCHANT


def test_every_payee_of_the_table_is_found_among_numbers_and_extra_words() -> None:
    rng = random.Random(13)
    for name, codes in PAYEES.items():
        expected = codes if isinstance(codes, str) else codes[0]
        phone = f"+992 9{rng.randint(0, 9)} {rng.randint(100, 999)} {rng.randint(10, 99)}"
        text = rng.choice(["Оплата: {} {}", "{} {} payment", "POS {} {} DUSHANBE"]).format(
            name.upper() if rng.random() < 0.5 else name, phone
        )
        verdict = categorize(Facts(amount_minor=-1000, description=text))
        assert verdict.code == expected, (text, verdict)


@pytest.mark.parametrize(
    ("typo", "code"),
    [
        ("Wildberies zakaz 7781", "GENERAL_MERCHANDISE_MARKETPLACE"),
        ("Megafom 900112233", "RENT_AND_UTILITIES_MOBILE"),
        ("Dushanbevodokanall l/s 4451", "RENT_AND_UTILITIES_WATER"),
        ("супермаркт Ёвар", "FOOD_AND_DRINK_GROCERIES"),
    ],
)
def test_typos_are_corrected_by_fuzzy_matching(typo: str, code: str) -> None:
    verdict = categorize(Facts(amount_minor=-1000, description=typo))
    assert verdict.code == code


def test_direction_decides_transfers_and_income_is_never_a_debit() -> None:
    sent = categorize(Facts(amount_minor=-50000, description="Western Union"))
    received = categorize(Facts(amount_minor=50000, description="Western Union"))
    assert sent.code == "TRANSFER_OUT_REMITTANCE"
    assert received.code == "TRANSFER_IN_REMITTANCE"
    assert categorize(Facts(amount_minor=-100, description="зарплата")).code is None
    salary = categorize(Facts(amount_minor=90000, description="Oylik, MChJ Barakat Savdo"))
    assert salary.code == "INCOME_SALARY"  # words of income outrank a shop's name on a credit


def test_unknown_text_stays_uncategorized_and_the_verdict_is_deterministic() -> None:
    rng = random.Random(7)
    letters = "абвгдежзиклмнопрстуфхцчшэюяқҳҷӯғӣ"
    for _ in range(200):
        word = "".join(rng.choice(letters) for _ in range(rng.randint(6, 12)))
        facts = Facts(
            amount_minor=-rng.randint(1, 10**6), description=f"ИП {word} {rng.randint(1, 999)}"
        )
        first = categorize(facts)
        assert first == categorize(facts)
        assert first.code is None or first.confidence < 90


def test_mcc_ranges_and_codes() -> None:
    assert mcc_codes("3012") == "TRAVEL_FLIGHTS"
    assert mcc_codes("3700") == "TRAVEL_LODGING"
    assert mcc_codes("8021") == "MEDICAL_DENTAL"
    assert mcc_codes("8050") == "MEDICAL_CLINIC"
    assert mcc_codes("5411") == "FOOD_AND_DRINK_GROCERIES"
    assert mcc_codes("0000") is None
    assert mcc_codes("54a1") is None
    assert mcc_codes(None) is None


def test_normalize_folds_scripts_case_digits_and_apostrophes() -> None:
    assert normalize("Oʻzbekiston O'ZBEKISTON o`zbekiston") == "ozbekiston ozbekiston ozbekiston"
    assert normalize("Хуҷанд, ул. Ленина 12, тел. +992 92 777 00 11") == "xujand ul lenina tel"
    assert normalize("Babilon-T") != normalize("Babilon-M")
    assert normalize("Khujand") == normalize("Хуҷанд")
