"""The customer's consents page: sign in, list, revoke."""

from __future__ import annotations

from graph.cli.dev.walkthrough import PageWalker
from ledger import audit, connections
from ledger import customers as customers_

from .conftest import Harness
from .support import PHONE_A, PHONE_B, Customers, Flow, Registered, graphql


async def _signed_in(harness: Harness, phone: str = PHONE_A) -> PageWalker:
    walker = PageWalker(harness.http)
    await walker.get("/auth/consents", {"lang": "en"})
    await walker.post("/auth/consents/phone", {"phone": phone})
    await walker.post("/auth/consents/code", {"code": harness.sender.last_code(phone) or ""})
    return walker


async def test_a_customer_lists_and_revokes_a_consent(
    harness: Harness, registered: Registered, customers: Customers
) -> None:
    tokens = await Flow(harness.http, registered, harness.sender).tokens()
    harness.clock.advance(seconds=31)  # past the cool-down of the consent's code
    walker = await _signed_in(harness)
    assert "Your consents" in walker.page
    assert "Budget &lt;b&gt;App&lt;/b&gt;" in walker.page and "active" in walker.page
    consent_id = walker.page.split('name="consent" value="')[1].split('"')[0]
    await walker.post("/auth/consents/revoke", {"consent": consent_id})
    assert "Access revoked." in walker.page and "revoked" in walker.page
    assert (await graphql(harness.http, tokens["access_token"])).status_code == 401


async def test_a_phone_with_nothing_to_manage_gets_the_same_page_and_no_code(
    harness: Harness, customers: Customers
) -> None:
    walker = PageWalker(harness.http)
    await walker.get("/auth/consents", {"lang": "en"})
    await walker.post("/auth/consents/phone", {"phone": PHONE_B})
    assert "We sent a 6-digit code" in walker.page
    assert harness.sender.last_code(PHONE_B) is None
    await walker.post("/auth/consents/code", {"code": "123456"})
    assert "code is not valid" in walker.page


async def test_a_consent_of_another_customer_cannot_be_revoked(
    harness: Harness, registered: Registered, customers: Customers
) -> None:
    await Flow(harness.http, registered, harness.sender).tokens(phone=PHONE_B)
    harness.http.cookies.clear()
    await Flow(harness.http, registered, harness.sender).tokens(phone=PHONE_A)
    harness.http.cookies.clear()
    harness.clock.advance(seconds=31)
    walker = await _signed_in(harness, PHONE_A)
    mine = walker.page.split('name="consent" value="')[1].split('"')[0]
    foreign = str(int(mine) - 1)
    response = await walker.post("/auth/consents/revoke", {"consent": foreign})
    assert response.status_code == 400


async def test_the_audit_trail_records_the_consent_events(
    harness: Harness, registered: Registered, customers: Customers
) -> None:
    await Flow(harness.http, registered, harness.sender).tokens()
    async with harness.sessions() as session:
        events = await audit.events(session, consent_id=1)
    assert [(e.operation, e.outcome) for e in events] == [
        ("auth.sca.pin_set", "ok"),
        ("auth.consent.approve", "ok"),
        ("auth.token.authorization_code", "ok"),
    ]
    assert events[1].client_id == registered.client_id and events[1].request_id


async def test_a_revocation_on_the_page_ends_the_bank_consent_even_with_the_bank_unreachable(
    harness: Harness, registered: Registered, customers: Customers
) -> None:
    """The customer's connection is left to no usable consent: it is never synced again
    and its bank revocation is pending (this harness reaches no bank), while the customer's
    revocation itself succeeds."""
    await Flow(harness.http, registered, harness.sender).tokens()
    harness.clock.advance(seconds=31)
    walker = await _signed_in(harness)
    consent_id = walker.page.split('name="consent" value="')[1].split('"')[0]

    await walker.post("/auth/consents/revoke", {"consent": consent_id})

    assert "Access revoked." in walker.page
    async with harness.sessions() as s:
        pending = await connections.pending_revocations(s)
        user_id = await customers_.id_by_phone(s, PHONE_A)
        assert user_id is not None
        theirs = await connections.ids_of_customer(s, user_id)
    assert pending == theirs and len(theirs) == 1  # the other customer's stays ACTIVE
