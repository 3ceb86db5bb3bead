"""Static reference data for realistic Tajik banking (see shared/reference/domain-tj.md).

Real: operator prefixes, BINs, BICs, bank code, NBT rate anchors, bazaar and payee names.
Fictional: every person, card number, account number, and the small shops and cafes.
"""

# Russian and Tajik text is data here, so Cyrillic letters are intended.
# ruff: noqa: RUF001

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from connectors.sandbox.models import Party

ALIF_BIC = "ALIFTJ22"
ALIF_BANK_CODE = "350101900"
ALIF_FULL_NAME = 'OJSC "Alif Bank"'
ALIF_WEBSITE = "https://alif.tj"
ALIF_LOGO = "https://alif.tj/favicon.ico"

CURRENCY_EXPONENTS = {"TJS": 2, "USD": 2, "RUB": 2}
# Numeric ISO 4217 codes as they appear at positions 6-8 of an account number (RUB keeps
# the legacy 810, as Tajik requisites do).
CURRENCY_NUMERIC = {"TJS": "972", "USD": "840", "RUB": "810"}

ALIF_VISA_BINS = ("402801", "43225200", "439051", "44448844", "44448888")
ALIF_MASTERCARD_BINS = ("53109925", "53541913", "54135252", "54135299")
KORTI_MILLI_PREFIX = "9762"

# Operator -> mobile prefixes after +992 (libphonenumber's carrier table).
MOBILE_OPERATORS: dict[str, tuple[str, ...]] = {
    "Tcell": ("93", "92", "50", "77", "99"),
    "MegaFon Tajikistan": ("90", "88", "55", "97"),
    "ZET-Mobile": ("91", "80", "81", "40"),
    "Babilon-Mobile": ("98", "94", "75"),
}

# Official NBT rates (TJS per unit) on the dates the domain notes list; interpolated
# linearly in between and held flat outside.
NBT_RATES: dict[str, tuple[tuple[date, Decimal], ...]] = {
    "USD": (
        (date(2024, 1, 9), Decimal("10.9592")),
        (date(2024, 5, 24), Decimal("10.8136")),
        (date(2024, 7, 9), Decimal("10.6769")),
        (date(2025, 2, 3), Decimal("10.9252")),
        (date(2025, 4, 4), Decimal("10.8763")),
        (date(2025, 5, 21), Decimal("10.3135")),
        (date(2025, 9, 29), Decimal("9.4063")),
    ),
    "RUB": (
        (date(2024, 1, 9), Decimal("0.1200")),
        (date(2024, 5, 24), Decimal("0.1199")),
        (date(2024, 7, 9), Decimal("0.1208")),
        (date(2025, 2, 3), Decimal("0.1153")),
        (date(2025, 4, 4), Decimal("0.1289")),
        (date(2025, 5, 21), Decimal("0.1277")),
        (date(2025, 9, 29), Decimal("0.1125")),
    ),
    "EUR": (
        (date(2024, 1, 9), Decimal("11.9927")),
        (date(2024, 5, 24), Decimal("11.7392")),
        (date(2024, 7, 9), Decimal("11.5642")),
        (date(2025, 2, 3), Decimal("11.3382")),
        (date(2025, 4, 4), Decimal("12.0466")),
        (date(2025, 5, 21), Decimal("11.5986")),
        (date(2025, 9, 29), Decimal("10.9875")),
    ),
}
# Alif's margin around the official rate: it buys foreign currency a little cheaper and
# sells it a little dearer.
BANK_BUYS = Decimal("0.995")
BANK_SELLS = Decimal("1.005")

MONEY_TRANSFER_SYSTEMS = ("Золотая Корона", "Unistream", "Contact", "Western Union")
# The rate each corridor pays out at, as a share of NBT's official rate of the day: the
# exchange-rate margin is what a remittance costs beyond its fee (docs/sandbox.md). Our
# own choice of plausible values, not published tariffs: RU->TJ money-transfer systems pay
# somoni at 1-2.5 % under the official rate, one system dearer than another; Visa Direct to
# the USA sells dollars 1 % over it, on top of its 1 % fee.
REMITTANCE_PAYOUT_RATES: dict[str, Decimal] = {
    "Золотая Корона": Decimal("0.988"),
    "Unistream": Decimal("0.984"),
    "Contact": Decimal("0.990"),
    "Western Union": Decimal("0.975"),
}
VISA_DIRECT_SELLS = Decimal("1.010")


@dataclass(frozen=True, slots=True)
class Merchant:
    name: str
    mcc: str
    category: str


MERCHANTS: dict[str, tuple[Merchant, ...]] = {
    "groceries": (
        Merchant("Auchan Dushanbe Mall", "5411", "groceries"),
        Merchant("Бозори Шоҳмансур", "5499", "groceries"),
        Merchant("Бозори Баракат", "5499", "groceries"),
        Merchant("Бозори Корвон", "5499", "groceries"),
        Merchant("Бозори Деҳқон", "5499", "groceries"),
        Merchant("Бозори Меҳргон", "5499", "groceries"),
        Merchant("Мағозаи «Сомон»", "5411", "groceries"),
    ),
    "restaurants": (
        Merchant("Чойхонаи «Роҳат»", "5812", "restaurants"),
        Merchant("Кафе «Фаровон»", "5812", "restaurants"),
        Merchant("Оши Палов Марказ", "5812", "restaurants"),
        Merchant("Lavash Dushanbe", "5814", "restaurants"),
        Merchant("Coffee House Рудакӣ", "5814", "restaurants"),
    ),
    "transport": (
        Merchant("Такси Максим", "4121", "transport"),
        Merchant("АЗС Газпромнефть-Таджикистан", "5541", "transport"),
        Merchant("Душанбе: автобус", "4111", "transport"),
    ),
    "health": (
        Merchant("Дорухонаи «Шифо»", "5912", "health"),
        Merchant("Аптека «Саломатӣ»", "5912", "health"),
        Merchant("Клиникаи «Ибни Сино»", "8062", "health"),
    ),
    "shopping": (
        Merchant("Alif Shop", "5399", "shopping"),
        Merchant("Dushanbe Mall", "5311", "shopping"),
        Merchant("ЦУМ Душанбе", "5311", "shopping"),
        Merchant("Техномир (Фирдавсӣ)", "5732", "shopping"),
    ),
    "education": (
        Merchant("Маркази забономӯзии «Oxford»", "8299", "education"),
        Merchant("Китобфурӯшии «Маърифат»", "5942", "education"),
    ),
    "atm": (
        Merchant("Банкомат Alif, пр. Рудаки 32", "6011", "cash_withdrawal"),
        Merchant("Банкомат Alif, ТЦ Сино", "6011", "cash_withdrawal"),
        Merchant("Банкомат Alif, Хуҷанд, кӯч. Ленин", "6011", "cash_withdrawal"),
    ),
}


@dataclass(frozen=True, slots=True)
class Provider:
    """A payee of service payments; `account_digits` 0 means the customer's phone."""

    name: str
    category: str
    account_digits: int
    tx_type: str = "SERVICE_PAYMENT"


PROVIDERS: dict[str, tuple[Provider, ...]] = {
    "mobile": tuple(Provider(name, "mobile", 0, tx_type="TOP_UP") for name in MOBILE_OPERATORS),
    "electricity": (Provider("ОАХШ «Барқи Тоҷик»", "electricity", 9),),
    "water": (Provider("ГУП «Душанбеводоканал»", "water", 8),),
    # Housing services (rubbish, building upkeep): a generic, fictional district payee.
    "housing": (Provider("ЖКХ ноҳияи Сино", "utilities", 8),),
    "internet": (Provider("Babilon-T", "internet", 7), Provider("Tojiktelecom", "internet", 8)),
    "taxes": (Provider("Кумитаи андоз (Налоговый комитет)", "taxes_fines", 9),),
    "gov": (
        Provider("Хизматрасониҳои давлатӣ: шиноснома", "gov_services", 10),
        Provider("ГАИ МВД РТ: штрафы", "taxes_fines", 10),
    ),
    "tuition": (Provider("ТНУ: оплата за обучение", "education", 6),),
    "nasiya": (Provider("Alif Nasiya", "installments", 8, tx_type="INSTALLMENT"),),
}


@dataclass(frozen=True, slots=True)
class FeeRule:
    """Fee on a transfer, in the account's minor units: max(minimum, bps) + fixed."""

    summary: str
    bps: int = 0
    minimum: int = 0
    fixed: int = 0


@dataclass(frozen=True, slots=True)
class Kind:
    """One kind of transaction an account produces.

    `builder` names the function in data.py that makes it; `weight` is events per month
    at the realistic volume (relative frequency otherwise). Amounts are minor units of
    the account's currency, except for FX kinds, whose range is in the foreign currency.
    """

    builder: str
    credit: bool
    weight: float
    lo: int
    hi: int
    step: int = 1
    pool: str = ""
    fee: FeeRule | None = None


@dataclass(frozen=True, slots=True)
class AccountProfile:
    product_code: str
    currency: str
    label: str
    number_class: str  # the first five digits of the account number
    balance_lo: int  # planned balances stay in this band (minor units)
    balance_hi: int
    kinds: tuple[Kind, ...]
    business: bool = False


@dataclass(frozen=True, slots=True)
class CardSpec:
    account_index: int
    network: str
    bin: str
    # active | hot_listed (reported lost, replacement requested) | cancelled (renewed)
    state: str


@dataclass(frozen=True, slots=True)
class Archetype:
    key: str
    people: tuple[tuple[str, str], ...]
    accounts: tuple[AccountProfile, ...]
    cards: tuple[CardSpec, ...]
    business_names: tuple[tuple[str, str], ...] = ()  # (name, MCC)


def major(units: int) -> int:
    """Whole TJS, USD or RUB in minor units (all three have two decimals)."""
    return units * 100


_P2P_FEE = FeeRule("Комиссия за перевод на карту другого банка 1%", bps=100, minimum=major(1))
_VISA_DIRECT_FEE = FeeRule("Visa Direct: комиссия 1%", bps=100, minimum=major(10))
_SWIFT_FEE = FeeRule("SWIFT: комиссия 0.1%, мин. 25 USD", bps=10, minimum=major(25))
_INTERBANK_FEE = FeeRule("Межбанковский перевод (АСМДП)", fixed=major(3))

FAMILY = Archetype(
    key="family",
    people=(("Dilnoza", "Rahimova"), ("Firuza", "Karimova"), ("Gulnora", "Nazarova")),
    accounts=(
        AccountProfile(
            "WALLET",
            "TJS",
            "Alif Mobi: кошелёк",
            "20218",
            major(50),
            major(1200),
            (
                Kind("cash_in", True, 3, major(50), major(1000), major(10)),
                Kind("p2p_in", True, 1, major(100), major(800), major(10), "relatives"),
                Kind("cashback", True, 0.8, 100, major(30)),
                Kind("service", False, 5, major(10), major(100), major(5), "mobile"),
                Kind("service", False, 1, major(80), major(450), 1, "electricity"),
                Kind("service", False, 1, major(25), major(120), 1, "water"),
                Kind("service", False, 0.5, major(15), major(60), 1, "housing"),
                Kind("service", False, 1, major(150), major(350), major(10), "internet"),
                Kind("service", False, 1, major(150), major(900), major(1), "nasiya"),
                Kind("service", False, 0.5, major(30), major(300), major(1), "gov"),
                Kind("p2p_out", False, 1, major(50), major(500), major(10), "relatives", _P2P_FEE),
            ),
        ),
        AccountProfile(
            "CARD",
            "TJS",
            "Visa Classic TJS",
            "20202",
            major(800),
            major(12000),
            (
                Kind(
                    "remittance_in", True, 2.5, major(8000), major(60000), major(100), "remitters"
                ),
                Kind("p2p_in", True, 0.5, major(200), major(1500), major(10), "relatives"),
                Kind("fx_sell", True, 0.3, major(100), major(1000), major(50)),
                Kind("cashback", True, 1, 200, major(60)),
                Kind("card", False, 18, major(15), major(900), 50, "groceries"),
                Kind("card", False, 3, major(40), major(450), 50, "restaurants"),
                Kind("card", False, 1.5, major(20), major(400), 10, "health"),
                Kind("card", False, 2.5, major(60), major(3000), 100, "shopping"),
                Kind("card", False, 2, major(10), major(120), 50, "transport"),
                Kind("atm", False, 2.5, major(200), major(3000), major(100), "atm"),
                Kind(
                    "p2p_out", False, 1.5, major(100), major(2000), major(10), "relatives", _P2P_FEE
                ),
                Kind(
                    "visa_direct",
                    False,
                    0.4,
                    major(100),
                    major(800),
                    major(50),
                    "abroad",
                    _VISA_DIRECT_FEE,
                ),
                Kind("monthly_fee", False, 1, major(3), major(3)),
            ),
        ),
    ),
    cards=(
        CardSpec(1, "VISA", "439051", "active"),
        CardSpec(1, "VISA", "402801", "cancelled"),
    ),
)

BUSINESS = Archetype(
    key="business",
    people=(("Farrukh", "Nazarov"), ("Rustam", "Qodirov"), ("Sherzod", "Ismoilov")),
    accounts=(
        AccountProfile(
            "CURRENT",
            "TJS",
            "Alif Business TJS",
            "20208",
            major(25000),
            major(180000),
            (
                Kind("acquiring", True, 22, major(800), major(9000), 1),
                Kind("cash_in", True, 2, major(2000), major(20000), major(100)),
                Kind("fx_sell", True, 0.2, major(500), major(5000), major(100)),
                Kind("payroll", False, 1, major(6000), major(20000), major(100), "employees"),
                Kind("service", False, 1, major(1500), major(9000), 1, "taxes"),
                Kind(
                    "rent",
                    False,
                    1,
                    major(4000),
                    major(9000),
                    major(500),
                    "landlords",
                    _INTERBANK_FEE,
                ),
                Kind(
                    "supplier", False, 6, major(500), major(15000), 1, "suppliers", _INTERBANK_FEE
                ),
                Kind("service", False, 1, major(600), major(3000), 1, "electricity"),
                Kind("service", False, 1, major(300), major(600), major(10), "internet"),
                Kind("card", False, 4, major(150), major(600), 1, "transport"),
                Kind("card", False, 1.5, major(100), major(3000), 100, "shopping"),
                Kind("atm", False, 1.5, major(500), major(5000), major(100), "atm"),
                Kind("monthly_fee", False, 1, major(50), major(50)),
            ),
            business=True,
        ),
        AccountProfile(
            "CURRENT",
            "USD",
            "Alif Business USD",
            "20206",
            major(1500),
            major(25000),
            (
                Kind("fx_buy", True, 1.5, major(5000), major(50000), major(100)),
                Kind(
                    "swift_out",
                    False,
                    0.8,
                    major(2000),
                    major(15000),
                    major(100),
                    "suppliers_abroad",
                    _SWIFT_FEE,
                ),
                Kind("monthly_fee", False, 1, major(2), major(2)),
            ),
            business=True,
        ),
    ),
    cards=(
        CardSpec(0, "MASTERCARD", "54135252", "active"),
        CardSpec(1, "VISA", "43225200", "active"),
    ),
    business_names=(
        ("ООО «Нони Гарм»", "5462"),
        ("ООО «Ширинии Ватан»", "5441"),
        ("ИП «Осиё Текстиль»", "5651"),
    ),
)

STUDENT = Archetype(
    key="student",
    people=(("Behruz", "Saidov"), ("Madina", "Yusufova"), ("Shahzod", "Rajabov")),
    accounts=(
        AccountProfile(
            "WALLET",
            "TJS",
            "Alif Mobi: кошелёк",
            "20218",
            major(10),
            major(500),
            (
                Kind("p2p_in", True, 3, major(100), major(1000), major(10), "parents"),
                Kind("cash_in", True, 1, major(20), major(300), major(10)),
                Kind("cashback", True, 1, 100, major(20)),
                Kind("service", False, 4, major(5), major(50), major(5), "mobile"),
                Kind("service", False, 1, major(100), major(200), major(10), "internet"),
                Kind("service", False, 1, major(120), major(500), major(1), "nasiya"),
                Kind("service", False, 0.1, major(30), major(200), major(1), "gov"),
                Kind("p2p_out", False, 4, major(10), major(200), major(5), "friends", _P2P_FEE),
            ),
        ),
        AccountProfile(
            "CARD",
            "TJS",
            "Korti Milli TJS",
            "20202",
            major(30),
            major(2000),
            (
                Kind("stipend", True, 1, major(250), major(450), major(10)),
                Kind("p2p_in", True, 1.5, major(200), major(1500), major(10), "parents"),
                Kind("card", False, 8, major(10), major(250), 50, "groceries"),
                Kind("card", False, 8, major(15), major(120), 50, "restaurants"),
                Kind("card", False, 5, major(3), major(60), 50, "transport"),
                Kind("service", False, 0.4, major(300), major(2500), major(10), "tuition"),
                Kind("card", False, 0.3, major(50), major(600), 50, "education"),
                Kind("card", False, 0.5, major(15), major(200), 10, "health"),
                Kind("card", False, 1, major(50), major(1500), 100, "shopping"),
                Kind("atm", False, 2, major(50), major(500), major(10), "atm"),
            ),
        ),
    ),
    cards=(
        CardSpec(1, "KORTI_MILLI", KORTI_MILLI_PREFIX, "active"),
        CardSpec(1, "MASTERCARD", "53109925", "hot_listed"),
    ),
)

ARCHETYPES = (FAMILY, BUSINESS, STUDENT)

# The people on the other side of transfers, by pool name. Card accounts are masked the
# way receipts print them; bank accounts and IBANs are whole (and fictional).
CONTACTS: dict[str, tuple[Party, ...]] = {
    "remitters": (
        Party("Jamshed Rahimov", country="RU"),
        Party("Sherali Rahimov", country="RU"),
    ),
    "relatives": (
        Party("Mavzuna Rahimova", "9762 **** **** 4411", "EJSATJ22XXX", "TJ", "Card"),
        Party("Bibisora Karimova", "4208 **** **** 1037", "OTJKTJ22XXX", "TJ", "Card"),
    ),
    "abroad": (
        Party("Parviz Rahimov", "4147 **** **** 2231", "Visa Direct", "US", "Card"),
        Party("Nilufar Rahimova", "4400 **** **** 8712", "Visa Direct", "US", "Card"),
    ),
    "parents": (
        Party("Kamol Saidov", "9762 **** **** 7730", "ASSETJ22XXX", "TJ", "Card"),
        Party("Manzura Saidova", "4459 **** **** 0614", "SPRBTJ22XXX", "TJ", "Card"),
    ),
    "friends": (
        Party("Shahriyor Nazarov", "9762 **** **** 5208", "HUMOTJ22XXX", "TJ", "Card"),
        Party("Nigina Rasulova", "4209 **** **** 3391", "EJSATJ22XXX", "TJ", "Card"),
        Party("Sino Qurbonov", "9762 **** **** 1186", "ASSETJ22XXX", "TJ", "Card"),
    ),
    "employees": (Party("Сотрудники (зарплатный проект Alif)", bank=ALIF_BIC, country="TJ"),),
    "landlords": (
        Party("ИП Саидов А. (аренда помещения)", "20208972300017745102", "OTJKTJ22XXX", "TJ"),
    ),
    "suppliers": (
        Party("ООО «Дон-Орд»", "20208972400031188205", "EJSATJ22XXX", "TJ"),
        Party("ООО «Шир-Маҳсулот»", "20208972100052230917", "SPRBTJ22XXX", "TJ"),
        Party("ИП Раҳимов Ш. (шакар)", "20202972600011874403", "ASSETJ22XXX", "TJ"),
    ),
    "suppliers_abroad": (
        Party("Ankara Gida Makine A.S.", "TR330006100519786457841326", "TGBATRISXXX", "TR", "IBAN"),
        Party(
            "Guangzhou Baiyun Baking Equipment Co., Ltd.",
            "4405 0110 2036 0000 1288",
            "BKCHCNBJ400",
            "CN",
        ),
    ),
}
