"""Strong customer authentication: the code and the PIN together, the first PIN chosen and
repeated, the phone locked across resends with an alert, and the codes' own rules."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from connectors.keys import Keyring
from graph.auth.consent import sca
from graph.auth.consent.flowkit import DUSHANBE
from graph.auth.consent.flows import MemoryFlowStore
from graph.auth.consent.sms import DevelopmentSender
from graph.auth.runtime import AuthConfig
from graph.cli.dev.walkthrough import PageWalker
from graph.server.app import create_app
from graph.settings import Settings
from ledger import consents, customers, one_time_codes
from ledger.models import AuditEvent, ScaChallenge, ScaFailure, User
from ledger.models import Consent as ConsentRow
from ledger.types import utcnow

from .conftest import Harness
from .support import PHONE_A, PIN, Customers, Flow, Registered

SECRET = "sca-test-secret"
KEYS = Keyring(SECRET)
WRONG = "code or the PIN is not valid"  # the one message, whichever factor failed
LOCKED = "this number is locked until"
CONSENT_PAGE = "Allow access?"
SIGNED_IN = 'action="/auth/consents/revoke"'  # the consents page's list, past its code
OTHER_PIN = "975310"


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


async def _ready(harness: Harness, registered: Registered) -> tuple[Flow, str]:
    flow = Flow(harness.http, registered, harness.sender)
    await flow.start()
    harness.http.headers["Accept-Language"] = "en"
    await flow.walker.get("/auth/flow", {"lang": "en"})
    await flow.phone()
    code = harness.sender.last_code(PHONE_A)
    assert code is not None and len(code) == 6 and code.isdigit()
    return flow, code


async def _with_pin(harness: Harness, registered: Registered) -> None:
    """PHONE_A approves once (choosing PIN), so later approvals ask for it."""
    await Flow(harness.http, registered, harness.sender).tokens()
    harness.http.cookies.clear()
    harness.clock.advance(seconds=31)


async def _new_code(harness: Harness, flow: Flow) -> str:
    harness.clock.advance(seconds=31)  # past the cool-down
    await flow.walker.post("/auth/flow/resend")
    assert "A new code has been sent" in flow.walker.page
    code = harness.sender.last_code(PHONE_A)
    assert code is not None
    return code


async def _stored_pin(harness: Harness) -> str | None:
    async with harness.sessions() as session:
        hashed: str | None = (
            await session.execute(select(User.pin_hash).where(User.phone == PHONE_A))
        ).scalar_one()
    return hashed


# -- two factors ---------------------------------------------------------------------------


async def test_a_first_approval_chooses_a_pin_repeats_it_and_stores_only_its_hash(
    harness: Harness, registered: Registered, customers: Customers
) -> None:
    flow, code = await _ready(harness, registered)
    assert 'name="pin" type="password"' in flow.walker.page  # asked of every phone alike
    await flow.code(code)
    assert "Repeat your PIN" in flow.walker.page and CONSENT_PAGE not in flow.walker.page
    assert await _stored_pin(harness) is None  # not before it is repeated
    await flow.pin(OTHER_PIN)
    assert "The PINs did not match" in flow.walker.page and "Choose your PIN" in flow.walker.page
    await flow.pin()
    assert "Repeat your PIN" in flow.walker.page
    await flow.pin()
    assert "Your PIN is set." in flow.walker.page and CONSENT_PAGE in flow.walker.page
    stored = await _stored_pin(harness)
    assert stored is not None and stored.startswith("$argon2id$") and PIN not in stored
    assert await sca.pin_matches(stored, PIN) and not await sca.pin_matches(stored, OTHER_PIN)


async def test_a_later_approval_needs_the_code_and_the_pin_and_never_says_which_failed(
    harness: Harness, registered: Registered, customers: Customers
) -> None:
    await _with_pin(harness, registered)
    flow, code = await _ready(harness, registered)
    await flow.code(code, pin=OTHER_PIN)  # right code, wrong PIN
    wrong_pin_page = flow.walker.page
    await flow.code(_wrong(code))  # wrong code, right PIN
    assert WRONG in wrong_pin_page and WRONG in flow.walker.page
    assert CONSENT_PAGE not in flow.walker.page
    await flow.code(code)  # both right, and the code still open after a wrong PIN
    assert CONSENT_PAGE in flow.walker.page and "Repeat your PIN" not in wrong_pin_page
    assert await _stored_pin(harness) is not None


async def test_the_consent_cannot_be_decided_before_both_factors(
    harness: Harness, registered: Registered, customers: Customers
) -> None:
    flow, code = await _ready(harness, registered)
    await flow.code(code)  # the code only: the new PIN is not repeated yet
    response = await flow.walker.post("/auth/flow/decide", {"decision": "approve"})
    assert "Repeat your PIN" in flow.walker.page and response.status_code == 200
    async with harness.sessions() as session:
        consent = await consents.load(session, 1)
    assert consent is not None and consent.status == consents.AWAITING


@pytest.mark.parametrize("pin", ["", "12345", "1234567", "abcdef", "111111", "123456", "654321"])
async def test_an_impossible_pin_is_refused_without_counting_an_attempt(
    harness: Harness, registered: Registered, customers: Customers, pin: str
) -> None:
    flow, code = await _ready(harness, registered)
    await flow.code(code, pin=pin)
    assert "A PIN is 6 digits" in flow.walker.page
    async with harness.sessions() as session:
        challenge = (await session.execute(select(ScaChallenge))).scalar_one()
        failures = (await session.execute(select(ScaFailure))).all()
    assert challenge.attempts == 0 and challenge.used_at is None and not failures


def test_acceptable_pins() -> None:
    assert sca.acceptable_pin(PIN) and sca.acceptable_pin("000001")
    for pin in (
        None,
        "",
        "12 456",
        "0123456",
        "999999",
        "234567",
        "876543",
        "\uff11\uff12\uff13\uff14\uff15\uff16",
    ):
        assert not sca.acceptable_pin(pin)


# -- the phone's lock ----------------------------------------------------------------------


async def test_failures_across_resent_codes_lock_the_phone_and_alert_the_customer(
    harness: Harness, registered: Registered, customers: Customers
) -> None:
    await _with_pin(harness, registered)
    flow, code = await _ready(harness, registered)
    # Five failures, wrong codes and wrong PINs, against three codes (SMS are limited).
    for attempt in range(5):
        if attempt in (2, 4):
            code = await _new_code(harness, flow)
        if attempt % 2:
            await flow.code(code, pin=OTHER_PIN)
        else:
            await flow.code(_wrong(code))
    assert LOCKED in flow.walker.page
    alerts = harness.sender.lockout_alerts(PHONE_A)
    assert len(alerts) == 1
    assert abs(alerts[0] - (harness.clock() + one_time_codes.LOCK_PERIOD)) < timedelta(seconds=5)
    await flow.code(code)  # the right code (unused, still open) and the right PIN
    assert LOCKED in flow.walker.page and CONSENT_PAGE not in flow.walker.page
    assert len(harness.sender.lockout_alerts(PHONE_A)) == 1  # one alert per lock
    async with harness.sessions() as session:
        factors = (await session.execute(select(ScaFailure.factor))).scalars().all()
    assert sorted(factors) == ["code"] * 3 + ["pin"] * 2  # no failure counted while locked

    harness.clock.advance(hours=1)  # the lock is over: fresh tries, a new code
    await flow.code(code)
    assert WRONG in flow.walker.page  # that code expired meanwhile
    await flow.code(await _new_code(harness, flow))
    assert CONSENT_PAGE in flow.walker.page


def _hhmm(until: datetime) -> str:
    return until.astimezone(DUSHANBE).strftime("%H:%M")


async def _manage(harness: Harness) -> PageWalker:
    """The consents page, phone entered (a code texted unless the phone is locked)."""
    harness.http.cookies.clear()
    walker = PageWalker(harness.http)
    await walker.get("/auth/consents", {"lang": "en"})
    await walker.post("/auth/consents/phone", {"phone": PHONE_A})
    return walker


async def _texts(harness: Harness) -> int:
    """How many codes have been issued to PHONE_A (each one texted)."""
    async with harness.sessions() as session:
        return len((await session.execute(select(ScaChallenge))).all())


async def test_a_locked_phone_is_sent_no_code_by_either_page(
    harness: Harness, registered: Registered, customers: Customers
) -> None:
    await _with_pin(harness, registered)  # a decided consent: the consents page sends codes
    flow, code = await _ready(harness, registered)
    for _ in range(5):
        await flow.code(_wrong(code))
    assert LOCKED in flow.walker.page
    alerts = harness.sender.lockout_alerts(PHONE_A)
    assert len(alerts) == 1
    until = _hhmm(alerts[0])
    texts = await _texts(harness)

    harness.clock.advance(seconds=31)  # past the cool-down: only the lock stops a resend
    await flow.walker.post("/auth/flow/resend")
    assert f"{LOCKED} {until}" in flow.walker.page and "A new code" not in flow.walker.page
    harness.http.cookies.clear()
    again = Flow(harness.http, registered, harness.sender)
    await again.start()
    await again.phone()
    assert f"{LOCKED} {until}" in again.walker.page
    assert 'action="/auth/flow/phone"' in again.walker.page  # still asking for a number
    walker = await _manage(harness)
    assert f"{LOCKED} {until}" in walker.page and SIGNED_IN not in walker.page
    assert harness.sender.last_code(PHONE_A) == code  # nothing texted since the lock
    assert await _texts(harness) == texts
    async with harness.sessions() as session:
        started = (await session.execute(select(ScaChallenge.consent_id).distinct())).all()
        begun = (await session.execute(select(ConsentRow.id))).all()
    assert len(begun) == len(started)  # no consent begun without a code
    assert len(harness.sender.lockout_alerts(PHONE_A)) == 1
    # (That the codes come again once the lock is over: the consents page test below; this
    # phone has used up its texts for now.)


async def test_the_consents_page_counts_failures_against_the_phone_across_resends(
    harness: Harness, registered: Registered, customers: Customers
) -> None:
    await _with_pin(harness, registered)
    walker = await _manage(harness)
    code = harness.sender.last_code(PHONE_A)
    assert code is not None
    for attempt in range(5):
        if attempt == 3:
            harness.clock.advance(seconds=31)
            await walker.post("/auth/consents/resend")
            assert "A new code has been sent" in walker.page
            code = harness.sender.last_code(PHONE_A)
            assert code is not None
        assert LOCKED not in walker.page
        await walker.post("/auth/consents/code", {"code": _wrong(code)})
    alerts = harness.sender.lockout_alerts(PHONE_A)
    assert len(alerts) == 1  # the attempt that locked it texted the customer
    assert abs(alerts[0] - (harness.clock() + one_time_codes.LOCK_PERIOD)) < timedelta(seconds=5)
    assert f"{LOCKED} {_hhmm(alerts[0])}" in walker.page
    await walker.post("/auth/consents/code", {"code": code})  # the right code, but locked
    assert LOCKED in walker.page and SIGNED_IN not in walker.page
    harness.clock.advance(seconds=31)
    await walker.post("/auth/consents/resend")
    assert LOCKED in walker.page and harness.sender.last_code(PHONE_A) == code
    assert len(harness.sender.lockout_alerts(PHONE_A)) == 1
    async with harness.sessions() as session:
        factors = (await session.execute(select(ScaFailure.factor))).scalars().all()
    assert factors == ["code"] * 5  # none counted while locked
    async with harness.sessions() as session:
        verified = await session.execute(
            select(AuditEvent.outcome).where(AuditEvent.operation == "auth.sca.verify")
        )
    assert verified.scalars().all() == ["denied"] * 6  # five wrong, one while locked

    harness.clock.advance(hours=1)
    await walker.post("/auth/consents/resend")
    await walker.post("/auth/consents/code", {"code": harness.sender.last_code(PHONE_A) or ""})
    assert SIGNED_IN in walker.page


async def test_failures_on_both_pages_add_up_to_one_lock(
    harness: Harness, registered: Registered, customers: Customers
) -> None:
    await _with_pin(harness, registered)
    walker = await _manage(harness)
    manage_code = harness.sender.last_code(PHONE_A)
    assert manage_code is not None
    for _ in range(3):
        await walker.post("/auth/consents/code", {"code": _wrong(manage_code)})
        assert "code is not valid" in walker.page
    harness.http.cookies.clear()
    flow, code = await _ready(harness, registered)
    await flow.code(_wrong(code))
    assert WRONG in flow.walker.page
    await flow.code(code, pin=OTHER_PIN)  # the fifth failure: a wrong PIN
    assert LOCKED in flow.walker.page
    assert len(harness.sender.lockout_alerts(PHONE_A)) == 1


async def test_failures_spread_beyond_the_window_do_not_lock(
    harness: Harness, registered: Registered, customers: Customers
) -> None:
    flow, code = await _ready(harness, registered)
    for _ in range(4):
        await flow.code(_wrong(code))
    harness.clock.advance(hours=1, seconds=1)
    code = await _new_code(harness, flow)
    for _ in range(4):
        await flow.code(_wrong(code))
        assert WRONG in flow.walker.page
    await flow.code(code)
    assert LOCKED not in flow.walker.page and "Repeat your PIN" in flow.walker.page
    assert harness.sender.lockout_alerts(PHONE_A) == []


# -- the codes' own rules ------------------------------------------------------------------


async def test_five_wrong_codes_lock_it_even_for_the_right_code(
    harness: Harness, registered: Registered, customers: Customers
) -> None:
    flow, code = await _ready(harness, registered)
    for _ in range(5):
        await flow.code(_wrong(code))
    await flow.code(code)
    assert LOCKED in flow.walker.page
    async with harness.sessions() as session:
        challenge = (await session.execute(select(ScaChallenge))).scalar_one()
    assert challenge.attempts == 5 and challenge.locked_at is not None


async def test_a_new_code_after_the_cool_down_replaces_the_old(
    harness: Harness, registered: Registered, customers: Customers
) -> None:
    flow, first = await _ready(harness, registered)
    await flow.walker.post("/auth/flow/resend")
    assert "You can ask for a new code in" in flow.walker.page
    assert harness.sender.last_code(PHONE_A) == first
    second = await _new_code(harness, flow)
    if second != first:
        await flow.code(first)
        assert WRONG in flow.walker.page
    await flow.code(second)
    assert "Repeat your PIN" in flow.walker.page


async def test_an_expired_code_is_refused_with_the_same_message(
    harness: Harness, registered: Registered, customers: Customers
) -> None:
    flow, code = await _ready(harness, registered)
    harness.clock.advance(minutes=5, seconds=1)
    await flow.code(code)
    assert WRONG in flow.walker.page


async def test_many_codes_in_one_post_count_as_an_attempt_and_are_never_checked(
    harness: Harness, registered: Registered, customers: Customers
) -> None:
    flow, code = await _ready(harness, registered)
    guesses = [f"{n:06d}" for n in range(20)] + [code]
    for _ in range(4):
        await flow.walker.post("/auth/flow/code", {"code": guesses, "pin": PIN})
        assert WRONG in flow.walker.page
    await flow.walker.post("/auth/flow/code", {"code": guesses, "pin": PIN})
    assert LOCKED in flow.walker.page


async def test_an_oversized_batch_of_codes_is_rejected_unread(
    harness: Harness, registered: Registered, customers: Customers
) -> None:
    flow, _ = await _ready(harness, registered)
    csrf = flow.walker.csrf()
    response = await harness.http.post(
        "/auth/flow/code",
        data={"csrf": csrf, "pin": PIN, "code": [f"{n:06d}" for n in range(500)]},
    )
    assert response.status_code == 400
    async with harness.sessions() as session:
        challenge = (await session.execute(select(ScaChallenge))).scalar_one()
    assert challenge.attempts == 0 and challenge.used_at is None


async def test_a_json_body_of_codes_is_not_read(
    harness: Harness, registered: Registered, customers: Customers
) -> None:
    flow, code = await _ready(harness, registered)
    response = await harness.http.post(
        "/auth/flow/code",
        json={"csrf": flow.walker.csrf(), "pin": PIN, "code": [code, _wrong(code)]},
    )
    assert response.status_code == 400
    await flow.walker.get("/auth/flow")
    assert "Repeat your PIN" not in flow.walker.page


async def test_the_pin_never_reaches_the_flow_store(
    settings: Settings,
    engine: AsyncEngine,
    registered: Registered,
    customers: Customers,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    store, sender = MemoryFlowStore(), DevelopmentSender(reveal_codes=True)
    app = create_app(settings, engine=engine, auth=AuthConfig(sender=sender, flows=store))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://api.test"
    ) as http:
        flow = Flow(http, registered, sender)
        await flow.start()
        await flow.phone()
        await flow.code()
        states = [await store.get(flow_id) for flow_id in list(store._flows)]
        await flow.pin()
    assert states and all(PIN not in str(state) for state in states)
    assert any(str(s.get("pin_pending", "")).startswith("$argon2id$") for s in states if s)
    assert PIN not in caplog.text


# -- the ledger's count --------------------------------------------------------------------


async def _consent(sessions: async_sessionmaker[AsyncSession]) -> tuple[int, int]:
    now = utcnow()
    async with sessions.begin() as session:
        user = await customers.ensure(session, PHONE_A)
        consent = await consents.create(
            session,
            user_id=user,
            client_id=None,
            scopes=frozenset({"accounts:read"}),
            expires_at=now + timedelta(minutes=15),
            now=now,
        )
    return user, consent


async def _fail(sessions: async_sessionmaker[AsyncSession], user: int, at: datetime) -> object:
    async with sessions.begin() as session:
        return await one_time_codes.record_failure(
            session, user, one_time_codes.CODE_FACTOR, now=at
        )


async def test_the_fifth_failure_in_the_window_locks_and_a_lock_spends_its_failures(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    user, _ = await _consent(sessions)
    start = utcnow()
    for n in range(4):
        assert await _fail(sessions, user, start + timedelta(minutes=n)) is None
    fifth = start + timedelta(minutes=4)
    assert await _fail(sessions, user, fifth) == fifth + one_time_codes.LOCK_PERIOD
    async with sessions.begin() as session:
        during = await one_time_codes.locked_until(session, user, now=fifth + timedelta(minutes=59))
        after = await one_time_codes.locked_until(session, user, now=fifth + timedelta(hours=1))
    assert during == fifth + one_time_codes.LOCK_PERIOD and after is None
    # After the lock, the failures that caused it no longer count: four more do not lock.
    later = fifth + timedelta(hours=1, minutes=1)
    for n in range(4):
        assert await _fail(sessions, user, later + timedelta(seconds=n)) is None
    assert await _fail(sessions, user, later + timedelta(seconds=5)) is not None


async def test_a_code_works_once_only_for_its_purpose_and_not_while_locked(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    user, consent_id = await _consent(sessions)
    now = utcnow()

    async def issue(at: datetime) -> str:
        async with sessions.begin() as session:
            issued = await one_time_codes.issue(
                session, consent_id, purpose=one_time_codes.MANAGE, keys=KEYS.code_keys, now=at
            )
        assert isinstance(issued, one_time_codes.Issued)
        return issued.code

    async def verify(code: str, purpose: str, at: datetime) -> bool:
        async with sessions.begin() as session:
            refused = await sca.judge_code(
                session,
                user_id=user,
                consent_id=consent_id,
                code=code,
                purpose=purpose,
                keys=KEYS,
                now=at,
            )
        return refused is None

    code = await issue(now)
    assert not await verify(code, one_time_codes.AUTHORISE, now)
    assert await verify(code, one_time_codes.MANAGE, now)
    assert not await verify(code, one_time_codes.MANAGE, now)
    for _ in range(3):  # with the two failures above: five, the phone is locked
        assert not await verify(_wrong(code), one_time_codes.MANAGE, now)
    async with sessions.begin() as session:
        assert await one_time_codes.locked_until(session, user, now=now) is not None
        later = now + timedelta(minutes=1)
        assert isinstance(
            await one_time_codes.issue(
                session, consent_id, purpose=one_time_codes.MANAGE, keys=KEYS.code_keys, now=later
            ),
            one_time_codes.Locked,
        )


async def test_only_an_hmac_of_the_code_is_stored(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    _, consent_id = await _consent(sessions)
    async with sessions.begin() as session:
        issued = await one_time_codes.issue(
            session, consent_id, purpose=one_time_codes.AUTHORISE, keys=KEYS.code_keys, now=utcnow()
        )
    assert isinstance(issued, one_time_codes.Issued)
    async with sessions() as session:
        stored = (await session.execute(select(ScaChallenge.code_hash))).scalar_one()
    assert issued.code not in stored and len(stored) == 64
    # Keyed with the codes' own key: under another key the same code hashes differently.
    (key,) = KEYS.code_keys
    assert stored == one_time_codes.code_hash(
        key, purpose=one_time_codes.AUTHORISE, consent_id=consent_id, code=issued.code
    )
    assert stored != one_time_codes.code_hash(
        b"other", purpose=one_time_codes.AUTHORISE, consent_id=consent_id, code=issued.code
    )


@pytest.mark.parametrize("reveal", [True, False])
async def test_the_production_sender_never_logs_or_keeps_the_code(
    caplog: pytest.LogCaptureFixture, reveal: bool
) -> None:
    sender = DevelopmentSender(reveal_codes=reveal)
    with caplog.at_level(logging.INFO, logger="graph.auth.consent.sms"):
        await sender.send(PHONE_A, "493817", lang="ru")
        await sender.alert_locked(PHONE_A, utcnow(), lang="ru")
    assert ("493817" in caplog.text) is reveal
    assert (sender.last_code(PHONE_A) == "493817") is reveal
    assert "lockout alert" in caplog.text
    assert PHONE_A not in caplog.text  # masked either way


async def test_concurrent_failures_of_one_phone_are_counted_one_at_a_time(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    user, _ = await _consent(sessions)
    now = utcnow()

    async def attempt() -> str:
        async with sessions.begin() as session:
            if await one_time_codes.locked_until(session, user, now=now) is not None:
                return "refused"
            locked = await one_time_codes.record_failure(
                session, user, one_time_codes.PIN_FACTOR, now=now
            )
            return "locked" if locked else "counted"

    outcomes = await asyncio.gather(*(attempt() for _ in range(8)))
    assert sorted(outcomes) == ["counted"] * 4 + ["locked"] + ["refused"] * 3
    async with sessions() as session:
        assert len((await session.execute(select(ScaFailure))).all()) == 5
