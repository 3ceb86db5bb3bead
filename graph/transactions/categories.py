# ruff: noqa: RUF001, RUF002  (Cyrillic and Uzbek letters are the point of this table)
"""Category labels in Russian, Tajik (Cyrillic), Uzbek (Latin) and English.

From ../shared/reference/domain-tj.md, section 6; entries marked there as our own
translation still need a native speaker's review. Uzbek uses the official letters
ʻ (U+02BB) and ʼ (U+02BC).
"""

from __future__ import annotations

from graph.core.locales import Locale

_L = Locale
LABELS: dict[str, dict[Locale, str]] = {
    "groceries": {
        _L.RU: "Продукты",
        _L.TG: "Маҳсулоти хӯрокворӣ",
        _L.UZ: "Oziq-ovqat",
        _L.EN: "Groceries",
    },
    "restaurants": {
        _L.RU: "Кафе и рестораны",
        _L.TG: "Қаҳвахонаҳо ва тарабхонаҳо",
        _L.UZ: "Kafe va restoranlar",
        _L.EN: "Cafes & restaurants",
    },
    "transport": {_L.RU: "Транспорт", _L.TG: "Нақлиёт", _L.UZ: "Transport", _L.EN: "Transport"},
    "mobile": {
        _L.RU: "Мобильная связь",
        _L.TG: "Алоқаи мобилӣ",
        _L.UZ: "Mobil aloqa",
        _L.EN: "Mobile",
    },
    "internet": {
        _L.RU: "Интернет и ТВ",
        _L.TG: "Интернет ва ТВ",
        _L.UZ: "Internet va TV",
        _L.EN: "Internet & TV",
    },
    "utilities": {
        _L.RU: "Коммунальные услуги",
        _L.TG: "Хизматрасониҳои коммуналӣ",
        _L.UZ: "Kommunal xizmatlar",
        _L.EN: "Utilities",
    },
    "electricity": {
        _L.RU: "Электроэнергия",
        _L.TG: "Нерӯи барқ",
        _L.UZ: "Elektr energiyasi",
        _L.EN: "Electricity",
    },
    "water": {
        _L.RU: "Водоснабжение",
        _L.TG: "Обтаъминкунӣ",
        _L.UZ: "Suv taʼminoti",
        _L.EN: "Water",
    },
    "transfers": {_L.RU: "Переводы", _L.TG: "Интиқолҳо", _L.UZ: "Oʻtkazmalar", _L.EN: "Transfers"},
    "cash_withdrawal": {
        _L.RU: "Снятие наличных",
        _L.TG: "Гирифтани пули нақд",
        _L.UZ: "Naqd pul yechish",
        _L.EN: "Cash withdrawal",
    },
    "shopping": {_L.RU: "Покупки", _L.TG: "Харидҳо", _L.UZ: "Xaridlar", _L.EN: "Shopping"},
    "health": {
        _L.RU: "Здоровье и аптеки",
        _L.TG: "Тандурустӣ ва дорухонаҳо",
        _L.UZ: "Sogʻliqni saqlash",
        _L.EN: "Health & pharmacy",
    },
    "education": {_L.RU: "Образование", _L.TG: "Маориф", _L.UZ: "Taʼlim", _L.EN: "Education"},
    "taxes_fines": {
        _L.RU: "Налоги и штрафы",
        _L.TG: "Андозҳо ва ҷаримаҳо",
        _L.UZ: "Soliqlar va jarimalar",
        _L.EN: "Taxes & fines",
    },
    "gov_services": {
        _L.RU: "Госуслуги",
        _L.TG: "Хизматрасониҳои давлатӣ",
        _L.UZ: "Davlat xizmatlari",
        _L.EN: "Government services",
    },
    "installments": {
        _L.RU: "Рассрочка (Насия)",
        _L.TG: "Насия / Фурӯш бо муҳлат",
        _L.UZ: "Nasiya / Muddatli toʻlov",
        _L.EN: "Installments (Nasiya)",
    },
    "cashback": {_L.RU: "Кэшбэк", _L.TG: "Кэшбэк", _L.UZ: "Keshbek", _L.EN: "Cashback"},
    "fees": {
        _L.RU: "Комиссии",
        _L.TG: "Комиссияҳо",
        _L.UZ: "Komissiyalar",
        _L.EN: "Fees & commissions",
    },
    "salary_income": {
        _L.RU: "Зарплата и доходы",
        _L.TG: "Музд ва даромад",
        _L.UZ: "Oylik va daromad",
        _L.EN: "Salary & income",
    },
    "remittance_in": {
        _L.RU: "Входящие переводы",
        _L.TG: "Интиқолҳои воридотӣ",
        _L.UZ: "Kiruvchi oʻtkazmalar",
        _L.EN: "Incoming remittances",
    },
}

UNCATEGORIZED: dict[Locale, str] = {
    _L.RU: "Без категории",
    _L.TG: "Бе категория",
    _L.UZ: "Toifasiz",
    _L.EN: "Uncategorized",
}


def category_label(code: str, locale: Locale) -> str:
    """The label of a category code; an unknown code is shown as itself, never dropped."""
    if not code:
        return UNCATEGORIZED[locale]
    labels = LABELS.get(code)
    return labels[locale] if labels else code
