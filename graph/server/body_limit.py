"""Size before work: a request body over the limit is refused with 413 before it is read.

A declared Content-Length over the limit is refused without reading a byte; a body without
one (chunked) is read only up to the limit, and refused the moment it passes it. Either way
the refusal is charged to the caller, from the headers alone: to the consent of a genuine
bearer token (verified, not looked up: no database work for a flood), otherwise to the
address's failed-authentication bucket. It costs as much as the largest accepted body, one
token per KiB (docs/rate-limits.md). Refusals leave no audit row: writing one per refused
request would make the flood the database's problem.
"""

from __future__ import annotations

import orjson
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from connectors.keys import Keyring
from graph.auth.oauth import tokens
from graph.auth.principal import bearer_token
from graph.core.errors import ErrorCode, PublicError
from graph.limits.requests import RequestLimits
from graph.server.services import client_ip
from ledger.types import utcnow


class BodyLimit:
    def __init__(self, app: ASGIApp, *, max_bytes: int, limits: RequestLimits, keys: Keyring):
        self.app = app
        self.max_bytes = max_bytes
        self.limits = limits
        self.keys = keys

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        if declared is not None:
            if not declared.isdigit():
                await self._refuse(scope, send, 400, "The Content-Length header is not a number.")
            elif int(declared) > self.max_bytes:
                await self._refuse(scope, send, 413, self._too_large)
            else:
                # The server holds the body to its declared length.
                await self.app(scope, receive, send)
            return
        body, whole = await self._read_up_to_limit(receive)
        if not whole:
            await self._refuse(scope, send, 413, self._too_large)
            return
        await self.app(scope, _replay(body, receive), send)

    @property
    def _too_large(self) -> str:
        return f"The request body is larger than {self.max_bytes} bytes."

    async def _read_up_to_limit(self, receive: Receive) -> tuple[bytes, bool]:
        """The body, and whether it is whole (False: it passed the limit, reading stopped)."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return b"", True  # the client left; the app sees an empty body
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                return b"", False
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks), True

    async def _refuse(self, scope: Scope, send: Send, status: int, reason: str) -> None:
        headers = [(b"content-type", b"application/json"), (b"connection", b"close")]
        decision = await self.limits.charge_unread(
            self._consent(Headers(scope=scope).get("authorization")),
            client_ip(Request(scope)) or "unknown",
            self.max_bytes // 1024,
        )
        if decision is not None:
            headers += [(k.lower().encode(), v.encode()) for k, v in decision.headers().items()]
        error = {"message": reason, "extensions": {"code": ErrorCode.BAD_USER_INPUT}}
        body = orjson.dumps({"errors": [error]})
        headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def _consent(self, authorization: str | None) -> int | None:
        try:
            token = bearer_token(authorization)
            return tokens.verify_access_token(self.keys, token, now=utcnow()).consent_id
        except (PublicError, tokens.InvalidToken):
            return None


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive that hands the app the body already read, then the client's own messages
    (a disconnect)."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed
