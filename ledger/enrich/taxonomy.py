# ruff: noqa: RUF001, RUF002  (Cyrillic and Uzbek letters are the point of this table)
"""The category taxonomy: two levels, with every label in Russian, Tajik, Uzbek and English.

The one place categories and their labels live (the API, insights and exports read it here).
`primary` follows Plaid's personal finance categories; a `code` is `PRIMARY_DETAIL`, our
set, fitted to Tajikistan (mobile top-ups, electricity, water, Nasiya, remittances, ...).
Codes are at most 32 characters (the width of `user_category` and `category_rule.category`).

Tajik is Cyrillic with ҳ қ ғ ӯ ҷ ӣ; Uzbek is Latin with the official ʻ (U+02BB, in oʻ/gʻ)
and ʼ (U+02BC, the tutuq). Labels marked "our translation" in
shared/reference/domain-tj.md section 6 still want a native speaker's review.

Bank codes: the category keys Alif and the sandbox send (`groceries`, `mobile`, ...) map
onto codes here (`BANK_CODES`); a label asked for such a key answers with its code's label.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

LOCALES = ("ru", "tg", "uz", "en")

# primary -> (ru, tg, uz, en)
PRIMARY: dict[str, tuple[str, str, str, str]] = {
    "INCOME": ("Доходы", "Даромад", "Daromad", "Income"),
    "TRANSFER_IN": (
        "Входящие переводы",
        "Интиқолҳои воридотӣ",
        "Kiruvchi oʻtkazmalar",
        "Transfers in",
    ),
    "TRANSFER_OUT": (
        "Исходящие переводы",
        "Интиқолҳои содиротӣ",
        "Chiquvchi oʻtkazmalar",
        "Transfers out",
    ),
    "LOAN_PAYMENTS": (
        "Кредиты и рассрочка",
        "Қарзҳо ва насия",
        "Kreditlar va nasiya",
        "Loan payments",
    ),
    "BANK_FEES": ("Комиссии банка", "Комиссияҳои бонк", "Bank komissiyalari", "Bank fees"),
    "ENTERTAINMENT": ("Развлечения", "Фароғат", "Koʻngilochar", "Entertainment"),
    "FOOD_AND_DRINK": (
        "Еда и напитки",
        "Хӯрок ва нӯшокӣ",
        "Oziq-ovqat va ichimliklar",
        "Food & drink",
    ),
    "GENERAL_MERCHANDISE": ("Покупки", "Харидҳо", "Xaridlar", "Shopping"),
    "HOME_IMPROVEMENT": ("Дом и ремонт", "Хона ва таъмир", "Uy va taʼmirlash", "Home improvement"),
    "MEDICAL": ("Здоровье и аптеки", "Тандурустӣ ва дорухонаҳо", "Sogʻliqni saqlash", "Medical"),
    "PERSONAL_CARE": ("Уход за собой", "Нигоҳубини шахсӣ", "Shaxsiy parvarish", "Personal care"),
    "GENERAL_SERVICES": ("Услуги", "Хизматрасониҳо", "Xizmatlar", "Services"),
    "GOVERNMENT_AND_NON_PROFIT": (
        "Госуслуги и налоги",
        "Хизматрасониҳои давлатӣ ва андозҳо",
        "Davlat xizmatlari va soliqlar",
        "Government & non-profit",
    ),
    "TRANSPORTATION": ("Транспорт", "Нақлиёт", "Transport", "Transportation"),
    "TRAVEL": ("Путешествия", "Сафар", "Sayohat", "Travel"),
    "RENT_AND_UTILITIES": (
        "Жильё и коммунальные услуги",
        "Манзил ва хизматрасониҳои коммуналӣ",
        "Uy-joy va kommunal xizmatlar",
        "Rent & utilities",
    ),
}

# code -> (ru, tg, uz, en)
DETAILED: dict[str, tuple[str, str, str, str]] = {
    "INCOME_SALARY": ("Зарплата", "Музди меҳнат", "Oylik maosh", "Salary"),
    "INCOME_CASHBACK": ("Кэшбэк", "Кэшбэк", "Keshbek", "Cashback"),
    "INCOME_INTEREST": ("Проценты по вкладам", "Фоизҳои амонат", "Omonat foizlari", "Interest"),
    "INCOME_PENSION_AND_BENEFITS": (
        "Пенсии и пособия",
        "Нафақа ва кумакпулиҳо",
        "Pensiya va nafaqalar",
        "Pension & benefits",
    ),
    "INCOME_OTHER": ("Прочие доходы", "Даромади дигар", "Boshqa daromadlar", "Other income"),
    "TRANSFER_IN_REMITTANCE": (
        "Денежные переводы из-за рубежа",
        "Интиқолҳои пулӣ аз хориҷа",
        "Xorijdan pul oʻtkazmalari",
        "Remittances received",
    ),
    "TRANSFER_IN_FROM_PERSON": (
        "Переводы от людей",
        "Интиқол аз шахсон",
        "Shaxslardan oʻtkazmalar",
        "From people",
    ),
    "TRANSFER_IN_OWN_ACCOUNT": (
        "Между своими счетами",
        "Байни суратҳисобҳои худ",
        "Oʻz hisoblarim orasida",
        "Between own accounts",
    ),
    "TRANSFER_IN_CASH_DEPOSIT": (
        "Пополнение наличными",
        "Пур кардан бо пули нақд",
        "Naqd pul bilan toʻldirish",
        "Cash deposit",
    ),
    "TRANSFER_IN_OTHER": (
        "Прочие поступления",
        "Воридоти дигар",
        "Boshqa tushumlar",
        "Other transfers in",
    ),
    "TRANSFER_OUT_REMITTANCE": (
        "Денежные переводы за рубеж",
        "Интиқолҳои пулӣ ба хориҷа",
        "Xorijga pul oʻtkazmalari",
        "Remittances sent",
    ),
    "TRANSFER_OUT_TO_PERSON": (
        "Переводы людям",
        "Интиқол ба шахсон",
        "Shaxslarga oʻtkazmalar",
        "To people",
    ),
    "TRANSFER_OUT_OWN_ACCOUNT": (
        "Между своими счетами",
        "Байни суратҳисобҳои худ",
        "Oʻz hisoblarim orasida",
        "Between own accounts",
    ),
    "TRANSFER_OUT_CASH_WITHDRAWAL": (
        "Снятие наличных",
        "Гирифтани пули нақд",
        "Naqd pul yechish",
        "Cash withdrawal",
    ),
    "TRANSFER_OUT_CURRENCY_EXCHANGE": (
        "Обмен валюты",
        "Мубодилаи асъор",
        "Valyuta ayirboshlash",
        "Currency exchange",
    ),
    "TRANSFER_OUT_SAVINGS": (
        "Вклады и накопления",
        "Амонатҳо ва пасандозҳо",
        "Omonatlar va jamgʻarmalar",
        "Savings",
    ),
    "TRANSFER_OUT_OTHER": (
        "Прочие переводы",
        "Интиқолҳои дигар",
        "Boshqa oʻtkazmalar",
        "Other transfers out",
    ),
    "LOAN_PAYMENTS_NASIYA": (
        "Рассрочка (Насия)",
        "Насия / Фурӯш бо муҳлат",
        "Nasiya / Muddatli toʻlov",
        "Installments (Nasiya)",
    ),
    "LOAN_PAYMENTS_LOAN": (
        "Погашение кредита",
        "Пардохти қарз",
        "Kreditni toʻlash",
        "Loan repayment",
    ),
    "LOAN_PAYMENTS_CREDIT_CARD": (
        "Кредитная карта",
        "Корти кредитӣ",
        "Kredit karta",
        "Credit card payment",
    ),
    "BANK_FEES_TRANSFER": (
        "Комиссия за перевод",
        "Комиссия барои интиқол",
        "Oʻtkazma komissiyasi",
        "Transfer fees",
    ),
    "BANK_FEES_ATM": (
        "Комиссия банкомата",
        "Комиссияи банкомат",
        "Bankomat komissiyasi",
        "ATM fees",
    ),
    "BANK_FEES_SERVICE": (
        "Обслуживание счёта и карты",
        "Хизматрасонии суратҳисоб ва корт",
        "Hisob va karta xizmati",
        "Account & card service",
    ),
    "BANK_FEES_OTHER": (
        "Прочие комиссии",
        "Комиссияҳои дигар",
        "Boshqa komissiyalar",
        "Other bank fees",
    ),
    "ENTERTAINMENT_STREAMING": (
        "Подписки и стриминг",
        "Обунаҳо ва стриминг",
        "Obunalar va striming",
        "Streaming & subscriptions",
    ),
    "ENTERTAINMENT_EVENTS": (
        "Кино, концерты, события",
        "Кино, консертҳо, чорабиниҳо",
        "Kino, konsertlar, tadbirlar",
        "Cinema & events",
    ),
    "ENTERTAINMENT_GAMES": ("Игры", "Бозиҳо", "Oʻyinlar", "Games"),
    "ENTERTAINMENT_OTHER": (
        "Прочие развлечения",
        "Фароғати дигар",
        "Boshqa koʻngilochar",
        "Other entertainment",
    ),
    "FOOD_AND_DRINK_GROCERIES": ("Продукты", "Маҳсулоти хӯрокворӣ", "Oziq-ovqat", "Groceries"),
    "FOOD_AND_DRINK_RESTAURANT": (
        "Кафе и рестораны",
        "Қаҳвахонаҳо ва тарабхонаҳо",
        "Kafe va restoranlar",
        "Cafes & restaurants",
    ),
    "FOOD_AND_DRINK_FAST_FOOD": ("Фастфуд", "Фастфуд", "Fastfud", "Fast food"),
    "FOOD_AND_DRINK_COFFEE": ("Кофейни", "Қаҳвахонаҳо", "Qahvaxonalar", "Coffee"),
    "FOOD_AND_DRINK_DELIVERY": (
        "Доставка еды",
        "Расонидани хӯрок",
        "Ovqat yetkazib berish",
        "Food delivery",
    ),
    "GENERAL_MERCHANDISE_MARKETPLACE": (
        "Маркетплейсы",
        "Маркетплейсҳо",
        "Marketpleyslar",
        "Online marketplaces",
    ),
    "GENERAL_MERCHANDISE_ELECTRONICS": ("Электроника", "Электроника", "Elektronika", "Electronics"),
    "GENERAL_MERCHANDISE_CLOTHING": (
        "Одежда и обувь",
        "Либос ва пойафзол",
        "Kiyim va poyabzal",
        "Clothing & shoes",
    ),
    "GENERAL_MERCHANDISE_DEPARTMENT": (
        "Универмаги и ТЦ",
        "Универмагҳо ва марказҳои савдо",
        "Univermaglar va savdo markazlari",
        "Department stores",
    ),
    "GENERAL_MERCHANDISE_BOOKS": (
        "Книги и канцтовары",
        "Китобҳо ва лавозимоти хаттӣ",
        "Kitoblar va kanselyariya",
        "Books & stationery",
    ),
    "GENERAL_MERCHANDISE_OTHER": (
        "Прочие покупки",
        "Харидҳои дигар",
        "Boshqa xaridlar",
        "Other shopping",
    ),
    "HOME_IMPROVEMENT_HARDWARE": (
        "Стройматериалы",
        "Маводи сохтмонӣ",
        "Qurilish mollari",
        "Hardware & building",
    ),
    "HOME_IMPROVEMENT_FURNITURE": (
        "Мебель и техника для дома",
        "Мебел ва техникаи хонагӣ",
        "Mebel va maishiy texnika",
        "Furniture & appliances",
    ),
    "HOME_IMPROVEMENT_REPAIR": (
        "Ремонт и обслуживание",
        "Таъмир ва хизматрасонӣ",
        "Taʼmirlash va xizmat",
        "Repair & maintenance",
    ),
    "MEDICAL_PHARMACY": ("Аптеки", "Дорухонаҳо", "Dorixonalar", "Pharmacies"),
    "MEDICAL_CLINIC": (
        "Клиники и врачи",
        "Клиникаҳо ва табибон",
        "Klinikalar va shifokorlar",
        "Clinics & doctors",
    ),
    "MEDICAL_DENTAL": ("Стоматология", "Дандонпизишкӣ", "Stomatologiya", "Dental care"),
    "MEDICAL_OTHER": (
        "Прочие медицинские расходы",
        "Хароҷоти дигари тиббӣ",
        "Boshqa tibbiy xarajatlar",
        "Other medical",
    ),
    "PERSONAL_CARE_BEAUTY": (
        "Салоны красоты",
        "Толорҳои ҳусн",
        "Goʻzallik salonlari",
        "Hair & beauty",
    ),
    "PERSONAL_CARE_FITNESS": (
        "Спорт и фитнес",
        "Варзиш ва фитнес",
        "Sport va fitnes",
        "Gyms & fitness",
    ),
    "PERSONAL_CARE_OTHER": (
        "Прочий уход",
        "Нигоҳубини дигар",
        "Boshqa parvarish",
        "Other personal care",
    ),
    "GENERAL_SERVICES_EDUCATION": ("Образование", "Маориф", "Taʼlim", "Education"),
    "GENERAL_SERVICES_INSURANCE": ("Страхование", "Суғурта", "Sugʻurta", "Insurance"),
    "GENERAL_SERVICES_POSTAL": (
        "Почта и доставка",
        "Почта ва расонидан",
        "Pochta va yetkazib berish",
        "Postage & delivery",
    ),
    "GENERAL_SERVICES_OTHER": (
        "Прочие услуги",
        "Хизматрасониҳои дигар",
        "Boshqa xizmatlar",
        "Other services",
    ),
    "GOVERNMENT_AND_NON_PROFIT_TAXES": ("Налоги", "Андозҳо", "Soliqlar", "Taxes"),
    "GOVERNMENT_AND_NON_PROFIT_FINES": ("Штрафы", "Ҷаримаҳо", "Jarimalar", "Fines"),
    "GOVERNMENT_AND_NON_PROFIT_FEES": (
        "Госуслуги и пошлины",
        "Хизматрасониҳои давлатӣ ва боҷҳо",
        "Davlat xizmatlari va bojlar",
        "Government services & fees",
    ),
    "GOVERNMENT_AND_NON_PROFIT_GIVING": ("Благотворительность", "Хайрия", "Xayriya", "Donations"),
    "TRANSPORTATION_TAXI": ("Такси", "Таксӣ", "Taksi", "Taxis & ride hailing"),
    "TRANSPORTATION_FUEL": ("Топливо (АЗС)", "Сӯзишворӣ (ПСС)", "Yoqilgʻi (AYoQSh)", "Fuel"),
    "TRANSPORTATION_PUBLIC_TRANSIT": (
        "Общественный транспорт",
        "Нақлиёти ҷамъиятӣ",
        "Jamoat transporti",
        "Public transit",
    ),
    "TRANSPORTATION_PARKING": ("Парковка", "Истгоҳи мошин", "Avtoturargoh", "Parking"),
    "TRANSPORTATION_CAR_SERVICE": (
        "Автосервис",
        "Хизматрасонии автомобил",
        "Avtoservis",
        "Car service",
    ),
    "TRAVEL_FLIGHTS": ("Авиабилеты", "Чиптаҳои ҳавопаймо", "Aviachiptalar", "Flights"),
    "TRAVEL_LODGING": ("Гостиницы", "Меҳмонхонаҳо", "Mehmonxonalar", "Lodging"),
    "TRAVEL_TRAINS_AND_BUSES": (
        "Поезда и автобусы",
        "Қаторҳо ва автобусҳо",
        "Poyezdlar va avtobuslar",
        "Trains & intercity buses",
    ),
    "TRAVEL_OTHER": ("Прочие поездки", "Сафарҳои дигар", "Boshqa sayohatlar", "Other travel"),
    "RENT_AND_UTILITIES_ELECTRICITY": (
        "Электроэнергия",
        "Нерӯи барқ",
        "Elektr energiyasi",
        "Electricity",
    ),
    "RENT_AND_UTILITIES_WATER": ("Водоснабжение", "Обтаъминкунӣ", "Suv taʼminoti", "Water"),
    "RENT_AND_UTILITIES_GAS": ("Газ", "Газ", "Gaz", "Gas"),
    "RENT_AND_UTILITIES_HEATING": ("Отопление", "Гармидиҳӣ", "Isitish", "Heating"),
    "RENT_AND_UTILITIES_INTERNET_TV": (
        "Интернет и ТВ",
        "Интернет ва ТВ",
        "Internet va TV",
        "Internet & TV",
    ),
    "RENT_AND_UTILITIES_MOBILE": ("Мобильная связь", "Алоқаи мобилӣ", "Mobil aloqa", "Mobile"),
    "RENT_AND_UTILITIES_HOUSING": (
        "Коммунальные услуги (ЖКХ)",
        "Хизматрасониҳои коммуналӣ",
        "Kommunal xizmatlar",
        "Housing services",
    ),
    "RENT_AND_UTILITIES_RENT": ("Аренда жилья", "Иҷораи манзил", "Uy ijarasi", "Rent"),
}

UNCATEGORIZED = ("Без категории", "Бе категория", "Toifasiz", "Uncategorized")

# The category keys banks send (Alif's CATEGORY attribute, its service-provider codes, the
# sandbox): the bank's own category, highest after the customer's (ledger/enrich/categorize).
BANK_CODES: dict[str, str] = {
    "groceries": "FOOD_AND_DRINK_GROCERIES",
    "restaurants": "FOOD_AND_DRINK_RESTAURANT",
    "transport": "TRANSPORTATION_TAXI",
    "mobile": "RENT_AND_UTILITIES_MOBILE",
    "internet": "RENT_AND_UTILITIES_INTERNET_TV",
    "utilities": "RENT_AND_UTILITIES_HOUSING",
    "electricity": "RENT_AND_UTILITIES_ELECTRICITY",
    "water": "RENT_AND_UTILITIES_WATER",
    "gas": "RENT_AND_UTILITIES_GAS",
    "transfers": "TRANSFER_OUT_TO_PERSON",
    "cash_withdrawal": "TRANSFER_OUT_CASH_WITHDRAWAL",
    "shopping": "GENERAL_MERCHANDISE_OTHER",
    "health": "MEDICAL_PHARMACY",
    "education": "GENERAL_SERVICES_EDUCATION",
    "taxes_fines": "GOVERNMENT_AND_NON_PROFIT_TAXES",
    "gov_services": "GOVERNMENT_AND_NON_PROFIT_FEES",
    "installments": "LOAN_PAYMENTS_NASIYA",
    "cashback": "INCOME_CASHBACK",
    "fees": "BANK_FEES_OTHER",
    "salary_income": "INCOME_SALARY",
    "remittance_in": "TRANSFER_IN_REMITTANCE",
}
# Bank keys whose direction decides the code (a bank's "transfers" are in or out).
_BANK_CREDIT_CODES = {"transfers": "TRANSFER_IN_FROM_PERSON"}

MAX_CODE = 32


@dataclass(frozen=True, slots=True)
class Category:
    code: str
    primary: str


@functools.lru_cache(maxsize=1024)  # asked for every row a page shows
def primary_of(code: str) -> str | None:
    """The primary of a detailed code (or of a primary itself); None for an unknown code."""
    code = BANK_CODES.get(code, code)
    if code in PRIMARY:
        return code
    if code not in DETAILED:
        return None
    return max((p for p in PRIMARY if code.startswith(p + "_")), key=len)


def canonical(code: str) -> str:
    """A taxonomy code for a code or a bank key (unknown codes stay as they are)."""
    return BANK_CODES.get(code, code)


def bank_code(key: str, *, credit: bool) -> str | None:
    """The taxonomy code of a bank's own category key, by the money's direction."""
    if credit and key in _BANK_CREDIT_CODES:
        return _BANK_CREDIT_CODES[key]
    return BANK_CODES.get(key) or (key if key in DETAILED else None)


def is_code(code: str) -> bool:
    """A detailed code a customer or a rule may set."""
    return code in DETAILED


def label(code: str | None, locale: str) -> str:
    """The label of a code (detailed, primary or bank key) in `locale` (ru tg uz en);
    an unknown code is shown as itself, never dropped; none is "Uncategorized"."""
    index = LOCALES.index(locale)
    if not code:
        return UNCATEGORIZED[index]
    code = canonical(code)
    labels = DETAILED.get(code) or PRIMARY.get(code)
    return labels[index] if labels else code


def categories() -> list[Category]:
    """Every detailed category, in the taxonomy's order."""
    return [Category(code, primary_of(code) or "") for code in DETAILED]


# Codes that are money moving between the customer's own pockets, never spending.
OWN_TRANSFER_CODES = ("TRANSFER_IN_OWN_ACCOUNT", "TRANSFER_OUT_OWN_ACCOUNT")
