"""How each kind of transaction is made: one builder per `Kind.builder`.

A builder turns a Kind, a random stream and a moment into a `Draft`: a signed amount in
minor units, Alif's attributes, the counterparty and, for transfers, the transfer's
details. The generator (data.py) gives drafts ids, times and balances.
"""

# Russian and Tajik text is data here, so Cyrillic letters are intended.
# ruff: noqa: RUF001

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from random import Random

from connectors.sandbox.catalog import (
    ALIF_BIC,
    CONTACTS,
    MERCHANTS,
    MOBILE_OPERATORS,
    MONEY_TRANSFER_SYSTEMS,
    PROVIDERS,
    REMITTANCE_PAYOUT_RATES,
    VISA_DIRECT_SELLS,
    FeeRule,
    Kind,
)
from connectors.sandbox.ids import digest
from connectors.sandbox.models import Account, Party
from connectors.sandbox.money import alif_rate, convert, corridor_rate, format_minor
from connectors.sandbox.population import Holding

_MONTHS = (
    "январь", "февраль", "март", "апрель", "май", "июнь",
    "июль", "август", "сентябрь", "октябрь", "ноябрь", "декабрь",
)  # fmt: skip
_SERVICE_LABELS = {
    "mobile": "номер",
    "electricity": "л/с",
    "water": "л/с",
    "utilities": "л/с",
    "internet": "договор",
    "taxes_fines": "квитанция",
    "gov_services": "квитанция",
    "education": "студ. билет",
    "installments": "договор",
}
ALIF_PARTY = Party("Alif Bank", bank=ALIF_BIC, country="TJ")
_EXCHANGE_DESK = Party("Alif Bank: обменный пункт", bank=ALIF_BIC, country="TJ")
_CASH_DESK = Party("Alif Bank: касса", bank=ALIF_BIC, country="TJ")
_TERMINAL = Party("Терминал Alif", bank=ALIF_BIC, country="TJ")
_UNIVERSITY = Party(
    "Таджикский национальный университет", "20202972900010020001", "ASSETJ22XXX", "TJ"
)


@dataclass(frozen=True, slots=True)
class TransferDraft:
    type: str
    rail: str
    direction: str
    counterparty: Party
    description: str
    corridor: str | None = None
    foreign_currency: str | None = None
    foreign_minor: int | None = None
    fx_rate: Decimal | None = None
    lead_seconds: int = 0  # inbound: created this long before the money arrived
    settle_seconds: int = 0  # outbound: completed this long after the debit


@dataclass(frozen=True, slots=True)
class Draft:
    """A transaction before it has an id, a time and a balance."""

    amount: int  # signed minor units
    type: str
    category: str | None  # None where no category key fits (exchange, deposits, payroll)
    description: str
    counterparty: Party | None
    attributes: tuple[tuple[str, str], ...] = ()
    fee: int = 0
    fee_summary: str = ""
    transfer: TransferDraft | None = None

    @property
    def cost(self) -> int:
        """What it takes from the available balance (0 for credits)."""
        return max(0, -self.amount) + self.fee


def _draw(rng: Random, kind: Kind) -> int:
    """A log-uniform amount in [lo, hi], a multiple of `step` minor units.

    The float only shapes the random draw; the amount is an integer from here on.
    """
    if kind.lo >= kind.hi:
        return kind.lo
    value = math.exp(rng.uniform(math.log(kind.lo), math.log(kind.hi)))
    return min(kind.hi, max(kind.step, round(value / kind.step) * kind.step))


def _fee(rule: FeeRule | None, amount: int) -> int:
    if rule is None:
        return 0
    return max(rule.minimum, (amount * rule.bps + 5_000) // 10_000) + rule.fixed


def _stable_digits(count: int, *parts: object) -> str:
    """Digits that stay the same for the same customer and payee (utility accounts)."""
    value = int.from_bytes(digest(*parts), "big")
    return str(value % 10**count).rjust(count, "0")


def _month(moment: datetime) -> str:
    return f"{_MONTHS[moment.month - 1]} {moment.year}"


def _rate_text(rate: Decimal) -> str:
    return format(rate, "f")


def _fx_attributes(
    original_minor: int, original_currency: str, rate: Decimal
) -> tuple[tuple[str, str], ...]:
    """How Alif records a conversion: the original amount and the rate applied to it."""
    return (
        ("ORIGINAL_AMOUNT", format_minor(original_minor, original_currency)),
        ("ORIGINAL_CURRENCY", original_currency),
        ("FX_RATE", _rate_text(rate)),
    )


def _card_payment(h: Holding, kind: Kind, rng: Random, when: datetime) -> Draft:
    merchant = rng.choice(MERCHANTS[kind.pool])
    attributes = [("MCC", merchant.mcc), ("MERCHANT_NAME", merchant.name)]
    if h.card_id:
        attributes.append(("CARD_ID", h.card_id))
    atm = merchant.category == "cash_withdrawal"
    return Draft(
        amount=-_draw(rng, kind),
        type="CASH_WITHDRAWAL" if atm else "CARD_PAYMENT",
        category=merchant.category,
        description=("Снятие наличных: " if atm else "Покупка: ") + merchant.name,
        counterparty=Party(merchant.name, country="TJ"),
        attributes=tuple(attributes),
    )


def _mobile_number(h: Holding, rng: Random) -> tuple[str, str]:
    """(operator, phone): mostly the customer's own number, sometimes a relative's."""
    own_prefix = h.customer.phone[4:6]
    own = next(op for op, prefixes in MOBILE_OPERATORS.items() if own_prefix in prefixes)
    if rng.random() < 0.7:
        return own, h.customer.phone
    operator = rng.choice(sorted(MOBILE_OPERATORS))
    number = "".join(rng.choice("0123456789") for _ in range(7))
    return operator, "+992" + rng.choice(MOBILE_OPERATORS[operator]) + number


def _service_payment(h: Holding, kind: Kind, rng: Random, when: datetime) -> Draft:
    provider = rng.choice(PROVIDERS[kind.pool])
    label = _SERVICE_LABELS[provider.category]
    if provider.account_digits == 0:
        name, account = _mobile_number(h, rng)
        description = f"Пополнение баланса {name}: {label} {account}"
        autopay = False
    else:
        name = provider.name
        account = _stable_digits(provider.account_digits, h.customer.user_id, name)
        description = f"Оплата услуг {name}: {label} {account}"
        autopay = digest(h.customer.user_id, name, "autopay")[0] % 3 == 0
    return Draft(
        amount=-_draw(rng, kind),
        type=provider.tx_type,
        category=provider.category,
        description=description,
        counterparty=Party(name, country="TJ"),
        attributes=(
            ("SERVICE_PROVIDER", name),
            ("SERVICE_ACCOUNT", account),
            ("SERVICE_PAYMENT_ID", str(rng.randrange(10**11, 10**12))),
            ("AUTOPAY", "true" if autopay else "false"),
        ),
    )


def cash_deposit(h: Holding, amount: int) -> Draft:
    if h.account.product_code == "WALLET":
        description, desk = "Пополнение кошелька через терминал Alif", _TERMINAL
    elif h.profile.business:
        description, desk = "Взнос выручки наличными в кассу Alif", _CASH_DESK
    else:
        description, desk = "Взнос наличных в кассу Alif", _CASH_DESK
    return Draft(amount, "TRANSFER_IN", None, description, desk)


def cash_withdrawal_at_branch(amount: int) -> Draft:
    return Draft(
        -amount, "CASH_WITHDRAWAL", "cash_withdrawal", "Выдача наличных в кассе Alif", _CASH_DESK
    )


def _cash_in(h: Holding, kind: Kind, rng: Random, when: datetime) -> Draft:
    return cash_deposit(h, _draw(rng, kind))


def _cashback(h: Holding, kind: Kind, rng: Random, when: datetime) -> Draft:
    return Draft(_draw(rng, kind), "CASHBACK", "cashback", "Кэшбэк за покупки", ALIF_PARTY)


def _p2p_in(h: Holding, kind: Kind, rng: Random, when: datetime) -> Draft:
    sender = rng.choice(CONTACTS[kind.pool])
    description = f"Перевод с карты {sender.account} от {sender.name}"
    return Draft(
        amount=_draw(rng, kind),
        type="TRANSFER_IN",
        category="transfers",
        description=description,
        counterparty=sender,
        attributes=(("COUNTERPARTY_COUNTRY", sender.country or "TJ"),),
        transfer=TransferDraft(
            "CARD_TO_CARD",
            "CARD_TO_CARD",
            "INBOUND",
            sender,
            description,
            lead_seconds=rng.randint(2, 30),
        ),
    )


def _p2p_out(h: Holding, kind: Kind, rng: Random, when: datetime) -> Draft:
    recipient = rng.choice(CONTACTS[kind.pool])
    amount = _draw(rng, kind)
    description = f"Перевод на карту {recipient.account} ({recipient.name})"
    return Draft(
        amount=-amount,
        type="TRANSFER_OUT",
        category="transfers",
        description=description,
        counterparty=recipient,
        attributes=(("COUNTERPARTY_COUNTRY", recipient.country or "TJ"),),
        fee=_fee(kind.fee, amount),
        fee_summary=kind.fee.summary if kind.fee else "",
        transfer=TransferDraft(
            "CARD_TO_CARD",
            "CARD_TO_CARD",
            "OUTBOUND",
            recipient,
            description,
            settle_seconds=rng.randint(5, 120),
        ),
    )


def _remittance_in(h: Holding, kind: Kind, rng: Random, when: datetime) -> Draft:
    sender = rng.choice(CONTACTS[kind.pool])
    system = rng.choice(MONEY_TRANSFER_SYSTEMS)
    rubles = _draw(rng, kind)
    rate = corridor_rate("RUB", when.date(), REMITTANCE_PAYOUT_RATES[system])
    amount = convert(rubles, "RUB", rate, h.account.currency)
    party = Party(sender.name, bank=system, country="RU")
    description = (
        f"Денежный перевод из России ({system}) от {sender.name}: "
        f"{format_minor(rubles, 'RUB')} RUB по курсу {_rate_text(rate)}"
    )
    return Draft(
        amount=amount,
        type="TRANSFER_IN",
        category="remittance_in",
        description=description,
        counterparty=party,
        attributes=(*_fx_attributes(rubles, "RUB", rate), ("COUNTERPARTY_COUNTRY", "RU")),
        transfer=TransferDraft(
            "MONEY_TRANSFER",
            "MONEY_TRANSFER_SYSTEM",
            "INBOUND",
            party,
            description,
            corridor="RU->TJ",
            foreign_currency="RUB",
            foreign_minor=rubles,
            fx_rate=rate,
            lead_seconds=rng.randint(600, 6 * 3600),
        ),
    )


def _visa_direct(h: Holding, kind: Kind, rng: Random, when: datetime) -> Draft:
    recipient = rng.choice(CONTACTS[kind.pool])
    dollars = _draw(rng, kind)
    rate = corridor_rate("USD", when.date(), VISA_DIRECT_SELLS)
    amount = convert(dollars, "USD", rate, h.account.currency)
    description = (
        f"Visa Direct: перевод на карту {recipient.account} ({recipient.name}, США), "
        f"{format_minor(dollars, 'USD')} USD по курсу {_rate_text(rate)}"
    )
    attributes = [
        *_fx_attributes(dollars, "USD", rate),
        ("COUNTERPARTY_COUNTRY", recipient.country or "US"),
    ]
    if h.card_id:
        attributes.append(("CARD_ID", h.card_id))
    return Draft(
        amount=-amount,
        type="INTERNATIONAL_TRANSFER",
        category="transfers",
        description=description,
        counterparty=recipient,
        attributes=tuple(attributes),
        fee=_fee(kind.fee, amount),
        fee_summary=kind.fee.summary if kind.fee else "",
        transfer=TransferDraft(
            "VISA_DIRECT",
            "VISA_DIRECT",
            "OUTBOUND",
            recipient,
            description,
            corridor=f"TJ->{recipient.country}",
            foreign_currency="USD",
            foreign_minor=dollars,
            fx_rate=rate,
            settle_seconds=rng.randint(60, 1800),
        ),
    )


def _swift_out(h: Holding, kind: Kind, rng: Random, when: datetime) -> Draft:
    supplier = rng.choice(CONTACTS[kind.pool])
    amount = _draw(rng, kind)
    description = f"SWIFT: оплата по инвойсу № {rng.randint(1000, 9999)}, {supplier.name}"
    return Draft(
        amount=-amount,
        type="INTERNATIONAL_TRANSFER",
        category="transfers",
        description=description,
        counterparty=supplier,
        attributes=(("COUNTERPARTY_COUNTRY", supplier.country or "TJ"),),
        fee=_fee(kind.fee, amount),
        fee_summary=kind.fee.summary if kind.fee else "",
        transfer=TransferDraft(
            "SWIFT",
            "SWIFT",
            "OUTBOUND",
            supplier,
            description,
            corridor=f"TJ->{supplier.country}",
            settle_seconds=rng.randint(86_400, 3 * 86_400),
        ),
    )


def _domestic_out(h: Holding, kind: Kind, rng: Random, when: datetime) -> Draft:
    payee = rng.choice(CONTACTS[kind.pool])
    amount = _draw(rng, kind)
    if kind.builder == "rent":
        description = f"Аренда помещения за {_month(when)}, {payee.name}"
    else:
        description = f"Оплата по счёту № {rng.randint(100, 9999)}, {payee.name}"
    return Draft(
        amount=-amount,
        type="TRANSFER_OUT",
        category="transfers",
        description=description,
        counterparty=payee,
        attributes=(("COUNTERPARTY_COUNTRY", payee.country or "TJ"),),
        fee=_fee(kind.fee, amount),
        fee_summary=kind.fee.summary if kind.fee else "",
        transfer=TransferDraft(
            "COUNTERPARTY",
            "DOMESTIC",
            "OUTBOUND",
            payee,
            description,
            settle_seconds=rng.randint(600, 4 * 3600),
        ),
    )


def _payroll(h: Holding, kind: Kind, rng: Random, when: datetime) -> Draft:
    staff = rng.choice(CONTACTS[kind.pool])
    amount = _draw(rng, kind)
    description = f"Зарплата за {_month(when)}: {4 + amount // 250_000} сотрудников"
    return Draft(
        amount=-amount,
        type="SALARY",
        category=None,
        description=description,
        counterparty=staff,
        attributes=(("COUNTERPARTY_COUNTRY", "TJ"),),
        transfer=TransferDraft("ACCOUNT", "DOMESTIC", "OUTBOUND", staff, description),
    )


def _stipend(h: Holding, kind: Kind, rng: Random, when: datetime) -> Draft:
    return Draft(
        _draw(rng, kind), "SALARY", "salary_income", f"Стипендия ТНУ за {_month(when)}", _UNIVERSITY
    )


def _acquiring(h: Holding, kind: Kind, rng: Random, when: datetime) -> Draft:
    name, mcc = h.business or (h.account.holder_name, "5499")
    currency = h.account.currency
    turnover = _draw(rng, kind)
    commission = (turnover * 160 + 5_000) // 10_000  # 1.6 %
    day = (when - timedelta(days=1)).strftime("%d.%m.%Y")
    description = (
        f"Эквайринг: возмещение за {day}, оборот {format_minor(turnover, currency)}, "
        f"комиссия 1.6% {format_minor(commission, currency)}"
    )
    return Draft(
        amount=turnover - commission,
        type="TRANSFER_IN",
        category="salary_income",
        description=description,
        counterparty=Party("Alif Bank: эквайринг", bank=ALIF_BIC, country="TJ"),
        attributes=(("MCC", mcc), ("MERCHANT_NAME", name)),
    )


def _fx_sell(h: Holding, kind: Kind, rng: Random, when: datetime) -> Draft:
    """The customer sells US dollar cash; the account (TJS) is credited."""
    dollars = _draw(rng, kind)
    rate = alif_rate("USD", when.date(), bank_buys=True)
    return Draft(
        amount=convert(dollars, "USD", rate, h.account.currency),
        type="CURRENCY_EXCHANGE",
        category=None,
        description=(
            f"Обмен валюты: продажа {format_minor(dollars, 'USD')} USD по курсу {_rate_text(rate)}"
        ),
        counterparty=_EXCHANGE_DESK,
        attributes=_fx_attributes(dollars, "USD", rate),
    )


def _fx_buy(h: Holding, kind: Kind, rng: Random, when: datetime) -> Draft:
    """The customer buys dollars with somoni cash; the account (USD) is credited."""
    somoni = _draw(rng, kind)
    sell = alif_rate("USD", when.date(), bank_buys=False)
    # FX_RATE is always "account currency per unit of ORIGINAL_CURRENCY": here USD per TJS.
    rate = (Decimal(1) / sell).quantize(Decimal("0.000001"))
    return Draft(
        amount=convert(somoni, "TJS", rate, h.account.currency),
        type="CURRENCY_EXCHANGE",
        category=None,
        description=(
            f"Обмен валюты: покупка USD за {format_minor(somoni, 'TJS')} TJS "
            f"(курс {_rate_text(sell)} TJS за 1 USD)"
        ),
        counterparty=_EXCHANGE_DESK,
        attributes=_fx_attributes(somoni, "TJS", rate),
    )


def _monthly_fee(h: Holding, kind: Kind, rng: Random, when: datetime) -> Draft:
    if h.profile.business:
        description = f"Обслуживание счёта за {_month(when)}"
    else:
        description = "Плата за SMS-информирование"
    return Draft(-_draw(rng, kind), "FEE", "fees", description, ALIF_PARTY)


def own_account_transfer(source: Account, target: Account, amount: int) -> tuple[Draft, Draft]:
    """The debit and credit legs of a transfer between two accounts of one customer."""
    description = f"Перевод между своими счетами: {source.label} → {target.label}"

    def other_side(account: Account) -> Party:
        return Party(account.holder_name, account.number, ALIF_BIC, "TJ")

    debit = Draft(-amount, "TRANSFER_OUT", "transfers", description, other_side(target))
    credit = Draft(amount, "TRANSFER_IN", "transfers", description, other_side(source))
    return debit, credit


Builder = Callable[[Holding, Kind, Random, datetime], Draft]
BUILDERS: dict[str, Builder] = {
    "card": _card_payment,
    "atm": _card_payment,
    "service": _service_payment,
    "cash_in": _cash_in,
    "cashback": _cashback,
    "p2p_in": _p2p_in,
    "p2p_out": _p2p_out,
    "remittance_in": _remittance_in,
    "visa_direct": _visa_direct,
    "swift_out": _swift_out,
    "rent": _domestic_out,
    "supplier": _domestic_out,
    "payroll": _payroll,
    "stipend": _stipend,
    "acquiring": _acquiring,
    "fx_sell": _fx_sell,
    "fx_buy": _fx_buy,
    "monthly_fee": _monthly_fee,
}
