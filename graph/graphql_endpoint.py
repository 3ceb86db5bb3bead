"""POST/GET /graphql: authenticate, then hand the request to the schema.

The bearer token is checked (signature, expiry, consent) before GraphQL runs, so an
unauthenticated request gets a 401 without touching the schema. The GraphiQL page itself
needs no token; its requests carry one in the Authorization header like any other client.
"""

from __future__ import annotations

import orjson
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.types import Receive, Scope, Send
from strawberry.asgi import GraphQL
from strawberry.schema import BaseSchema

from graph.auth.principal import Principal
from graph.context import Context
from graph.errors import ErrorCode, Unauthenticated
from graph.services import Services, request_id


def unauthenticated(error: Unauthenticated) -> Response:
    body = {
        "errors": [{"message": error.message, "extensions": {"code": ErrorCode.UNAUTHENTICATED}}]
    }
    return JSONResponse(body, status_code=401, headers={"WWW-Authenticate": "Bearer"})


class GraphQLEndpoint(GraphQL[Context, None]):
    def __init__(self, schema: BaseSchema, services: Services) -> None:
        super().__init__(
            schema, graphql_ide=None if services.settings.is_production else "graphiql"
        )
        self.services = services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        if self.should_render_graphql_ide(self.request_adapter_class(request)):
            await self._ide_page()(scope, receive, send)
            return
        async with self.services.sessions() as session:
            try:
                principal = await self.services.authenticate(session, request)
            except Unauthenticated as error:
                await unauthenticated(error)(scope, receive, send)
                return
            request.state.graphql_auth = (principal, session)
            await super().__call__(scope, receive, send)

    def _ide_page(self) -> Response:
        if self.graphql_ide is None:
            return PlainTextResponse("Not Found", status_code=404)
        return HTMLResponse(self.graphql_ide_html)

    async def get_context(self, request: Request, response: Response) -> Context:  # type: ignore[override]
        principal: Principal
        session: AsyncSession
        principal, session = request.state.graphql_auth
        return Context(
            request_id=request_id(request),
            settings=self.services.settings,
            principal=principal,
            session=session,
            bank=self.services.bank,
        )

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)
