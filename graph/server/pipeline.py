"""The one request pipeline of the API, shared by GraphQL and REST.

    authenticate -> limit -> run -> audit

The bearer token is checked before anything else runs. The rate limit is charged while the
request runs, because what it costs is known only then (a GraphQL query's cost once it is
parsed, a REST answer's once its size is). Every request that reaches the pipeline leaves one
audit row, allowed or refused, written on the request's own session once its transaction is
rolled back (the row must not share the fate of the request's transaction:
graph/audit/requests.py) and before the answer is sent: an answer whose audit row could not
be written is not sent.

One session and one connection serve the whole request: the token check (which also reads
the accounts the consent allows, in the same statement), the run, and the audit row.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from graph.audit.requests import write_audit
from graph.audit.trail import Trail
from graph.auth.principal import ConsentRefused, Party, Principal
from graph.core.errors import ErrorCode, PublicError
from graph.server.services import Services, request_id
from ledger.types import utcnow

log = logging.getLogger("graph.server")

# (the request's session, who is asking) -> the answer; may raise a PublicError.
Run = Callable[[AsyncSession, Principal], Awaitable[Response]]


async def handle(
    services: Services,
    request: Request,
    trail: Trail,
    run: Run,
    *,
    refused: Callable[[PublicError, str], Response],
    failed: Callable[[str], Response],
) -> Response:
    """Answer `request` with `run`, or with `refused(error, request id)` for a public error
    and `failed(request id)` for anything else (logged in full, shown to nobody)."""
    rid, started = request_id(request), utcnow()
    party = Party()
    async with services.sessions() as session:
        try:
            principal = await services.authenticate(session, request)
            party = principal.party
            response = await run(session, principal)
        except PublicError as error:
            if isinstance(error, ConsentRefused):
                party = error.party
            trail.codes.append(error.code)
            response = refused(error, rid)
        except Exception:
            log.exception("request %s: unexpected error", rid)
            trail.codes.append(ErrorCode.INTERNAL_SERVER_ERROR)
            response = failed(rid)
        if trail.rate_limit is not None:
            response.headers.update(trail.rate_limit.headers())
        written = await write_audit(
            services.sessions, request, party, trail, at=started, session=session
        )
    return response if written else failed(rid)
