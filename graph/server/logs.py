"""Log lines without secrets, and the logging configuration uvicorn is started with.

A token, code or password sent in a query string (`/graphql?access_token=...`) is refused,
but uvicorn's access log would still write it down, valid, where operators and log
pipelines read it. `ScrubSecrets` rewrites every record that reaches a configured handler
(uvicorn's access and error lines, and the application's, which propagate to the root):
the value of every `name=value` pair whose name looks like a credential becomes
`[redacted]`, and so do a bearer token and a statement download link's token (the last
segment of its path, `graph.exports.links.DOWNLOAD_PATH`: valid for minutes, it fetches a
customer's statement without any other credential).

`state` is kept: it is the client's CSRF nonce, worthless without the browser session it
is bound to, and the one value that ties the lines of an authorization flow together.
"""

from __future__ import annotations

import copy
import logging
import re
from typing import Any
from urllib.parse import unquote

from uvicorn.config import LOGGING_CONFIG

from graph.exports.links import DOWNLOAD_PATH

REDACTED = "[redacted]"
# Parts of a parameter name that make its value a credential: access_token, refresh_token,
# code, code_verifier, client_secret, password, api_key, consumer_key, otp, pin, ...
_SECRET_PARTS = ("token", "secret", "passw", "code", "key", "signature", "assertion", "credential")
_SECRET_WORDS = frozenset({"otp", "pin", "jwt", "sig"})
_PAIR = re.compile(r"(?P<name>[A-Za-z0-9_.%\-\[\]]+)=(?P<value>[^&\s#\"'<>;,]*)")
_BEARER = re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=\-]+")
_DOWNLOAD = re.compile(re.escape(DOWNLOAD_PATH) + r"[^/?#\s\"']+")


def secret_name(name: str) -> bool:
    name = unquote(name).lower()
    words = set(re.split(r"[^a-z0-9]+", name))
    return any(part in name for part in _SECRET_PARTS) or bool(words & _SECRET_WORDS)


def scrub(text: str) -> str:
    """`text` with the values of credential-like `name=value` pairs, bearer tokens and
    download-link tokens replaced by [redacted]."""

    def pair(match: re.Match[str]) -> str:
        if not match["value"] or not secret_name(match["name"]):
            return match[0]
        return f"{match['name']}={REDACTED}"

    text = _DOWNLOAD.sub(DOWNLOAD_PATH + REDACTED, text)
    return _BEARER.sub(rf"\1 {REDACTED}", _PAIR.sub(pair, text))


class ScrubSecrets(logging.Filter):
    """Scrubs a record's message and its traceback text. uvicorn's access formatter reads
    the access line's arguments one by one, so there the arguments are scrubbed (the path
    with its query string is one of them); elsewhere the formatted message is, since a
    secret's name may be in the format and its value in an argument."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "uvicorn.access" and isinstance(record.args, tuple):
            record.args = tuple(scrub(a) if isinstance(a, str) else a for a in record.args)
        else:
            try:
                message = record.getMessage()
            except (TypeError, ValueError):  # a broken format: logging reports it itself
                return True
            record.msg, record.args = scrub(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
        return True


def log_config() -> dict[str, Any]:
    """uvicorn's own logging configuration with `ScrubSecrets` on every handler, and the
    root logger (where the application's loggers end) writing warnings and worse through
    uvicorn's default handler, as Python's last-resort handler did."""
    config = copy.deepcopy(LOGGING_CONFIG)
    # By name, so the configuration is plain JSON (`uvicorn --log-config file.json`).
    config["filters"] = {"scrub_secrets": {"()": f"{__name__}.ScrubSecrets"}}
    for handler in config["handlers"].values():
        handler["filters"] = [*handler.get("filters", []), "scrub_secrets"]
    config["root"] = {"handlers": ["default"], "level": "WARNING"}
    return config
