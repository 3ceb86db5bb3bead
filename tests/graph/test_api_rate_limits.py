"""Rate limits on GraphQL and REST through the app: buckets per consent and per client,
charged the query cost (at least 1), refused with 429 and Retry-After."""

from __future__ import annotations

from .conftest import AppApi
from .helpers import Api, codes
from .ledger_data import LedgerData

FREE = "{ __typename }"  # costs 0, charged 1
VIEWER = "{ viewer { customer { id } } }"  # costs 3
SLOW = 0.01  # tokens per second: nothing refills within a test


async def test_the_request_after_the_burst_is_refused_with_retry_after(
    app_api: AppApi, ledger: LedgerData
):
    api = await app_api(rate_per_consent_capacity=3, rate_per_consent_per_second=SLOW)
    token = await api.token()

    passed = [await api.post(FREE, token=token) for _ in range(3)]
    refused = await api.post(FREE, token=token)

    assert [r.status_code for r in passed] == [200, 200, 200]
    assert [r.headers["x-ratelimit-remaining"] for r in passed] == ["2", "1", "0"]
    assert passed[0].headers["x-ratelimit-limit"] == "3"
    assert refused.status_code == 429
    retry_after = int(refused.headers["retry-after"])
    assert 90 <= retry_after <= 100  # one token at 0.01 per second
    assert refused.json() == {
        "data": None,
        "errors": [
            {
                "message": f"Rate limit exceeded; retry after {retry_after} s.",
                "extensions": {"code": "RATE_LIMITED", "retryAfter": retry_after},
            }
        ],
        "extensions": refused.json()["extensions"],
    }


async def test_a_query_is_charged_its_cost(app_api: AppApi, ledger: LedgerData):
    api = await app_api(rate_per_consent_capacity=10, rate_per_consent_per_second=SLOW)
    token = await api.token()

    passed = [await api.post(VIEWER, token=token) for _ in range(3)]
    refused = await api.post(VIEWER, token=token)
    cheap = await api.post(FREE, token=token)

    assert passed[-1].json()["extensions"]["cost"]["requested"] == 3
    assert passed[-1].headers["x-ratelimit-remaining"] == "1"
    assert refused.status_code == 429
    assert cheap.status_code == 200  # the refusal took nothing


async def test_consents_have_separate_buckets(app_api: AppApi, ledger: LedgerData):
    api = await app_api(rate_per_consent_capacity=1, rate_per_consent_per_second=SLOW)
    first, second = await api.token(), await api.token()

    assert (await api.post(FREE, token=first)).status_code == 200
    assert (await api.post(FREE, token=first)).status_code == 429
    assert (await api.post(FREE, token=second)).status_code == 200


async def test_an_apps_consents_share_its_client_bucket(app_api: AppApi, ledger: LedgerData):
    api = await app_api(rate_per_client_capacity=2, rate_per_client_per_second=SLOW)
    budget, _ = await api.register_app("Budget")
    other, _ = await api.register_app("Other")
    tokens = [await api.token(client=budget) for _ in range(3)]

    statuses = [(await api.post(FREE, token=t)).status_code for t in tokens]

    assert statuses == [200, 200, 429]
    assert (await api.post(FREE, token=await api.token(client=other))).status_code == 200
    # Development consents have no client: only their own bucket counts.
    assert (await api.post(FREE, token=await api.token())).status_code == 200


async def test_a_query_costing_more_than_the_bucket_holds_is_bad_input(
    app_api: AppApi, ledger: LedgerData
):
    api = await app_api(rate_per_consent_capacity=2, rate_per_consent_per_second=SLOW)
    token = await api.token()

    response = await api.post(VIEWER, token=token)

    assert response.status_code == 200
    assert codes(response.json()) == ["BAD_USER_INPUT"]
    assert response.json()["data"] is None
    assert (await api.post(FREE, token=token)).status_code == 200


async def test_rest_shares_the_buckets_and_answers_429(app_api: AppApi, ledger: LedgerData):
    api = await app_api(rate_per_consent_capacity=12, rate_per_consent_per_second=SLOW)
    token = await api.token()
    headers = {"Authorization": f"Bearer {token}"}

    listing = await api.client.get("/api/v1/alif/transactions?limit=1", headers=headers)  # 7
    graphql = await api.post(VIEWER, token=token)  # 3
    refused = await api.client.get("/api/v1/alif/transactions?limit=1", headers=headers)

    assert (listing.status_code, graphql.status_code) == (200, 200)
    assert listing.headers["x-ratelimit-remaining"] == "5"
    assert refused.status_code == 429
    body = refused.json()
    assert (body["error"], body["retry_after"]) == (
        "RATE_LIMITED",
        int(refused.headers["retry-after"]),
    )


async def test_default_limits_do_not_get_in_the_way(api: Api, ledger: LedgerData):
    token = await api.token()

    response = await api.post(VIEWER, token=token)

    assert response.status_code == 200
    assert response.headers["x-ratelimit-limit"] == "50000"


async def test_a_flood_of_bad_tokens_is_refused_without_an_audit_row_each(
    app_api: AppApi, ledger: LedgerData
):
    api = await app_api(rate_failed_auth_per_ip_per_minute=3)

    statuses = [(await api.post(VIEWER, token=f"not-a-token-{n}")).status_code for n in range(8)]

    assert statuses == [401] * 8
    rows = await api.audit_rows()
    assert [(r.outcome, r.consent_id) for r in rows] == [("denied", None)] * 3
