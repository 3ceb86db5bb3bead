from __future__ import annotations

from .conftest import Harness
from .support import Customers, Flow, Registered, graphql


async def test_whole_flow_gives_a_token_that_reads_graphql(
    harness: Harness, registered: Registered, customers: Customers
) -> None:
    flow = Flow(harness.http, registered, harness.sender)
    tokens = await flow.tokens()
    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] == 600
    response = await graphql(harness.http, tokens["access_token"])
    assert response.status_code == 200, response.text
    assert response.json()["data"]["viewer"]["consent"]["status"] == "AUTHORISED"
