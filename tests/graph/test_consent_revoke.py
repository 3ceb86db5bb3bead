"""`consentRevoke`: the customer ends a consent through GraphQL, effective on the next request."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import update

from graph.relay.ids import to_global_id

from .helpers import CONSENTS, Api, codes, consent_of
from .ledger_data import PHONE_B, LedgerData

REVOKE = """
mutation Revoke($id: ID) {
  consentRevoke(id: $id) {
    __typename
    ... on ConsentRevokeSuccess { consent { id status client scopes } }
    ... on ConsentRevokeError { code message }
  }
}
"""
VIEWER = "{ viewer { consent { id status } } }"


async def revoke(api: Api, token: str, consent_id: str | None = None) -> dict:
    body = await api.query(REVOKE, {"id": consent_id}, token=token)
    assert "errors" not in body, body
    result: dict = body["data"]["consentRevoke"]
    return result


async def test_revoking_the_tokens_own_consent_ends_it_on_the_next_request(
    api: Api, ledger: LedgerData
):
    token = await api.token(scopes=["accounts:read"])
    own = to_global_id("Consent", consent_of(token))

    result = await revoke(api, token)
    after = await api.post(VIEWER, token=token)

    assert result == {
        "__typename": "ConsentRevokeSuccess",
        "consent": {
            "id": own,
            "status": "REVOKED",
            "client": "development",
            "scopes": ["accounts:read"],
        },
    }
    assert after.status_code == 401
    assert codes(after.json()) == ["UNAUTHENTICATED"]


async def test_another_of_the_customers_consents_can_be_revoked_by_id(api: Api, ledger: LedgerData):
    other = await api.token()
    token = await api.token()

    result = await revoke(api, token, to_global_id("Consent", consent_of(other)))

    assert result["consent"]["status"] == "REVOKED"
    assert (await api.post(VIEWER, token=other)).status_code == 401
    assert (await api.post(VIEWER, token=token)).status_code == 200


async def test_another_customers_consent_answers_exactly_like_a_missing_one(
    api: Api, ledger: LedgerData
):
    foreign = await api.token(phone=PHONE_B)
    token = await api.token()

    a = await api.post(REVOKE, {"id": to_global_id("Consent", consent_of(foreign))}, token=token)
    b = await api.post(REVOKE, {"id": to_global_id("Consent", 987654)}, token=token)

    assert a.status_code == b.status_code == 200
    assert a.json() == b.json()
    assert a.json()["data"]["consentRevoke"] == {
        "__typename": "ConsentRevokeError",
        "code": "NOT_FOUND",
        "message": "No such consent.",
    }
    assert (await api.post(VIEWER, token=foreign)).status_code == 200


async def test_an_ended_consent_cannot_be_revoked_again(api: Api, ledger: LedgerData, sessions):
    revoked, expired = await api.token(), await api.token()
    token = await api.token()
    await revoke(api, token, to_global_id("Consent", consent_of(revoked)))
    async with sessions.begin() as session:
        await session.execute(
            update(CONSENTS)
            .where(CONSENTS.c.id == consent_of(expired))
            .values(expires_at=datetime(2020, 1, 1, tzinfo=UTC))
        )

    again = await revoke(api, token, to_global_id("Consent", consent_of(revoked)))
    lapsed = await revoke(api, token, to_global_id("Consent", consent_of(expired)))

    assert again == {
        "__typename": "ConsentRevokeError",
        "code": "ALREADY_ENDED",
        "message": "The consent is not in force: it is REVOKED.",
    }
    assert lapsed["code"] == "ALREADY_ENDED" and "EXPIRED" in lapsed["message"]


async def test_an_id_of_another_type_is_bad_input(api: Api, ledger: LedgerData):
    body = await api.query(REVOKE, {"id": to_global_id("Account", ledger.wallet.id)})

    assert codes(body) == ["BAD_USER_INPUT"]
    assert body["data"] is None


async def test_a_mutation_is_not_taken_by_get(api: Api, ledger: LedgerData):
    token = await api.token()

    response = await api.client.get(
        "/graphql", params={"query": REVOKE}, headers={"Authorization": f"Bearer {token}"}
    )

    assert response.status_code == 400
    assert (await api.post(VIEWER, token=token)).status_code == 200


async def test_the_revocation_is_on_the_consents_own_audit_record(api: Api, ledger: LedgerData):
    other = await api.token()
    token = await api.token()

    response = await api.post(
        REVOKE, {"id": to_global_id("Consent", consent_of(other))}, token=token
    )

    rows = [r for r in await api.audit_rows() if r.consent_id == consent_of(other)]
    assert [(r.operation, r.outcome) for r in rows] == [("auth.consent.revoke", "ok")]
    assert rows[0].request_id == response.headers["x-request-id"]


async def test_an_app_cannot_see_or_end_another_apps_consent_by_any_id(
    api: Api, ledger: LedgerData, sessions
):
    budget, _ = await api.register_app("Budget App")
    rival, _ = await api.register_app("Rival App")
    token = await api.token(client=budget)
    theirs = await api.token(client=rival)
    ended = await api.token(client=rival)
    await revoke(api, ended)
    node = "query N($id: ID!) { node(id: $id) { id } }"

    answers = [
        await api.post(REVOKE, {"id": to_global_id("Consent", consent)}, token=token)
        for consent in (consent_of(theirs), consent_of(ended), 987654)
    ]
    looked_up = await api.query(
        node, {"id": to_global_id("Consent", consent_of(theirs))}, token=token
    )

    assert len({(a.status_code, a.text) for a in answers}) == 1
    assert answers[0].json()["data"]["consentRevoke"]["code"] == "NOT_FOUND"
    assert looked_up["data"] == {"node": None}
    assert (await api.post(VIEWER, token=theirs)).status_code == 200
    rows = [r for r in await api.audit_rows() if r.operation == "Revoke"]
    assert [(r.outcome, r.object_ids) for r in rows[-3:]] == [
        ("denied", to_global_id("Consent", c))
        for c in (consent_of(theirs), consent_of(ended), 987654)
    ]


async def test_an_app_ends_its_own_other_consent_but_a_development_token_no_apps(
    api: Api, ledger: LedgerData
):
    budget, _ = await api.register_app()
    first = await api.token(client=budget)
    second = await api.token(client=budget)
    development = await api.token()

    by_development = await revoke(api, development, to_global_id("Consent", consent_of(first)))
    by_app = await revoke(api, second, to_global_id("Consent", consent_of(first)))

    assert by_development["code"] == "NOT_FOUND"
    assert by_app["__typename"] == "ConsentRevokeSuccess"
    assert by_app["consent"]["client"] == "Budget App"
    assert (await api.post(VIEWER, token=first)).status_code == 401
