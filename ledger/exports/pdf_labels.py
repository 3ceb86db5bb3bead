# ruff: noqa: RUF001  (Russian, Tajik and Uzbek text is the point of this table)
"""The PDF statement's words in Russian, Tajik (Cyrillic), Uzbek (Latin) and English.
The Tajik and Uzbek entries are our own translation and still need a native speaker's
review (as for the category labels, ledger/enrich/taxonomy.py)."""

from __future__ import annotations

LOCALES = ("ru", "tg", "uz", "en")

LABELS: dict[str, dict[str, str]] = {
    "title": {
        "ru": "Выписка по счёту",
        "tg": "Иқтибос аз суратҳисоб",
        "uz": "Hisob boʻyicha koʻchirma",
        "en": "Account statement",
    },
    "bank": {"ru": "Банк", "tg": "Бонк", "uz": "Bank", "en": "Bank"},
    "account": {"ru": "Счёт", "tg": "Суратҳисоб", "uz": "Hisob", "en": "Account"},
    "currency": {"ru": "Валюта", "tg": "Асъор", "uz": "Valyuta", "en": "Currency"},
    "period": {"ru": "Период", "tg": "Давра", "uz": "Davr", "en": "Period"},
    "opening": {
        "ru": "Входящий остаток",
        "tg": "Бақияи ибтидоӣ",
        "uz": "Boshlangʻich qoldiq",
        "en": "Opening balance",
    },
    "closing": {
        "ru": "Исходящий остаток",
        "tg": "Бақияи ниҳоӣ",
        "uz": "Yakuniy qoldiq",
        "en": "Closing balance",
    },
    "credits": {
        "ru": "Всего поступило",
        "tg": "Ҳамагӣ ворид шуд",
        "uz": "Jami kirim",
        "en": "Total credits",
    },
    "debits": {
        "ru": "Всего списано",
        "tg": "Ҳамагӣ хориҷ шуд",
        "uz": "Jami chiqim",
        "en": "Total debits",
    },
    "count": {
        "ru": "Количество операций",
        "tg": "Шумораи амалиётҳо",
        "uz": "Operatsiyalar soni",
        "en": "Number of transactions",
    },
    "movements": {
        "ru": "Операции",
        "tg": "Рӯйхати амалиётҳо",
        "uz": "Operatsiyalar",
        "en": "Transactions",
    },
    "date": {"ru": "Дата", "tg": "Сана", "uz": "Sana", "en": "Date"},
    "description": {"ru": "Описание", "tg": "Тавсиф", "uz": "Tavsif", "en": "Description"},
    "amount": {"ru": "Сумма", "tg": "Маблағ", "uz": "Summa", "en": "Amount"},
    "balance_after": {
        "ru": "Остаток после",
        "tg": "Бақия баъд аз он",
        "uz": "Keyingi qoldiq",
        "en": "Balance after",
    },
    "pending": {"ru": "в обработке", "tg": "дар коркард", "uz": "jarayonda", "en": "pending"},
    "balanced": {
        "ru": "Арифметика выписки",
        "tg": "Ҳисоби иқтибос",
        "uz": "Koʻchirma hisobi",
        "en": "Statement arithmetic",
    },
    "balanced_yes": {
        "ru": "сходится (входящий + поступления − списания = исходящий)",
        "tg": "мувофиқ аст (ибтидоӣ + воридот − хориҷот = ниҳоӣ)",
        "uz": "toʻgʻri (boshlangʻich + kirim − chiqim = yakuniy)",
        "en": "holds (opening + credits − debits = closing)",
    },
    "balanced_no": {
        "ru": "НЕ сходится",
        "tg": "мувофиқ НЕСТ",
        "uz": "toʻgʻri EMAS",
        "en": "does NOT hold",
    },
    "reconciliation": {
        "ru": "Сверка с банком",
        "tg": "Санҷиш бо бонк",
        "uz": "Bank bilan solishtirish",
        "en": "Reconciliation with the bank",
    },
    "reconciled_yes": {
        "ru": "подтверждено банком",
        "tg": "аз ҷониби бонк тасдиқ шуд",
        "uz": "bank tomonidan tasdiqlandi",
        "en": "confirmed by the bank",
    },
    "reconciled_no": {
        "ru": "найдено расхождение с банком",
        "tg": "фарқият бо бонк ёфт шуд",
        "uz": "bank bilan farq topildi",
        "en": "differs from the bank",
    },
    "reconciled_none": {
        "ru": "не проверено после окончания периода",
        "tg": "пас аз анҷоми давра санҷида нашудааст",
        "uz": "davr tugaganidan keyin tekshirilmagan",
        "en": "not checked since the period ended",
    },
    "generated": {
        "ru": "Сформировано",
        "tg": "Таҳия шуд",
        "uz": "Yaratilgan",
        "en": "Generated",
    },
    "page": {
        "ru": "Страница {page} из {pages}",
        "tg": "Саҳифаи {page} аз {pages}",
        "uz": "{page}-sahifa, jami {pages}",
        "en": "Page {page} of {pages}",
    },
}


def label(key: str, locale: str) -> str:
    return LABELS[key].get(locale, LABELS[key]["ru"])
