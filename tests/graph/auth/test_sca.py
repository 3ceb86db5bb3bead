"""One-time codes: wrong, lockout, expiry, single use, cool-down, batching abuse."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from graph.auth.consent.sms import DevelopmentSender
from ledger import consents, customers, one_time_codes
from ledger.models import ScaChallenge
from ledger.types import utcnow

from .conftest import Harness
from .support import PHONE_A, Customers, Flow, Registered

SECRET = "sca-test-secret"
WRONG = "code is not valid"  # the one error message, whatever went wrong


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


async def _signed_in(flow: Flow) -> bool:
    return "Разрешить доступ?" in flow.walker.page


async def _ready(harness: Harness, registered: Registered) -> tuple[Flow, str]:
    flow = Flow(harness.http, registered, harness.sender)
    await flow.start()
    harness.http.headers["Accept-Language"] = "en"
    await flow.walker.get("/auth/flow", {"lang": "en"})
    await flow.phone()
    code = harness.sender.last_code(PHONE_A)
    assert code is not None and len(code) == 6 and code.isdigit()
    return flow, code


async def test_a_wrong_code_is_refused_and_the_right_one_then_works(
    harness: Harness, registered: Registered, customers: Customers
) -> None:
    flow, code = await _ready(harness, registered)
    await flow.code(_wrong(code))
    assert WRONG in flow.walker.page
    await flow.code(code)
    assert "Allow access?" in flow.walker.page


async def test_five_wrong_codes_lock_it_even_for_the_right_code(
    harness: Harness, registered: Registered, customers: Customers
) -> None:
    flow, code = await _ready(harness, registered)
    for _ in range(5):
        await flow.code(_wrong(code))
    await flow.code(code)
    assert WRONG in flow.walker.page
    async with harness.sessions() as session:
        challenge = (await session.execute(select(ScaChallenge))).scalar_one()
    assert challenge.attempts == 5 and challenge.locked_at is not None


async def test_a_new_code_after_the_cool_down_unlocks_and_replaces_the_old(
    harness: Harness, registered: Registered, customers: Customers
) -> None:
    flow, first = await _ready(harness, registered)
    await flow.walker.post("/auth/flow/resend")
    assert "You can ask for a new code in" in flow.walker.page
    assert harness.sender.last_code(PHONE_A) == first
    harness.clock.advance(seconds=31)
    await flow.walker.post("/auth/flow/resend")
    assert "A new code has been sent" in flow.walker.page
    second = harness.sender.last_code(PHONE_A)
    assert second is not None
    if second != first:
        await flow.code(first)
        assert WRONG in flow.walker.page
    await flow.code(second)
    assert "Allow access?" in flow.walker.page


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
    for _ in range(5):
        await flow.walker.post("/auth/flow/code", {"code": guesses})
        assert WRONG in flow.walker.page
    await flow.code(code)  # locked by the five batched posts
    assert WRONG in flow.walker.page


async def test_an_oversized_batch_of_codes_is_rejected_unread(
    harness: Harness, registered: Registered, customers: Customers
) -> None:
    flow, _ = await _ready(harness, registered)
    csrf = flow.walker.csrf()
    response = await harness.http.post(
        "/auth/flow/code", data={"csrf": csrf, "code": [f"{n:06d}" for n in range(500)]}
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
        "/auth/flow/code", json={"csrf": flow.walker.csrf(), "code": [code, _wrong(code)]}
    )
    assert response.status_code == 400
    await flow.walker.get("/auth/flow")
    assert "Allow access?" not in flow.walker.page


async def _consent(sessions: async_sessionmaker[AsyncSession]) -> int:
    now = utcnow()
    async with sessions.begin() as session:
        user = await customers.ensure(session, PHONE_A)
        return await consents.create(
            session,
            user_id=user,
            client_id=None,
            scopes=frozenset({"accounts:read"}),
            expires_at=now + timedelta(minutes=15),
            now=now,
        )


async def test_a_code_works_once_and_only_for_its_purpose(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    consent_id = await _consent(sessions)
    now = utcnow()
    async with sessions.begin() as session:
        issued = await one_time_codes.issue(
            session, consent_id, purpose=one_time_codes.MANAGE, secret=SECRET, now=now
        )
    assert isinstance(issued, one_time_codes.Issued)
    async with sessions.begin() as session:
        assert not await one_time_codes.verify(
            session,
            consent_id,
            issued.code,
            purpose=one_time_codes.AUTHORISE,
            secret=SECRET,
            now=now,
        )
        assert await one_time_codes.verify(
            session, consent_id, issued.code, purpose=one_time_codes.MANAGE, secret=SECRET, now=now
        )
        assert not await one_time_codes.verify(
            session, consent_id, issued.code, purpose=one_time_codes.MANAGE, secret=SECRET, now=now
        )


async def test_only_an_hmac_of_the_code_is_stored(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    consent_id = await _consent(sessions)
    async with sessions.begin() as session:
        issued = await one_time_codes.issue(
            session, consent_id, purpose=one_time_codes.AUTHORISE, secret=SECRET, now=utcnow()
        )
    assert isinstance(issued, one_time_codes.Issued)
    async with sessions() as session:
        stored = (await session.execute(select(ScaChallenge.code_hash))).scalar_one()
    assert issued.code not in stored and len(stored) == 64
    # Keyed: the same code under another secret hashes differently.
    assert stored != one_time_codes.code_hash(
        "other", purpose=one_time_codes.AUTHORISE, consent_id=consent_id, code=issued.code
    )


@pytest.mark.parametrize("reveal", [True, False])
async def test_the_production_sender_never_logs_or_keeps_the_code(
    caplog: pytest.LogCaptureFixture, reveal: bool
) -> None:
    sender = DevelopmentSender(reveal_codes=reveal)
    with caplog.at_level(logging.INFO, logger="graph.auth.consent.sms"):
        await sender.send(PHONE_A, "493817", lang="ru")
    assert ("493817" in caplog.text) is reveal
    assert (sender.last_code(PHONE_A) == "493817") is reveal
    assert PHONE_A not in caplog.text  # masked either way
