"""The ASGI application: GraphQL, the seed-compatible REST endpoints, health checks.

`uvicorn --factory graph.server.app:create_app` (or `alif-graph serve`) runs it.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from connectors.bank_access import BankAccess
from graph.auth.routes import auth_routes
from graph.auth.runtime import AuthConfig
from graph.bank_tls import bank_tls
from graph.exports.links import DOWNLOAD_PATH
from graph.limits.requests import RequestLimits
from graph.schema import build_schema
from graph.server.body_limit import BodyLimit
from graph.server.graphql import GraphQLEndpoint
from graph.server.rest.exports import download, statement_file
from graph.server.rest.openapi import openapi_document
from graph.server.rest.routes import account_statement, endpoint, list_transactions
from graph.server.secrets import server_keys
from graph.server.services import Services
from graph.settings import Settings, get_settings
from ledger import migrate
from ledger.db import create_engine, session_factory
from ledger.roles import refuse_erasing_role

_CLIENT_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestIdMiddleware:
    """Gives every request an id (the client's X-Request-ID if it is sane), echoed in the
    response; logs and masked errors quote it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = Headers(scope=scope).get("x-request-id")
        rid = given if given and _CLIENT_REQUEST_ID.match(given) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = rid

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).append("x-request-id", rid)
            await send(message)

        await self.app(scope, receive, send_with_id)


def cors(settings: Settings) -> list[Middleware]:
    """Cross-origin calls from the allowed browser origins only. Tokens travel in the
    Authorization header, never in cookies, so credentials are not allowed."""
    if not settings.cors_origins:
        return []
    return [
        Middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["POST"] if settings.is_production else ["GET", "POST"],
            allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
            expose_headers=[
                "X-Request-ID",
                "Retry-After",
                "X-RateLimit-Limit",
                "X-RateLimit-Remaining",
            ],
            max_age=600,
        )
    ]


def trusted_proxies(settings: Settings) -> list[Middleware]:
    """X-Forwarded-For and X-Forwarded-Proto taken from the configured proxies only (uvicorn's
    middleware: the client is the nearest address in the chain that is not a trusted
    proxy). Outermost, so every other part sees the client. `alif-graph serve` turns
    uvicorn's own handling off: it would trust 127.0.0.1 whatever the settings say."""
    if not settings.trusted_proxies:
        return []
    return [Middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)]


async def check_database_role(settings: Settings, engine: AsyncEngine | None = None) -> None:
    """In production, raise ledger.roles.RoleError when the database URL's role could erase
    the audit trail (the owner, a superuser): the API and the sync refuse to start so.
    Development and SQLite are not checked."""
    postgres = make_url(settings.database_url).get_backend_name() == "postgresql"
    if not settings.is_production or not postgres:
        return  # SQLite has no roles: nothing to connect for
    if engine is not None:
        await refuse_erasing_role(engine)
        return
    own = create_engine(settings.database_url)
    try:
        await refuse_erasing_role(own)
    finally:
        await own.dispose()


def _unready(reason: str) -> Response:
    return JSONResponse({"status": "unavailable", "reason": reason}, status_code=503)


def create_app(
    settings: Settings | None = None,
    engine: AsyncEngine | None = None,
    auth: AuthConfig | None = None,
) -> Starlette:
    """`auth` replaces parts of the consent flow (code sender, clock, bank transport)."""
    settings = settings or get_settings()
    owns_engine = engine is None
    engine = engine or create_engine(settings.database_url)
    keys = server_keys(settings)
    services = Services(
        settings=settings,
        engine=engine,
        sessions=session_factory(engine),
        keys=keys,
        bank=BankAccess(keys, auth.bank_transport if auth else None, bank_tls(settings)),
        limits=RequestLimits.from_settings(settings),
    )
    graphql = GraphQLEndpoint(build_schema(settings, services.limits.admit), services)
    openapi = openapi_document(settings.max_page_size)

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(request: Request) -> Response:
        """Ready when the database answers and is at the latest migration (a database
        without tables answers SELECT 1 too); else 503 with the reason, naming no host."""
        try:
            state = await migrate.schema_state(engine)
        except Exception:  # any failure to reach the database means "not ready"
            return _unready("the database cannot be reached")
        if not state.at_head:
            where = "has no tables" if not state.current else "is behind the latest migration"
            return _unready(f"the database {where}; run `alif-graph db upgrade`")
        return JSONResponse({"status": "ready"})

    async def openapi_json(request: Request) -> Response:
        return JSONResponse(openapi)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # `alif-graph serve` has said so in one line already; this covers other launchers.
        await check_database_role(settings, engine)
        yield
        await services.limits.aclose()
        if owns_engine:
            await engine.dispose()

    routes = [
        Route("/graphql", graphql, methods=["GET", "POST"]),
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/api/v1/openapi.json", openapi_json),
        Route("/api/v1/alif/transactions", endpoint(services, list_transactions)),
        Route(
            "/api/v1/alif/accounts/{account_id}/statement",
            endpoint(services, account_statement),
        ),
        Route(
            "/api/v1/alif/accounts/{account_id}/statement.{extension}",
            endpoint(services, statement_file),
        ),
        Route(DOWNLOAD_PATH + "{token}", download(services)),
        *auth_routes(services, auth),
        *graphql.ide_routes(),
    ]
    middleware = [
        *trusted_proxies(settings),
        Middleware(RequestIdMiddleware),
        *cors(settings),
        Middleware(
            BodyLimit,
            max_bytes=settings.max_request_body_bytes,
            limits=services.limits,
            keys=keys,
        ),
    ]
    return Starlette(routes=routes, middleware=middleware, lifespan=lifespan)
