"""The generated data: exact balance chains, determinism, realistic Tajik content."""

from __future__ import annotations

from datetime import timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from itertools import pairwise

import httpx

from connectors.sandbox import SandboxBank, SandboxConfig
from connectors.sandbox.catalog import ALIF_MASTERCARD_BINS, ALIF_VISA_BINS, MOBILE_OPERATORS
from connectors.sandbox.population import build_population, luhn_valid

from .sandbox_support import AS_OF, Login, account_path, transactions_path

ATTRIBUTE_NAMES = {
    "STATUS", "TYPE", "MCC", "MERCHANT_NAME", "CATEGORY", "SERVICE_PROVIDER", "SERVICE_ACCOUNT",
    "SERVICE_PAYMENT_ID", "AUTOPAY", "ORIGINAL_AMOUNT", "ORIGINAL_CURRENCY", "FX_RATE",
    "TRANSFER_ID", "CARD_ID", "COUNTERPARTY_COUNTRY", "PENDING_TRANSACTION_ID",
}  # fmt: skip
TYPES = {
    "CARD_PAYMENT", "TRANSFER_IN", "TRANSFER_OUT", "INTERNATIONAL_TRANSFER", "SERVICE_PAYMENT",
    "CASH_WITHDRAWAL", "TOP_UP", "CURRENCY_EXCHANGE", "INSTALLMENT", "CASHBACK", "FEE", "SALARY",
    "OTHER",
}  # fmt: skip
CATEGORIES = {
    "groceries", "restaurants", "transport", "mobile", "internet", "utilities", "electricity",
    "water", "transfers", "cash_withdrawal", "shopping", "health", "education", "taxes_fines",
    "gov_services", "installments", "cashback", "fees", "salary_income", "remittance_in",
}  # fmt: skip
TRANSFER_STATUSES = {
    "CREATED", "PENDING", "ON_HOLD", "SENT", "AVAILABLE_FOR_PAYOUT", "COMPLETED", "FAILED",
    "CANCELLED", "RETURNED",
}  # fmt: skip


def _all_accounts(bank: SandboxBank) -> list[str]:
    return [a.id for c in bank.customers for a in bank.accounts_of(c.username)]


def test_every_balance_chains_exactly_and_never_goes_negative(bank: SandboxBank) -> None:
    for account_id in _all_accounts(bank):
        balance = None
        for transaction in bank.iter_transactions(account_id):
            if transaction.status == "PENDING":
                assert transaction.new_balance_minor is None and transaction.completed is None
                continue
            assert transaction.new_balance_minor is not None
            if balance is not None:
                assert transaction.new_balance_minor == balance + transaction.amount_minor
            assert transaction.new_balance_minor >= 0
            balance = transaction.new_balance_minor

        assert balance == bank.booked_balance_minor(account_id)
        held = sum(
            -t.amount_minor for t in bank.pending_transactions(account_id) if t.amount_minor < 0
        )
        assert bank.available_balance_minor(account_id) == balance - held >= 0


async def test_reported_balances_match_the_transactions(
    client: httpx.AsyncClient, login: Login, bank: SandboxBank
) -> None:
    headers = await login("farrukh")
    for account in bank.accounts_of("farrukh"):
        page = await client.get(
            transactions_path(account.id),
            headers=headers,
            params={"limit": 10_000, "sort_direction": "ASC"},
        )
        core = await client.get(f"{account_path(account.id)}/views/owner", headers=headers)
        balances = await client.get(
            f"{account_path(account.id)}/views/owner/balances", headers=headers
        )

        booked = [t for t in page.json()["transactions"] if t["details"]["new_balance"] is not None]
        for before, after in pairwise(booked):
            assert Decimal(before["details"]["new_balance"]["amount"]) + Decimal(
                after["details"]["value"]["amount"]
            ) == Decimal(after["details"]["new_balance"]["amount"])
        assert core.json()["balance"] == booked[-1]["details"]["new_balance"]
        types = {b["type"]: b["amount"] for b in balances.json()["balances"]}
        assert types["OpeningBooked"] == core.json()["balance"]["amount"]
        assert Decimal(types["InterimAvailable"]) <= Decimal(types["OpeningBooked"])


async def test_all_balances_at_once(
    client: httpx.AsyncClient, login: Login, bank: SandboxBank
) -> None:
    response = await client.get("/obp/v5.1.0/banks/alif.tj/balances", headers=await login())

    accounts = response.json()["accounts"]
    assert [a["account_id"] for a in accounts] == [a.id for a in bank.accounts_of("dilnoza")]
    assert all(a["balances"][0]["type"] == "OpeningBooked" for a in accounts)


def test_same_seed_same_data_other_seed_other_data(config: SandboxConfig) -> None:
    def fingerprint(bank: SandboxBank) -> list[object]:
        account_ids = _all_accounts(bank)
        return [
            [c.phone for c in bank.customers],
            [c.number for c in bank.cards_of("dilnoza")],
            [bank.account(i).number for i in account_ids],  # type: ignore[union-attr]
            [
                (t.id, t.posted, t.amount_minor, t.attributes)
                for i in account_ids
                for t in bank.iter_transactions(i)
            ],
        ]

    first = fingerprint(SandboxBank(config))
    again = fingerprint(SandboxBank(config))
    other = fingerprint(SandboxBank(SandboxConfig(seed=7, as_of=AS_OF, clock=config.clock)))

    assert first == again
    for mine, theirs in zip(first, other, strict=True):
        assert mine != theirs


def test_realistic_volume_over_a_year(bank: SandboxBank) -> None:
    first = min(next(bank.iter_transactions(i)).posted for i in _all_accounts(bank))
    assert first <= AS_OF - timedelta(days=360)
    for account_id in _all_accounts(bank):
        items = list(bank.iter_transactions(account_id))
        assert 30 <= len(items) <= 3_000
        assert items[0].posted <= AS_OF - timedelta(days=300)
        assert items[-1].posted < AS_OF
        assert all(
            t.posted >= AS_OF - timedelta(hours=48) for t in bank.pending_transactions(account_id)
        )
    assert sum(len(bank.pending_transactions(i)) for i in _all_accounts(bank)) >= 6


def test_attributes_use_the_alif_vocabulary(bank: SandboxBank) -> None:
    seen_types: set[str] = set()
    seen_categories: set[str] = set()
    for account_id in _all_accounts(bank):
        for transaction in bank.iter_transactions(account_id):
            attributes = dict(transaction.attributes)
            assert set(attributes) <= ATTRIBUTE_NAMES
            assert attributes["STATUS"] == transaction.status
            assert attributes["TYPE"] == transaction.type in TYPES
            if "CATEGORY" in attributes:
                assert attributes["CATEGORY"] in CATEGORIES
                seen_categories.add(attributes["CATEGORY"])
            if "AUTOPAY" in attributes:
                assert attributes["AUTOPAY"] in ("true", "false")
            if "MCC" in attributes:
                assert len(attributes["MCC"]) == 4 and attributes["MCC"].isdigit()
            seen_types.add(transaction.type)
    assert seen_types == TYPES - {"OTHER"}
    assert seen_categories == CATEGORIES


def test_fx_amounts_follow_the_stated_rate(bank: SandboxBank) -> None:
    converted = 0
    for account_id in _all_accounts(bank):
        for transaction in bank.iter_transactions(account_id):
            attributes = dict(transaction.attributes)
            if "FX_RATE" not in attributes:
                continue
            expected = (
                Decimal(attributes["ORIGINAL_AMOUNT"]) * Decimal(attributes["FX_RATE"])
            ).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)
            assert abs(transaction.amount_minor) == int(expected * 100)
            assert attributes["ORIGINAL_CURRENCY"] != transaction.currency
            converted += 1
    assert converted > 20


def test_remittances_from_russia(bank: SandboxBank) -> None:
    card = bank.accounts_of("dilnoza")[1]

    remittances = [
        t for t in bank.iter_transactions(card.id) if t.attribute("CATEGORY") == "remittance_in"
    ]

    assert len(remittances) >= 12
    for transaction in remittances:
        assert transaction.amount_minor > 0
        assert transaction.attribute("ORIGINAL_CURRENCY") == "RUB"
        assert transaction.attribute("COUNTERPARTY_COUNTRY") == "RU"
        assert Decimal("0.10") < Decimal(transaction.attribute("FX_RATE") or "0") < Decimal("0.14")


def test_transfers_link_to_their_transactions(bank: SandboxBank) -> None:
    rails: set[str] = set()
    for account_id in _all_accounts(bank):
        for transfer in bank.transfers_of(account_id):
            rails.add(transfer.rail)
            assert transfer.history and {e.status for e in transfer.history} <= TRANSFER_STATUSES
            assert [e.at for e in transfer.history] == sorted(e.at for e in transfer.history)
            for transaction_id in transfer.transaction_ids:
                linked = bank.find_transaction(account_id, transaction_id)
                assert linked is not None and linked.attribute("TRANSFER_ID") == transfer.id
            if transfer.status == "FAILED":
                assert transfer.transaction_ids == () and transfer.fee_minor == 0
            elif transfer.fee_minor:
                fee = bank.find_transaction(account_id, transfer.transaction_ids[-1])
                assert (
                    fee is not None
                    and fee.type == "FEE"
                    and -fee.amount_minor == transfer.fee_minor
                )
    assert rails == {"VISA_DIRECT", "SWIFT", "MONEY_TRANSFER_SYSTEM", "CARD_TO_CARD", "DOMESTIC"}


async def test_transfer_json_carries_alif_extras(
    client: httpx.AsyncClient, login: Login, bank: SandboxBank
) -> None:
    card = bank.accounts_of("dilnoza")[1]

    response = await client.get(
        f"{account_path(card.id)}/owner/transaction-requests", headers=await login()
    )

    items = response.json()["transaction_requests_with_charges"]
    assert len(items) == len(bank.transfers_of(card.id))
    visa = next(i for i in items if i["type"] == "VISA_DIRECT")
    assert visa["details"]["corridor"] == "TJ->US"
    assert visa["details"]["direction"] == "OUTBOUND"
    assert visa["details"]["destination_value"]["currency"] == "USD"
    assert Decimal(visa["charge"]["value"]["amount"]) > 0
    assert visa["status"] == "COMPLETED"
    inbound = next(i for i in items if i["details"]["rail"] == "MONEY_TRANSFER_SYSTEM")
    assert inbound["details"]["direction"] == "INBOUND"
    assert inbound["details"]["corridor"] == "RU->TJ"
    assert inbound["details"]["to"]["country"] == "RU"
    assert inbound["details"]["source_value"]["currency"] == "RUB"
    paged = await client.get(
        f"{account_path(card.id)}/owner/transaction-requests",
        params={"limit": 3, "offset": 1},
        headers=await login(),
    )
    assert paged.json()["transaction_requests_with_charges"] == items[1:4]


def test_cards_are_luhn_valid_on_alif_prefixes(bank: SandboxBank) -> None:
    cards = [card for c in bank.customers for card in bank.cards_of(c.username)]
    prefixes = {
        "VISA": ALIF_VISA_BINS,
        "MASTERCARD": ALIF_MASTERCARD_BINS,
        "KORTI_MILLI": ("9762",),
    }

    for card in cards:
        assert len(card.number) == 16 and luhn_valid(card.number)
        assert card.number.startswith(prefixes[card.network])
    assert {c.network for c in cards} == set(prefixes)
    assert any(c.on_hot_list for c in cards) and any(c.cancelled for c in cards)
    assert sum(c.enabled for c in cards) >= 3


async def test_cards_endpoint_sends_the_full_number(
    client: httpx.AsyncClient, login: Login, bank: SandboxBank
) -> None:
    response = await client.get("/obp/v5.1.0/cards", headers=await login("behruz"))

    cards = response.json()["cards"]
    assert {c["bank_card_number"] for c in cards} == {c.number for c in bank.cards_of("behruz")}
    assert {c["networks"][0] for c in cards} == {"KORTI_MILLI", "MASTERCARD"}
    lost = next(c for c in cards if c["on_hot_list"])
    assert lost["replacement"]["reason_requested"] == "LOST"
    assert all(c["card_id"] for c in cards)


def test_cards_for_every_day_of_four_years() -> None:
    start = AS_OF.replace(month=1, day=1)

    for day in range(1461):  # a leap day lands on every card's issue date at least once
        as_of = start + timedelta(days=day)
        for card in build_population(42, 3, "alif.tj", as_of).cards:
            assert card.valid_from < min(card.expires, as_of)
            assert card.expires.day in (28, 29, 30, 31)
            if card.enabled:
                assert card.expires > as_of


def test_customers_phones_and_account_numbers(bank: SandboxBank) -> None:
    prefixes = {p for group in MOBILE_OPERATORS.values() for p in group}
    codes = {"TJS": "972", "USD": "840", "RUB": "810"}

    assert [c.username for c in bank.customers] == ["dilnoza", "farrukh", "behruz"]
    assert [c.archetype for c in bank.customers] == ["family", "business", "student"]
    for customer in bank.customers:
        assert customer.phone.startswith("+992") and len(customer.phone) == 13
        assert customer.phone[4:6] in prefixes
        for account in bank.accounts_of(customer.username):
            assert len(account.number) == 20 and account.number.isdigit()
            assert account.number[5:8] == codes[account.currency]
    business = bank.accounts_of("farrukh")
    assert {a.currency for a in business} == {"TJS", "USD"}
    assert business[0].holder_name == bank.customer("farrukh").business_name


def test_more_customers_get_unique_logins(config: SandboxConfig) -> None:
    bank = SandboxBank(SandboxConfig(seed=1, customers=8, as_of=AS_OF, clock=config.clock))

    usernames = [c.username for c in bank.customers]
    assert len(set(usernames)) == 8
    assert (
        len({a.id for c in bank.customers for a in bank.accounts_of(c.username)}) == 8 // 3 * 6 + 4
    )


async def test_counterparties_are_saved_beneficiaries(
    client: httpx.AsyncClient, login: Login, bank: SandboxBank
) -> None:
    usd = bank.accounts_of("farrukh")[1]

    response = await client.get(
        f"{account_path(usd.id)}/owner/counterparties", headers=await login("farrukh")
    )

    items = response.json()["counterparties"]
    assert {i["bespoke"][0]["value"] for i in items} == {"TR", "CN"}
    turkish = next(i for i in items if i["bespoke"][0]["value"] == "TR")
    assert turkish["other_account_routing_scheme"] == "IBAN"
    assert turkish["other_bank_routing_scheme"] == "BIC"
