"""POST /auth/token and POST /auth/revoke (RFC 6749, 7636, 7009).

Bodies may be form-encoded (RFC 6749) or a flat JSON object. A parameter sent twice is an
invalid_request (RFC 6749 3.2). Clients authenticate with client_secret_basic or
client_secret_post, never both. Requests are rate limited per address before anything
else and per client before the (deliberately slow) secret check. Refusals are raised as
OAuth errors (errors.py), which carry only the RFC 6749 code to the client.
"""

from __future__ import annotations

import base64
import binascii
import logging
from datetime import datetime, timedelta
from urllib.parse import unquote

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from graph.auth import forms
from graph.auth.oauth import clients, grants
from graph.auth.oauth.errors import (
    NO_STORE,
    InvalidClient,
    InvalidRequest,
    InvalidScope,
    RateLimited,
    UnsupportedGrantType,
    answers_oauth_errors,
)
from graph.auth.runtime import Auth, ip_key
from graph.auth.scopes import parse_scopes
from graph.limits.buckets import RateLimiter, client_key
from ledger.clients import RegisteredClient

log = logging.getLogger("graph.auth.oauth.endpoints")


def _basic_credentials(header: str | None) -> tuple[str, str] | None:
    """`Authorization: Basic base64(urlencode(id):urlencode(secret))` (RFC 6749 2.3.1)."""
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return ("", "")
    client_id, sep, secret = decoded.partition(":")
    return (unquote(client_id), unquote(secret)) if sep else ("", "")


class OAuthEndpoints:
    def __init__(self, auth: Auth) -> None:
        self.auth = auth

    async def _client(self, request: Request, params: forms.Params) -> RegisteredClient:
        """The client that authenticated the request."""
        basic = _basic_credentials(request.headers.get("authorization"))
        posted_id, posted_secret = (
            forms.single(params, "client_id"),
            forms.single(params, "client_secret"),
        )
        if basic is not None and (posted_secret is not None or posted_id not in (None, basic[0])):
            raise InvalidRequest("two client authentication methods at once")
        client_id, secret = basic if basic is not None else (posted_id, posted_secret)
        if not client_id or not secret:
            raise InvalidClient("no client credentials")
        limits: list[tuple[RateLimiter, str]] = []
        if clients.CLIENT_ID_SHAPE.match(client_id):
            limits.append((self.auth.token_by_client, client_key(client_id)))
        if limits and (refused := await self.auth.limit(limits)):
            raise RateLimited(refused)
        async with self.auth.sessions() as session:
            client = await clients.authenticate(session, client_id, secret)
        if client is None:
            log.info("token endpoint: client authentication failed")
            raise InvalidClient("client authentication failed")
        return client

    async def _params(self, request: Request) -> forms.Params:
        if refused := await self.auth.limit([(self.auth.token_by_ip, ip_key(request))]):
            raise RateLimited(refused)
        try:
            params = await forms.read_params(request, allow_json=True)
        except forms.BadBody as exc:
            raise InvalidRequest(str(exc)) from None
        if forms.repeated(params):
            raise InvalidRequest("a parameter sent more than once")
        return params

    async def _posted(self, request: Request) -> tuple[forms.Params, RegisteredClient]:
        """The parameters of a POST and the client that authenticated it."""
        params = await self._params(request)
        return params, await self._client(request, params)

    @answers_oauth_errors
    async def token(self, request: Request) -> Response:
        params, client = await self._posted(request)
        grant_type = forms.single(params, "grant_type")
        if grant_type is None:
            raise InvalidRequest("no grant_type")
        if grant_type not in ("authorization_code", "refresh_token"):
            raise UnsupportedGrantType(grant_type)
        now = self.auth.clock()
        ttl = timedelta(seconds=self.auth.settings.access_token_ttl_seconds)
        async with self.auth.sessions.begin() as session:
            if grant_type == "authorization_code":
                result = await self._exchange_code(session, params, client, now, ttl)
            else:
                result = await self._refresh(session, params, client, now, ttl)
            await self._audit(session, request, client, grant_type, result)
        if isinstance(result, grants.Refused):
            log.info("token refused for %s: %s", client.client_id, result.reason)
            raise result.error(result.reason)
        return JSONResponse(result.body(), headers=NO_STORE)

    async def _exchange_code(
        self,
        session: AsyncSession,
        params: forms.Params,
        client: RegisteredClient,
        now: datetime,
        ttl: timedelta,
    ) -> grants.Issued | grants.Refused:
        code = forms.single(params, "code")
        redirect_uri = forms.single(params, "redirect_uri")
        verifier = forms.single(params, "code_verifier")
        if not code or not redirect_uri or not verifier:
            raise InvalidRequest("code, redirect_uri and code_verifier are required")
        return await grants.exchange_code(
            session,
            client_pk=client.id,
            code=code,
            redirect_uri=redirect_uri,
            verifier=verifier,
            keys=self.auth.keys,
            now=now,
            access_ttl=ttl,
        )

    async def _refresh(
        self,
        session: AsyncSession,
        params: forms.Params,
        client: RegisteredClient,
        now: datetime,
        ttl: timedelta,
    ) -> grants.Issued | grants.Refused:
        refresh_token = forms.single(params, "refresh_token")
        if not refresh_token:
            raise InvalidRequest("refresh_token is required")
        try:
            scope_text = forms.single(params, "scope")
            scope = parse_scopes(scope_text) if scope_text is not None else None
        except ValueError as exc:
            raise InvalidScope(str(exc)) from None
        return await grants.refresh(
            session,
            client_pk=client.id,
            refresh_token=refresh_token,
            scope=scope,
            keys=self.auth.keys,
            now=now,
            access_ttl=ttl,
        )

    async def _audit(
        self,
        session: AsyncSession,
        request: Request,
        client: RegisteredClient,
        grant_type: str,
        result: grants.Issued | grants.Refused,
    ) -> None:
        if isinstance(result, grants.Refused):
            outcome, user_id, scopes = "denied", None, []
        else:
            outcome, user_id, scopes = "ok", result.user_id, result.scope.split()
        await self.auth.audit(
            session,
            request,
            f"auth.token.{grant_type}",
            outcome,
            client_id=client.client_id,
            user_id=user_id,
            consent_id=result.consent_id,
            scopes=scopes,
        )
        if isinstance(result, grants.Refused) and result.revoked_grant:
            await self.auth.audit(
                session,
                request,
                "auth.grant.revoke",
                "ok",
                client_id=client.client_id,
                consent_id=result.consent_id,
            )

    @answers_oauth_errors
    async def revoke(self, request: Request) -> Response:
        params, client = await self._posted(request)
        token = forms.single(params, "token")
        if not token:
            raise InvalidRequest("token is required")
        async with self.auth.sessions.begin() as session:
            grant_id = await grants.revoke_token(
                session,
                client_pk=client.id,
                token=token,
                keys=self.auth.keys,
                now=self.auth.clock(),
            )
            if grant_id is not None:
                await self.auth.audit(
                    session, request, "auth.grant.revoke", "ok", client_id=client.client_id
                )
        # RFC 7009 2.2: an unknown or foreign token is answered like a revoked one.
        return Response(status_code=200, headers=NO_STORE)
