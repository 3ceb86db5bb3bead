"""No code, token, secret or password ends up in the database, the audit trail or a log."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from ledger.models import AuditEvent, metadata

from .conftest import Harness
from .support import PHONE_A, PIN, Customers, Flow, Registered


async def test_secrets_stay_out_of_the_database_and_the_logs(
    harness: Harness,
    registered: Registered,
    customers: Customers,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    flow = Flow(harness.http, registered, harness.sender)
    code = await flow.code_grant()
    sms_code = harness.sender.last_code(PHONE_A)
    tokens = (await flow.exchange(code)).json()
    await flow.exchange(code)  # a replay, to log and audit a refusal too
    secrets = {
        "authorization code": code,
        "access token": tokens["access_token"],
        "refresh token": tokens["refresh_token"],
        "client secret": registered.secret,
        "PIN": PIN,
    }
    async with harness.sessions() as session:
        dump = []
        for table in metadata.sorted_tables:
            for row in (await session.execute(select(table))).all():
                dump.append(" ".join(str(v) for v in row))
        audit = (await session.execute(select(AuditEvent.operation))).scalars().all()
    everything = "\n".join(dump)
    for name, value in secrets.items():
        assert value not in everything, f"{name} stored in the database"
        assert value not in caplog.text, f"{name} logged"
    assert sms_code is not None and f"|{sms_code}|" not in everything
    assert {"auth.consent.approve", "auth.token.authorization_code", "auth.grant.revoke"} <= set(
        audit
    )
