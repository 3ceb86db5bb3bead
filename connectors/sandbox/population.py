"""Customers, accounts, cards and saved beneficiaries, derived from the seed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from random import Random

from connectors.sandbox.catalog import (
    ARCHETYPES,
    CONTACTS,
    CURRENCY_NUMERIC,
    MOBILE_OPERATORS,
    AccountProfile,
    Archetype,
    CardSpec,
)
from connectors.sandbox.ids import rng_for, uuid_from
from connectors.sandbox.models import Account, Card, Counterparty, Customer

# Kinds whose counterparties a customer saves as beneficiaries.
_OUTBOUND_BUILDERS = frozenset({"p2p_out", "visa_direct", "swift_out", "rent", "supplier"})
_TECHNOLOGY = {
    "VISA": "EMV chip, contactless (Visa payWave)",
    "MASTERCARD": "EMV chip, contactless (Mastercard PayPass)",
    "KORTI_MILLI": "EMV chip",
}


@dataclass(frozen=True, slots=True)
class Holding:
    """One account with everything the transaction generator needs to know about it."""

    account: Account
    profile: AccountProfile
    customer: Customer
    card_id: str | None  # the active card payments are made with
    business: tuple[str, str] | None  # (name, MCC) of the customer's business


@dataclass(frozen=True, slots=True)
class Population:
    customers: tuple[Customer, ...]
    holdings: tuple[Holding, ...]
    cards: tuple[Card, ...]
    counterparties: dict[str, tuple[Counterparty, ...]]  # by account id


def luhn_check_digit(payload: str) -> str:
    total = 0
    # Double every second digit counting from the right of the full number, i.e. from
    # the last payload digit, because the check digit will be appended after it.
    for position, char in enumerate(reversed(payload)):
        digit = int(char)
        if position % 2 == 0:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return str((10 - total % 10) % 10)


def luhn_valid(number: str) -> bool:
    return number.isdigit() and luhn_check_digit(number[:-1]) == number[-1]


def _digits(rng: Random, count: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(count))


def _pan(rng: Random, prefix: str) -> str:
    payload = prefix + _digits(rng, 15 - len(prefix))
    return payload + luhn_check_digit(payload)


def _username(first: str, index: int, taken: set[str]) -> str:
    name = first.lower()
    return name if name not in taken else f"{name}{index + 1}"


def _business(archetype: Archetype, index: int) -> tuple[str, str] | None:
    """(name, MCC) of a business customer's company."""
    names = archetype.business_names
    return names[(index // len(ARCHETYPES)) % len(names)] if names else None


def _customer(seed: int, index: int, archetype: Archetype, taken: set[str]) -> Customer:
    rng = rng_for(seed, "customer", index)
    first, last = archetype.people[(index // len(ARCHETYPES)) % len(archetype.people)]
    username = _username(first, index, taken)
    operator = rng.choice(sorted(MOBILE_OPERATORS))
    phone = "+992" + rng.choice(MOBILE_OPERATORS[operator]) + _digits(rng, 7)
    business = _business(archetype, index)
    return Customer(
        username=username,
        password=f"{username}-pass",
        user_id=uuid_from(seed, "user", index),
        first_name=first,
        last_name=last,
        phone=phone,
        email=f"{username}@example.com",
        archetype=archetype.key,
        business_name=business[0] if business else None,
    )


def _account(
    seed: int, bank_id: str, customer: Customer, position: int, profile: AccountProfile
) -> Account:
    rng = rng_for(seed, "account", customer.user_id, position)
    number = (
        profile.number_class
        + CURRENCY_NUMERIC[profile.currency]
        + rng.choice("123456789")
        + _digits(rng, 11)
    )
    holder = customer.business_name if profile.business and customer.business_name else None
    return Account(
        id=uuid_from(seed, "account", customer.user_id, position),
        bank_id=bank_id,
        owner=customer.username,
        currency=profile.currency,
        number=number,
        product_code=profile.product_code,
        label=profile.label,
        holder_name=holder or customer.display_name,
    )


def _issue_number(archetype: Archetype, spec: CardSpec) -> str:
    """An active card that replaced a cancelled one on the same account is issue 2."""
    renewed = spec.state == "active" and any(
        other.state == "cancelled" and other.account_index == spec.account_index
        for other in archetype.cards
    )
    return "2" if renewed else "1"


def _month_end(moment: datetime) -> datetime:
    first_next = (moment.replace(day=1) + timedelta(days=32)).replace(day=1)
    return first_next - timedelta(seconds=1)


def _card(
    seed: int,
    customer: Customer,
    account: Account,
    spec: CardSpec,
    index: int,
    issue_number: str,
    as_of: datetime,
) -> Card:
    rng = rng_for(seed, "card", customer.user_id, index)
    day = as_of.replace(hour=0, minute=0, second=0, microsecond=0)
    if spec.state == "cancelled":
        # The card an active one replaced at renewal: issued three years before, expired.
        valid_from = day - timedelta(days=rng.randint(1300, 1500))
    else:
        valid_from = day - timedelta(days=rng.randint(120, 900))
    # Valid three years, to the end of the month (day=1 first: 29 February has no twin).
    expires = _month_end(valid_from.replace(day=1, year=valid_from.year + 3))
    replacement_date: datetime | None = None
    reason: str | None = None
    if spec.state == "hot_listed":
        reason, replacement_date = "LOST", day - timedelta(days=rng.randint(5, 60))
    elif spec.state == "cancelled":
        reason, replacement_date = "RENEW", expires - timedelta(days=rng.randint(10, 30))
    return Card(
        card_id=uuid_from(seed, "card", customer.user_id, index),
        account_id=account.id,
        owner=customer.username,
        number=_pan(rng, spec.bin),
        network=spec.network,
        name_on_card=customer.display_name.upper(),
        issue_number=issue_number,
        serial_number=_digits(rng, 10),
        valid_from=valid_from,
        expires=expires,
        enabled=spec.state == "active",
        cancelled=spec.state == "cancelled",
        on_hot_list=spec.state == "hot_listed",
        technology=_TECHNOLOGY[spec.network],
        posted=valid_from,
        collected=valid_from + timedelta(days=rng.randint(1, 7)),
        replacement_reason=reason,
        replacement_date=replacement_date,
    )


def _beneficiaries(
    seed: int, account: Account, profile: AccountProfile
) -> tuple[Counterparty, ...]:
    pools = [k.pool for k in profile.kinds if k.builder in _OUTBOUND_BUILDERS]
    parties = [party for pool in dict.fromkeys(pools) for party in CONTACTS[pool]]
    return tuple(
        Counterparty(
            id=uuid_from(seed, "counterparty", account.id, party.name),
            account_id=account.id,
            party=party,
            currency=account.currency,
            description=f"Сохранённый получатель: {party.name}",
        )
        for party in parties
    )


def build_population(seed: int, count: int, bank_id: str, as_of: datetime) -> Population:
    customers: list[Customer] = []
    holdings: list[Holding] = []
    cards: list[Card] = []
    counterparties: dict[str, tuple[Counterparty, ...]] = {}
    for index in range(count):
        archetype = ARCHETYPES[index % len(ARCHETYPES)]
        customer = _customer(seed, index, archetype, {c.username for c in customers})
        customers.append(customer)
        accounts = [
            _account(seed, bank_id, customer, position, profile)
            for position, profile in enumerate(archetype.accounts)
        ]
        own_cards = [
            _card(
                seed,
                customer,
                accounts[spec.account_index],
                spec,
                n,
                _issue_number(archetype, spec),
                as_of.astimezone(UTC),
            )
            for n, spec in enumerate(archetype.cards)
        ]
        cards.extend(own_cards)
        business = _business(archetype, index)
        for account, profile in zip(accounts, archetype.accounts, strict=True):
            active = [c.card_id for c in own_cards if c.account_id == account.id and c.enabled]
            holdings.append(
                Holding(account, profile, customer, active[0] if active else None, business)
            )
            counterparties[account.id] = _beneficiaries(seed, account, profile)
    return Population(tuple(customers), tuple(holdings), tuple(cards), counterparties)
