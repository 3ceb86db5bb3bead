"""Reading request bodies strictly: size-capped, and every field kept with all its values.

Keeping repeated fields visible is what stops "many codes in one request": a handler asks
for exactly one value and treats anything else as a failed attempt or a bad request.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

import orjson
from starlette.requests import Request

MAX_BODY_BYTES = 16 * 1024
MAX_FIELDS = 64

Params = dict[str, list[str]]


class BadBody(Exception):
    """Not a body this endpoint reads (type, size, encoding or shape)."""


async def _body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY_BYTES):
        raise BadBody("body too large")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise BadBody("body too large")
        chunks.append(chunk)
    return b"".join(chunks)


def media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


async def read_params(request: Request, *, allow_json: bool = False) -> Params:
    """Form-encoded fields (RFC 6749's encoding), or a flat JSON object of strings."""
    kind = media_type(request)
    if kind == "application/x-www-form-urlencoded":
        body = await _body(request)
        try:
            pairs = parse_qsl(
                body.decode("utf-8"),
                keep_blank_values=True,
                strict_parsing=False,
                max_num_fields=MAX_FIELDS,
            )
        except (UnicodeDecodeError, ValueError):
            raise BadBody("not a valid form") from None
        params: Params = {}
        for key, value in pairs:
            params.setdefault(key, []).append(value)
        return params
    if allow_json and kind == "application/json":
        try:
            data = orjson.loads(await _body(request))
        except orjson.JSONDecodeError:
            raise BadBody("not valid JSON") from None
        if not isinstance(data, dict) or len(data) > MAX_FIELDS:
            raise BadBody("a JSON body is one flat object")
        if not all(isinstance(v, str) for v in data.values()):
            raise BadBody("every JSON value is a string")
        return {k: [v] for k, v in data.items()}
    raise BadBody(f"unsupported content type {kind!r}")


def single(params: Params, name: str) -> str | None:
    """The field's value if it was sent exactly once, else None."""
    values = params.get(name, [])
    return values[0] if len(values) == 1 else None


def repeated(params: Params) -> list[str]:
    return sorted(k for k, v in params.items() if len(v) > 1)
