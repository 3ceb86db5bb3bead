"""Labels of spending groups: categories, merchants and months, in the customer's language."""

from __future__ import annotations

from graph.categories.types import category_label
from graph.core.locales import Locale

_L = Locale
MONTHS: dict[Locale, tuple[str, ...]] = {
    _L.RU: (
        "Январь", "Февраль", "Март", "Апрель", "Май", "Июнь",
        "Июль", "Август", "Сентябрь", "Октябрь", "Ноябрь", "Декабрь",
    ),
    _L.TG: (
        "Январ", "Феврал", "Март", "Апрел", "Май", "Июн",
        "Июл", "Август", "Сентябр", "Октябр", "Ноябр", "Декабр",
    ),
    _L.UZ: (
        "Yanvar", "Fevral", "Mart", "Aprel", "May", "Iyun",
        "Iyul", "Avgust", "Sentabr", "Oktabr", "Noyabr", "Dekabr",
    ),
    _L.EN: (
        "January", "February", "March", "April", "May", "June",
        "July", "August", "September", "October", "November", "December",
    ),
}  # fmt: skip

UNKNOWN_MERCHANT: dict[Locale, str] = {
    _L.RU: "Прочее",
    _L.TG: "Дигар",
    _L.UZ: "Boshqa",
    _L.EN: "Other",
}


def group_label(grouping: str, key: str, locale: Locale) -> str:
    if grouping in ("CATEGORY", "PRIMARY_CATEGORY"):
        return category_label(key, locale)
    if grouping == "MERCHANT":
        return key or UNKNOWN_MERCHANT[locale]
    year, month = key.split("-")
    return f"{MONTHS[locale][int(month) - 1]} {year}"
