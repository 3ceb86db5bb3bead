"""POST/GET /graphql: authenticate, run the operation, record it, answer.

The bearer token is checked (signature, expiry, consent) before GraphQL runs, so an
unauthenticated request gets a 401 without touching the schema. Every request that gets
that far leaves one audit row, allowed or not, written before its answer is sent. The
GraphiQL page itself needs no token; its requests carry one in the Authorization header
like any other client. The page and its assets (React, GraphiQL) come from the package
(graph/server/static/graphiql/), not a CDN, so it works offline; `#token=...` in its URL
fills the header in (the demo prints such a link; a fragment never reaches the server).

In production only JSON POSTs are served: a GET puts the query in URLs (logs, caches) and,
like a form post, can be sent cross-site without a CORS preflight.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
from cross_web import HTTPException
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLRequestData
from strawberry.schema import BaseSchema
from strawberry.types import ExecutionResult

from graph.audit.trail import Trail
from graph.auth.principal import Principal
from graph.context import Context
from graph.core.errors import INTERNAL_MESSAGE, ErrorCode, PublicError, Unauthenticated
from graph.server import documents
from graph.server.pipeline import handle
from graph.server.services import Services, base_url, request_id

GRAPHIQL_ASSETS = Path(__file__).parent / "static" / "graphiql"
# index.html links its assets as `static/graphiql/...`: from /graphql, this path.
GRAPHIQL_ASSETS_PATH = "/static/graphiql"


def unreadable(reason: str, status_code: int = 400) -> Response:
    """A request GraphQL could not even read (not JSON, not an object, no query): answered
    in the shape of any GraphQL error, so a client has one format to handle."""
    body = {"errors": [{"message": reason, "extensions": {"code": ErrorCode.BAD_USER_INPUT}}]}
    return Response(json_bytes(body), status_code, media_type="application/json")


def json_bytes(data: object) -> bytes:
    try:
        return orjson.dumps(data)
    except orjson.JSONEncodeError:
        # A lone surrogate the request sent, quoted back in an error message: orjson will
        # not write it, JSON can, as an escape.
        return json.dumps(data, separators=(",", ":")).encode()


def public_error(error: PublicError, rid: str) -> Response:
    """A request refused before GraphQL ran: only authentication can do that."""
    body = {"errors": [{"message": error.message, "extensions": {"code": error.code}}]}
    if isinstance(error, Unauthenticated):
        return JSONResponse(body, status_code=401, headers={"WWW-Authenticate": error.challenge})
    return JSONResponse(body, status_code=400)


def internal_error(rid: str) -> Response:
    extensions = {"code": ErrorCode.INTERNAL_SERVER_ERROR, "requestId": rid}
    return JSONResponse(
        {"errors": [{"message": INTERNAL_MESSAGE, "extensions": extensions}]}, status_code=500
    )


class GraphQLEndpoint(GraphQL[Context, None]):
    def __init__(self, schema: BaseSchema, services: Services) -> None:
        super().__init__(
            schema, graphql_ide=None if services.settings.is_production else "graphiql"
        )
        self.services = services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        if self.should_render_graphql_ide(self.request_adapter_class(request)):
            response = self._ide_page()
        else:
            response = self._transport_refusal(request) or await self._answer(request)
        await response(scope, receive, send)

    @property
    def graphql_ide_html(self) -> str:
        return (GRAPHIQL_ASSETS / "index.html").read_text(encoding="utf-8")

    def ide_routes(self) -> list[BaseRoute]:
        """The page's assets, served where GraphiQL is (development only)."""
        if self.graphql_ide is None:
            return []
        return [Mount(GRAPHIQL_ASSETS_PATH, StaticFiles(directory=GRAPHIQL_ASSETS))]

    def _ide_page(self) -> Response:
        if self.graphql_ide is None:
            return PlainTextResponse("Not Found", status_code=404)
        return HTMLResponse(self.graphql_ide_html)

    def _transport_refusal(self, request: Request) -> Response | None:
        if not self.services.settings.is_production:
            return None
        if request.method != "POST":
            return PlainTextResponse(
                "Method Not Allowed: POST a JSON body.", status_code=405, headers={"Allow": "POST"}
            )
        media_type = request.headers.get("content-type", "").partition(";")[0]
        if media_type.strip().lower() != "application/json":
            return PlainTextResponse("Send the request as application/json.", status_code=415)
        return None

    async def _answer(self, request: Request) -> Response:
        trail = Trail()

        async def run(session: AsyncSession, principal: Principal) -> Response:
            context = Context(
                request_id=request_id(request),
                settings=self.services.settings,
                principal=principal,
                session=session,
                bank=self.services.bank,
                trail=trail,
                keys=self.services.keys,
                base_url=base_url(self.services.settings, request),
            )
            return await self._execute(request, context)

        return await handle(
            self.services, request, trail, run, refused=public_error, failed=internal_error
        )

    async def _execute(self, request: Request, context: Context) -> Response:
        try:
            response = await self.run(request, context=context)
        except HTTPException as error:  # unreadable: not JSON, no query, a mutation by GET
            context.trail.codes.append(ErrorCode.BAD_USER_INPUT)
            response = unreadable(error.reason, error.status_code)
        if context.trail.rate_limit is None:
            # Refused before its cost was known (unreadable, too long, invalid): it still
            # costs the least a request costs, or refusals would be free to repeat.
            await self.services.limits.admit(context, 1)
        decision = context.trail.rate_limit
        # Too costly is answered as BAD_USER_INPUT: waiting would not help.
        if decision is not None and not decision.allowed and not decision.too_costly:
            response.status_code = 429
        return response

    async def execute_single(
        self,
        request: Request,
        request_adapter: Any,
        sub_response: Any,
        context: Context,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        """Runs the document a trusted-document id names (graph.server.documents)."""
        request_data = await documents.resolve(request, request_data, context)
        return await super().execute_single(
            request, request_adapter, sub_response, context, root_value, request_data
        )

    def parse_json(self, data: str | bytes) -> Any:
        parsed = super().parse_json(data)
        # Strawberry would take a list for a batch and fail on any other non-object.
        if not isinstance(parsed, dict):
            raise HTTPException(400, "The request body must be a JSON object with a `query`.")
        return parsed

    def encode_json(self, data: object) -> bytes:
        return json_bytes(data)
