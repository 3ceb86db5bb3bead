"""The sandbox bank: its customers and accounts, logins, consents, and a "truth" API.

Tests of other packages build the app in-process and compare what they synced with what
the bank holds, through the methods under "truth API" (no HTTP involved).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import uuid
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any, NamedTuple

import jwt

from connectors.sandbox import errors
from connectors.sandbox.config import SandboxConfig
from connectors.sandbox.consent_requests import ConsentRequest, ConsentRequestBook, parse_request
from connectors.sandbox.consent_store import ConsentStore
from connectors.sandbox.data import AccountGenerator
from connectors.sandbox.errors import ObpError
from connectors.sandbox.history import AccountHistory
from connectors.sandbox.ids import uuid_from
from connectors.sandbox.models import (
    Account,
    Card,
    Counterparty,
    Customer,
    Party,
    Transaction,
    Transfer,
)
from connectors.sandbox.paging import day_start
from connectors.sandbox.population import build_population
from connectors.sandbox.revisions import RevisedHistory, Revision, own_transfer

logger = logging.getLogger("alif_sandbox")

SCA_METHODS = ("SMS", "EMAIL", "IMPLICIT")
OWNER_VIEW = "owner"


class TruthRow(NamedTuple):
    """One transaction as the bank holds it (money in integer minor units)."""

    id: str
    amount_minor: int
    status: str  # BOOKED | PENDING
    posted: datetime
    new_balance_minor: int | None  # None while pending


@dataclass
class Consent:
    consent_id: str
    username: str
    consumer_key: str
    sca_method: str
    everything: bool
    account_ids: tuple[str, ...]
    created_at: datetime
    valid_from: datetime
    expires_at: datetime
    jwt: str
    secret: bytes = field(repr=False)
    sca_code: str = field(repr=False)
    status: str = "INITIATED"  # ACCEPTED REJECTED REVOKED

    def covers(self, account: Account) -> bool:
        """`everything` also covers accounts opened after the consent."""
        if account.owner != self.username:
            return False
        return self.everything or account.id in self.account_ids


@dataclass
class _Token:
    username: str
    consumer_key: str
    expires_at: datetime
    uses: int = 0


def _consumer_key(seed: int) -> str:
    """40 hex characters, like OBP's keys; fixed per seed so demos can print it once."""
    return hashlib.sha256(f"alif-sandbox|{seed}|consumer-key".encode()).hexdigest()[:40]


def resolve_as_of(config: SandboxConfig) -> datetime:
    value = config.as_of
    if value is None:
        moment = config.clock()
    elif isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
    else:
        moment = datetime.combine(value, time(18), UTC)  # 23:00 in Dushanbe
    return moment.astimezone(UTC).replace(microsecond=0)


class SandboxBank:
    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.bank_id = config.bank_id
        self.as_of = resolve_as_of(config)
        population = build_population(config.seed, config.customers, config.bank_id, self.as_of)
        self.customers: tuple[Customer, ...] = population.customers
        self._customers = {c.username: c for c in population.customers}
        self._accounts = {h.account.id: h.account for h in population.holdings}
        self._histories = {
            h.account.id: RevisedHistory(
                AccountHistory(
                    AccountGenerator(
                        config.seed,
                        h,
                        as_of=self.as_of,
                        months=config.months,
                        total=config.transactions_per_account,
                        block_size=config.block_size,
                    )
                )
            )
            for h in population.holdings
        }
        self._cards = population.cards
        self._counterparties = population.counterparties
        # One registered consumer (application); its key is fixed per seed for demos.
        self.consumer_key = _consumer_key(config.seed)
        self.consumer_id = uuid_from(config.seed, "consumer")
        self._tokens: dict[str, _Token] = {}
        # Consents outlive a restart where the config names a state file.
        self._store = ConsentStore(config.state_file) if config.state_file else None
        self._consents: dict[str, Consent] = self._store.load(Consent) if self._store else {}
        self._consent_requests = ConsentRequestBook(config.state_file)
        # DirectLogin attempts that named a user, refused or not (tests assert no retry).
        self.login_attempts = 0
        self._own_transfers = 0

    def now(self) -> datetime:
        return self.config.clock().astimezone(UTC)

    def rows_now(self) -> datetime:
        """The clock the bank stamps new rows with: `now` plus the clock_skew fault."""
        return self.now() + timedelta(seconds=self.config.faults.clock_skew_seconds)

    # truth API ----------------------------------------------------------------------------

    def customer(self, username: str) -> Customer:
        return self._customers[username]

    def accounts_of(self, username: str) -> list[Account]:
        return [a for a in self._accounts.values() if a.owner == username]

    def account(self, account_id: str) -> Account | None:
        return self._accounts.get(account_id)

    def history(self, account_id: str) -> RevisedHistory:
        return self._histories[account_id]

    def iter_transactions(self, account_id: str) -> Iterator[Transaction]:
        """Every transaction in (posted, id) order, pending ones included."""
        return iter(self._histories[account_id])

    def count_transactions(self, account_id: str) -> int:
        return len(self._histories[account_id])

    def find_transaction(self, account_id: str, transaction_id: str) -> Transaction | None:
        return self._histories[account_id].find(transaction_id)

    def booked_balance_minor(self, account_id: str) -> int:
        return self._histories[account_id].booked_balance()

    def opening_balance_minor(self, account_id: str) -> int:
        """The balance the account's history starts from (before its first transaction)."""
        return self._histories[account_id].opening_balance()

    def available_balance_minor(self, account_id: str) -> int:
        return self._histories[account_id].available_balance()

    def pending_transactions(self, account_id: str) -> list[Transaction]:
        return self._histories[account_id].pending()

    def cards_of(self, username: str) -> list[Card]:
        return [c for c in self._cards if c.owner == username]

    def transfers_of(self, account_id: str) -> list[Transfer]:
        """All transfers of the account, newest first (generates the whole history)."""
        return list(self._histories[account_id].transfers())

    def transfers_page(self, account_id: str, offset: int, limit: int | None) -> list[Transfer]:
        """`transfers_of(account_id)[offset : offset + limit]`, skipping whole blocks."""
        return self._histories[account_id].transfers_page(offset, limit)

    def counterparties_of(self, account_id: str) -> tuple[Counterparty, ...]:
        return self._counterparties.get(account_id, ())

    @property
    def generated_blocks(self) -> int:
        """Blocks generated so far over all accounts (how lazy the bank has been)."""
        return sum(h.generated_blocks for h in self._histories.values())

    def book_pending(
        self, account_id: str | None = None, transaction_ids: Collection[str] | None = None
    ) -> list[tuple[str, Transaction]]:
        """Book pending transactions (of one account; only `transaction_ids` if given)
        under new ids; returns (old id, booked transaction)."""
        if transaction_ids is not None and account_id is None:
            raise ValueError("transaction_ids need an account_id")
        ids = [account_id] if account_id is not None else list(self._histories)
        link = not self.config.faults.unlinked_pending
        return [
            pair
            for i in ids
            for pair in self._histories[i].book_pending(self.rows_now, transaction_ids, link=link)
        ]

    def add_transactions(self, account_id: str, count: int) -> list[Transaction]:
        """Append `count` booked transactions dated now (incremental-sync tests)."""
        return self._histories[account_id].append(count, self.rows_now)

    def remove_transaction(self, account_id: str, transaction_id: str) -> Transaction | None:
        """Reverse a booked transaction: it disappears, and the later new_balances and the
        booked balance shift by its amount. None if it is unknown or pending."""
        return self._histories[account_id].remove(transaction_id)

    def truth(self, account_id: str) -> list[TruthRow]:
        """Exactly what the bank holds for the account, ascending, as a complete sync must
        store it: rows hidden from the listing included, reversed rows not, `posted` as
        served (midnight UTC on a date-only bank). Walks the whole history: O(N)."""
        date_only = self.config.faults.date_only
        return [
            TruthRow(
                t.id,
                t.amount_minor,
                t.status,
                day_start(t.posted) if date_only else t.posted,
                t.new_balance_minor,
            )
            for t in self._histories[account_id]
        ]

    # DirectLogin --------------------------------------------------------------------------

    def login(self, username: str, password: str, consumer_key: str) -> str:
        self.login_attempts += 1
        if self.config.faults.refuse_logins:
            raise ObpError(errors.INVALID_LOGIN)
        if consumer_key != self.consumer_key:
            raise ObpError(errors.INVALID_CONSUMER_KEY)
        customer = self._customers.get(username)
        if customer is None or not secrets.compare_digest(customer.password, password):
            raise ObpError(errors.INVALID_LOGIN)
        token = secrets.token_urlsafe(32)
        expires = self.now() + timedelta(seconds=self.config.token_ttl_seconds)
        self._tokens[token] = _Token(username, consumer_key, expires)
        return token

    def token_consumer(self, token: str) -> str | None:
        record = self._tokens.get(token)
        return record.consumer_key if record else None

    def token_user(self, token: str, max_uses: int | None = None) -> tuple[Customer, str]:
        """The user and consumer key behind a token, counting this use."""
        record = self._tokens.get(token)
        if record is None or self.now() >= record.expires_at:
            self._tokens.pop(token, None)
            raise ObpError(errors.DIRECT_LOGIN_INVALID)
        if max_uses is not None and record.uses >= max_uses:
            del self._tokens[token]  # the fault knob: the token wore out
            raise ObpError(errors.DIRECT_LOGIN_INVALID)
        record.uses += 1
        return self._customers[record.username], record.consumer_key

    # consents -----------------------------------------------------------------------------

    def create_consent(
        self,
        user: Customer,
        consumer_key: str,
        sca_method: str,
        *,
        everything: bool,
        views: list[tuple[str, str, str]],
        entitlements: list[object],
        allowed_accounts: set[str],
        consumer_id: str | None = None,
        valid_from: datetime | None = None,
        time_to_live: int | None = None,
        status: str = "INITIATED",
    ) -> Consent:
        """A consent in `status`; an INITIATED one's SCA code is logged and kept for the
        admin API (a consent refused at the bank is born REJECTED, with no challenge)."""
        if sca_method not in SCA_METHODS:
            raise ObpError(errors.SCA_METHODS)
        ttl = self.config.consent_max_ttl_seconds if time_to_live is None else time_to_live
        if ttl > self.config.consent_max_ttl_seconds:
            raise ObpError(errors.CONSENT_MAX_TTL)
        if ttl < 1:
            raise ObpError(errors.INVALID_JSON, "time_to_live must be positive.")
        if entitlements:
            raise ObpError(errors.ROLES_IN_CONSENT)
        if consumer_id is not None and consumer_id != self.consumer_id:
            raise ObpError(errors.CONSUMER_NOT_FOUND)
        for bank_id, account_id, view_id in views:
            if (
                bank_id != self.bank_id
                or view_id != OWNER_VIEW
                or account_id not in allowed_accounts
            ):
                raise ObpError(errors.VIEWS_IN_CONSENT)
        account_ids = sorted(allowed_accounts) if everything else [v[1] for v in views]
        now = self.now().replace(microsecond=0)
        start = valid_from or now
        consent_id = str(uuid.uuid4())
        secret = secrets.token_bytes(32)
        claims = {
            "createdByUserId": user.user_id,
            "sub": user.user_id,
            "iss": "https://alif-sandbox.local",
            "aud": self.consumer_id,
            "jti": consent_id,
            "iat": int(now.timestamp()),
            "nbf": int(start.timestamp()),
            "exp": int(start.timestamp()) + ttl,
            "entitlements": [],
            "views": [
                {"bank_id": self.bank_id, "account_id": a, "view_id": OWNER_VIEW}
                for a in dict.fromkeys(account_ids)
            ],
        }
        consent = Consent(
            consent_id=consent_id,
            username=user.username,
            consumer_key=consumer_key,
            sca_method=sca_method,
            everything=everything,
            account_ids=tuple(dict.fromkeys(account_ids)),
            created_at=now,
            valid_from=start,
            expires_at=start + timedelta(seconds=ttl),
            jwt=jwt.encode(claims, secret, algorithm="HS256"),
            secret=secret,
            sca_code=f"{secrets.randbelow(10**6):06d}",
            status=status,
        )
        self._consents[consent_id] = consent
        self._keep(consent)
        if status == "INITIATED":
            logger.info("SCA code for consent %s: %s", consent_id, consent.sca_code)
        return consent

    def _keep(self, consent: Consent) -> None:
        if self._store is not None:
            self._store.save(consent)

    def consent(self, consent_id: str) -> Consent | None:
        return self._consents.get(consent_id)

    def consents_of(self, username: str) -> list[Consent]:
        return [c for c in self._consents.values() if c.username == username]

    def answer_challenge(self, consent: Consent, answer: str) -> Consent:
        if consent.status != "INITIATED":
            raise ObpError(errors.CONSENT_STATUS, "INITIATED.", status=400)
        right = secrets.compare_digest(answer.encode(), consent.sca_code.encode())
        consent.status = "ACCEPTED" if right else "REJECTED"
        self._keep(consent)
        return consent

    def consent_from_jwt(self, token: str) -> Consent:
        # The consent id inside says which secret verifies it, so it is read unverified first.
        try:
            if jwt.get_unverified_header(token).get("alg") != "HS256":
                raise ObpError(errors.CONSENT_HEADER_INVALID)
            payload = jwt.decode(token, options={"verify_signature": False})
        except jwt.InvalidTokenError:
            raise ObpError(errors.CONSENT_HEADER_INVALID) from None
        consent_id = payload.get("jti")
        consent = self._consents.get(consent_id) if isinstance(consent_id, str) else None
        if consent is None:
            raise ObpError(errors.CONSENT_NOT_FOUND)
        try:
            # The signature only: the validity window and the consumer answer their own OBP
            # errors (check_consent_usable, the Consumer-Key check), so PyJWT must not refuse
            # an expired token or one for another audience here.
            jwt.decode(
                token,
                consent.secret,
                algorithms=["HS256"],
                options={
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                    "verify_aud": False,
                },
            )
        except jwt.InvalidTokenError:
            raise ObpError(errors.CONSENT_NOT_VERIFIED) from None
        return consent

    def check_consent_usable(self, consent: Consent) -> None:
        """OBP-API's order (Consent.checkConsent): the validity window first, then the
        status, so an expired consent answers OBP-35003 even once revoked, and a revoked
        unexpired one OBP-35005."""
        now = self.now()
        if now < consent.valid_from:
            raise ObpError(errors.CONSENT_NOT_YET_VALID)
        if now >= consent.expires_at:
            raise ObpError(errors.CONSENT_EXPIRED)
        if consent.status != "ACCEPTED":
            raise ObpError(errors.CONSENT_STATUS, "ACCEPTED.")

    def revoke_consent(self, consent: Consent) -> Consent:
        if consent.status == "REVOKED":
            raise ObpError(errors.CONSENT_ALREADY_REVOKED)
        consent.status = "REVOKED"
        self._keep(consent)
        return consent

    # booked rows the bank changes (issue 10 record faults) --------------------------------

    def own_transfer(
        self, from_account: str, to_account: str, amount_minor: int
    ) -> tuple[Transaction, Transaction]:
        """Move money between two accounts of one customer: (debit leg, credit leg), both
        dated now, with one id when the `shared_transfer_ids` fault is on. ValueError when
        it cannot be done, KeyError for an unknown account."""
        source, target = self._accounts[from_account], self._accounts[to_account]
        self._own_transfers += 1
        sequence = self._own_transfers
        if self.config.faults.shared_transfer_ids:
            shared = uuid_from(self.config.seed, "own-transfer", sequence)
            ids = (shared, shared)
        else:
            ids = (
                uuid_from(self.config.seed, source.id, "own-transfer", sequence),
                uuid_from(self.config.seed, target.id, "own-transfer", sequence),
            )
        return own_transfer(
            self._histories[source.id],
            self._histories[target.id],
            source,
            target,
            amount_minor,
            ids,
            self.rows_now(),
        )

    def change_booked(
        self,
        account_id: str,
        transaction_id: str,
        *,
        amount_minor: int | None = None,
        posted: datetime | None = None,
        counterparty: Party | None = None,
        description: str | None = None,
    ) -> Transaction:
        """Change a booked row after the fact; later balances follow. KeyError for an
        unknown row, ValueError for a pending one or no change."""
        return self._histories[account_id].change_booked(
            transaction_id,
            self.now(),
            amount_minor=amount_minor,
            posted=posted,
            counterparty=counterparty,
            description=description,
        )

    def remove_booked(self, account_id: str, transaction_id: str) -> Transaction:
        """Remove a booked row (returned as it was); later balances follow."""
        return self._histories[account_id].remove_booked(transaction_id, self.now())

    def rows_by_key(self, username: str) -> dict[tuple[str, str], Transaction]:
        """Every transaction of the customer's accounts as the bank holds it now, keyed
        as OBP keys them: (account id, transaction id). Both legs of a shared-id
        transfer are two entries."""
        return {
            (account.id, t.id): t
            for account in self.accounts_of(username)
            for t in self._histories[account.id]
        }

    def revisions_of(self, account_id: str) -> list[Revision]:
        """Every change and removal of the account's booked rows, oldest first."""
        return list(self._histories[account_id].revisions)

    # consent requests: the customer approves at the bank (docs/sandbox.md) ---------------

    def check_password(self, username: str, password: str) -> Customer | None:
        """The customer, if the password is theirs (the bank's own login page)."""
        customer = self._customers.get(username)
        if customer is None or not secrets.compare_digest(
            customer.password.encode(), password.encode()
        ):
            return None
        return customer

    def create_consent_request(self, consumer_key: str, body: dict[str, Any]) -> ConsentRequest:
        """Keep a PostConsentRequestJsonV500 after the checks OBP makes before any user is known."""
        access = parse_request(body)
        if access.bank_id is not None and access.bank_id != self.bank_id:
            raise ObpError(errors.BANK_NOT_FOUND)
        if access.consumer_id is not None and access.consumer_id != self.consumer_id:
            raise ObpError(errors.CONSUMER_NOT_FOUND)
        ttl = access.time_to_live
        if ttl is not None and ttl > self.config.consent_max_ttl_seconds:
            raise ObpError(errors.CONSENT_MAX_TTL)
        if ttl is not None and ttl < 1:
            raise ObpError(errors.INVALID_JSON, "time_to_live must be positive.")
        if any(a.view_id != OWNER_VIEW for a in access.account_access):
            raise ObpError(errors.VIEWS_IN_CONSENT)
        request = ConsentRequest(
            consent_request_id=str(uuid.uuid4()),
            consumer_key=consumer_key,
            consumer_id=self.consumer_id,
            payload=body,
            created_at=self.now().replace(microsecond=0),
        )
        self._consent_requests.keep(request)
        return request

    def consent_request(self, consent_request_id: str) -> ConsentRequest:
        found = self._consent_requests.get(consent_request_id)
        if found is None:
            raise ObpError(errors.CONSENT_REQUEST_NOT_FOUND)
        return found

    def requested_accounts(self, request: ConsentRequest, user: Customer) -> list[Account]:
        """The accounts of `user` the request names (all of them for `everything`). A
        request addressed to another customer, or naming an account that is not theirs,
        cannot be granted by `user`."""
        access = request.access
        if access.phone_number is not None and access.phone_number != user.phone:
            raise ObpError(errors.CONSENT_DOES_NOT_MATCH_USER)
        if access.email is not None and access.email.lower() != user.email.lower():
            raise ObpError(errors.CONSENT_DOES_NOT_MATCH_USER)
        own = self.accounts_of(user.username)
        if access.everything:
            return own
        by_routing = {("AccountId", a.id): a for a in own} | {
            ("AccountNumber", a.number): a for a in own
        }
        found = [by_routing.get((a.scheme, a.address)) for a in access.account_access]
        if None in found:
            raise ObpError(errors.VIEWS_IN_CONSENT)
        return list(dict.fromkeys(a for a in found if a is not None))

    def consent_for_request(
        self, request: ConsentRequest, user: Customer, sca_method: str, *, refused: bool = False
    ) -> Consent:
        """The request's one consent, granted by `user`: INITIATED with an SCA challenge,
        or REJECTED at once when the customer refused it."""
        if request.consent_id is not None:
            raise ObpError(errors.CONSENT_REQUEST_INVALID, "It was answered already.")
        access = request.access
        accounts = self.requested_accounts(request, user)
        views = [(self.bank_id, a.id, OWNER_VIEW) for a in accounts]
        consent = self.create_consent(
            user,
            request.consumer_key,
            sca_method,
            everything=access.everything,
            views=[] if access.everything else views,
            entitlements=[],
            allowed_accounts={a.id for a in self.accounts_of(user.username)},
            consumer_id=request.consumer_id,
            valid_from=access.valid_from,
            time_to_live=access.time_to_live,
            status="REJECTED" if refused else "INITIATED",
        )
        request.consent_id = consent.consent_id
        self._consent_requests.keep(request)
        return consent

    def consent_of_request(self, request: ConsentRequest) -> Consent:
        consent = self._consents.get(request.consent_id) if request.consent_id else None
        if consent is None:
            raise ObpError(errors.CONSENT_NOT_FOUND)
        return consent
