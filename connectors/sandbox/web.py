"""Small request helpers shared by the OBP routes and the admin routes."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request

from connectors.sandbox import errors
from connectors.sandbox.bank import SandboxBank
from connectors.sandbox.errors import ObpError
from connectors.sandbox.faults import FaultInjector


def bank_of(request: Request) -> SandboxBank:
    bank: SandboxBank = request.app.state.bank
    return bank


def faults_of(request: Request) -> FaultInjector:
    faults: FaultInjector = request.app.state.faults
    return faults


async def json_object(request: Request) -> dict[str, Any]:
    """The request body as a JSON object; an empty body is `{}`; else OBP-10001."""
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise ObpError(errors.INVALID_JSON) from None
    if not isinstance(body, dict):
        raise ObpError(errors.INVALID_JSON, "Expected a JSON object.")
    return body
