"""Error codes, the errors whose message a client may see, and the mapping of every other
exception to a masked error.

A resolver raises a `PublicError` subclass for an expected failure. Anything else raised
during execution is a bug or an outage: the client gets "Internal error" with the request
id, and the log gets the full trace under the same id.
"""

from __future__ import annotations

import logging
import re
from enum import StrEnum
from typing import Any

from graphql import GraphQLError, GraphQLSyntaxError

log = logging.getLogger("graph.core.errors")


class ErrorCode(StrEnum):
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    NOT_FOUND = "NOT_FOUND"
    BAD_USER_INPUT = "BAD_USER_INPUT"
    RATE_LIMITED = "RATE_LIMITED"
    UPSTREAM_UNAVAILABLE = "UPSTREAM_UNAVAILABLE"
    INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"
    # Trusted documents (graph/server/documents.py); the names Apollo's clients know.
    PERSISTED_QUERY_NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
    PERSISTED_QUERY_REQUIRED = "PERSISTED_QUERY_REQUIRED"


class PublicError(Exception):
    """An expected failure; its message and extensions are safe to show to the client."""

    code: ErrorCode = ErrorCode.INTERNAL_SERVER_ERROR

    def __init__(self, message: str, **extensions: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extensions = extensions


class Unauthenticated(PublicError):
    """No usable credentials. `challenge` is the 401's WWW-Authenticate header (RFC 6750
    3): without an error code when the request carried no bearer token at all."""

    code = ErrorCode.UNAUTHENTICATED
    challenge = "Bearer"


class InvalidToken(Unauthenticated):
    """A bearer token was presented and refused: malformed, forged, expired, or naming a
    consent that may not be used (RFC 6750 3.1 invalid_token)."""

    challenge = 'Bearer error="invalid_token"'


class Forbidden(PublicError):
    code = ErrorCode.FORBIDDEN


class NotFound(PublicError):
    code = ErrorCode.NOT_FOUND


class BadUserInput(PublicError):
    code = ErrorCode.BAD_USER_INPUT


class RateLimited(PublicError):
    code = ErrorCode.RATE_LIMITED


class UpstreamUnavailable(PublicError):
    code = ErrorCode.UPSTREAM_UNAVAILABLE


INTERNAL_MESSAGE = "Internal error."
# What production says instead of a validation or variable error: their messages name the
# schema's types, fields and arguments ("Cannot query field 'x' on type 'Y'"), from which a
# scanner rebuilds the schema even with suggestions and introspection off.
INVALID_REQUEST_MESSAGE = (
    "The request is not valid against the schema; check it against the published schema."
)
# Extension key a validation rule sets on an error whose message names no part of the
# schema (a limit): production passes that message through. It never reaches the client.
PUBLIC_MESSAGE = "alif-graph.publicMessage"
# graphql-core ends messages about unknown fields, arguments, types and enum values with
# " Did you mean ...?": with introspection off, that would still map the schema.
_SUGGESTION = re.compile(r"\s*Did you mean .*$", re.DOTALL)


def is_request_error(error: GraphQLError) -> bool:
    """Syntax, validation and variable errors: found in the request itself before anything
    ran. They have no path, and either no original exception or (a value that failed its
    type's parser) the request's own node. A crash outside the resolvers has neither."""
    return not error.path and (error.original_error is None or bool(error.nodes))


def public_error(
    error: GraphQLError, request_id: str, *, private_schema: bool = False
) -> GraphQLError:
    """The version of `error` a client may see. With `private_schema` (production) a
    request error says nothing about the schema: no suggestion, and unless it is a syntax
    error (which quotes only the request) or a limit's, a generic message without locations
    (which would tell a scanner which of its guesses was wrong)."""
    original = error.original_error
    if isinstance(original, PublicError):
        return _with(error, original.message, {"code": original.code, **original.extensions})
    if is_request_error(error):
        extensions = {"code": ErrorCode.BAD_USER_INPUT}
        if not private_schema:
            return _with(error, error.message, extensions)
        if isinstance(error, GraphQLSyntaxError) or (error.extensions or {}).get(PUBLIC_MESSAGE):
            return _with(error, _SUGGESTION.sub("", error.message), extensions)
        return GraphQLError(INVALID_REQUEST_MESSAGE, extensions={"code": str(extensions["code"])})
    return _with(
        error,
        INTERNAL_MESSAGE,
        {"code": ErrorCode.INTERNAL_SERVER_ERROR, "requestId": request_id},
    )


def public_errors(
    errors: list[GraphQLError], request_id: str, *, private_schema: bool = False
) -> list[GraphQLError]:
    """The errors a client may see; with `private_schema`, the generic request errors once
    (how many there were would count a scanner's wrong guesses)."""
    shown = [public_error(e, request_id, private_schema=private_schema) for e in errors]
    kept = [e for e in shown if e.message != INVALID_REQUEST_MESSAGE]
    return kept + [e for e in shown if e.message == INVALID_REQUEST_MESSAGE][:1]


def _with(error: GraphQLError, message: str, extensions: dict[str, Any]) -> GraphQLError:
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions={k: str(v) if isinstance(v, StrEnum) else v for k, v in extensions.items()},
    )


def log_errors(errors: list[GraphQLError], request_id: str) -> None:
    """Expected errors briefly; anything else with its full trace, under the request id."""
    for error in errors:
        original = error.original_error
        if isinstance(original, PublicError) or is_request_error(error):
            log.info("request %s: %s", request_id, error.message)
        else:
            trace = (type(original), original, original.__traceback__) if original else None
            log.error("request %s: unexpected error: %s", request_id, error, exc_info=trace)
