"""The bank's own approval pages: the customer grants a consent request at the bank.

The application sends the customer to `/bank/consent?consent_request_id=...&redirect_uri=...`
(`state` optional, echoed back). The customer logs in with their bank password here (the
application never sees it), reviews the accounts and validity, approves or refuses, and
answers the SMS challenge; then the bank redirects to `redirect_uri` with
`consent_request_id`, `status` (ACCEPTED or REJECTED) and `state`. The redirect URI must be
one the consumer registered (SandboxConfig.redirect_uris); an unknown one is never followed.

A page session lives in a cookie-named server-side record; every form carries its CSRF
token, and logging in issues a new session id (no fixation). Nothing typed here is logged.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from connectors.sandbox import approval_html, errors
from connectors.sandbox.bank import SandboxBank
from connectors.sandbox.errors import ObpError
from connectors.sandbox.web import bank_of

COOKIE = "alif_bank_session"
SESSION_TTL = timedelta(minutes=10)
_MAX_FORM_BYTES = 4096
_LOOPBACK = ("127.0.0.1", "localhost", "::1")
# Why the bank cannot go on, in the customer's words (by OBP error prefix).
_REASONS = {
    errors.CONSENT_DOES_NOT_MATCH_USER[:9]: "This request is addressed to another customer.",
    errors.VIEWS_IN_CONSENT[:9]: "The application asks for accounts that are not yours.",
    errors.CONSENT_REQUEST_INVALID[:9]: "This request was already answered.",
    errors.CONSENT_MAX_TTL[:9]: "The application asks for access for too long.",
}


@dataclass
class PageSession:
    csrf: str
    consent_request_id: str
    redirect_uri: str
    state: str | None
    expires_at: datetime
    username: str | None = None
    consent_id: str | None = None


class ApprovalSessions:
    """Page sessions by id; one expires SESSION_TTL after it was opened."""

    def __init__(self) -> None:
        self._by_id: dict[str, PageSession] = {}

    def open(self, session: PageSession) -> str:
        session_id = secrets.token_urlsafe(32)
        self._by_id[session_id] = session
        return session_id

    def renew(self, session_id: str) -> str:
        """A new id for the same session (after login), the old id forgotten."""
        return self.open(self._by_id.pop(session_id))

    def find(self, session_id: str, now: datetime) -> PageSession | None:
        session = self._by_id.get(session_id)
        if session is not None and now >= session.expires_at:
            del self._by_id[session_id]
            return None
        return session

    def close(self, session_id: str) -> None:
        self._by_id.pop(session_id, None)


def redirect_allowed(uri: str, registered: tuple[str, ...]) -> bool:
    """Exact match, except that a loopback http URI may use any port (RFC 8252 §7.3)."""
    if uri in registered:
        return True
    try:
        asked = urlsplit(uri)
        port_free = asked.hostname in _LOOPBACK and asked.scheme == "http" and asked.port
    except ValueError:
        return False
    if not port_free:
        return False
    for candidate in registered:
        known = urlsplit(candidate)
        if (known.scheme, known.hostname, known.path, known.query) == (
            asked.scheme,
            asked.hostname,
            asked.path,
            asked.query,
        ):
            return True
    return False


def outcome_url(session: PageSession, status: str) -> str:
    query = {"consent_request_id": session.consent_request_id, "status": status}
    if session.state is not None:
        query["state"] = session.state
    joiner = "&" if urlsplit(session.redirect_uri).query else "?"
    return f"{session.redirect_uri}{joiner}{urlencode(query)}"


def _sessions(request: Request) -> ApprovalSessions:
    sessions: ApprovalSessions = request.app.state.approvals
    return sessions


def _with_cookie(response: Response, session_id: str) -> Response:
    response.set_cookie(
        COOKIE,
        session_id,
        max_age=int(SESSION_TTL.total_seconds()),
        path="/bank",
        httponly=True,
        samesite="lax",
    )
    return response


def _expired() -> Response:
    return approval_html.ended(
        "Page expired",
        "This page has expired or was not opened from the bank. "
        "Return to the application and start again.",
        None,
        403,
    )


async def _form(request: Request) -> dict[str, str]:
    raw = await request.body()
    if len(raw) > _MAX_FORM_BYTES:
        return {}
    parsed = parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True)
    return {key: values[0] for key, values in parsed.items()}


async def _checked(request: Request) -> tuple[str, PageSession, dict[str, str]] | None:
    """The page session and the form, if the cookie and the form's CSRF token agree."""
    session_id = request.cookies.get(COOKIE, "")
    session = _sessions(request).find(session_id, bank_of(request).now())
    form = await _form(request)
    token = form.get("csrf_token", "")
    if session is None or not secrets.compare_digest(token.encode(), session.csrf.encode()):
        return None
    return session_id, session, form


def _cannot_continue(exc: ObpError) -> Response:
    reason = _REASONS.get(exc.message[:9], exc.message)
    return approval_html.ended("Cannot continue", reason, None, 400)


async def start(request: Request) -> Response:
    bank = bank_of(request)
    query = request.query_params
    redirect_uri = query.get("redirect_uri", "")
    if not redirect_allowed(redirect_uri, bank.config.redirect_uris):
        message = "The application sent you here with a return address the bank does not know."
        return approval_html.ended("Unknown application address", message, None, 400)
    try:
        consent_request = bank.consent_request(query.get("consent_request_id", ""))
    except ObpError:
        message = "The bank has no such request. Return to the application and start again."
        return approval_html.ended("Unknown request", message, None, 404)
    if consent_request.consent_id is not None:
        message = "This request was already answered."
        return approval_html.ended("Cannot continue", message, None, 400)
    session = PageSession(
        csrf=secrets.token_urlsafe(32),
        consent_request_id=consent_request.consent_request_id,
        redirect_uri=redirect_uri,
        state=query.get("state"),
        expires_at=bank.now() + SESSION_TTL,
    )
    return _with_cookie(approval_html.login(session.csrf), _sessions(request).open(session))


def _review(bank: SandboxBank, session: PageSession, username: str) -> Response:
    consent_request = bank.consent_request(session.consent_request_id)
    user = bank.customer(username)
    accounts = bank.requested_accounts(consent_request, user)
    access = consent_request.access
    start = access.valid_from or bank.now().replace(microsecond=0)
    ttl = access.time_to_live or bank.config.consent_max_ttl_seconds
    return approval_html.review(
        session.csrf,
        consent_request.consumer_id,
        accounts,
        access.everything,
        start,
        start + timedelta(seconds=ttl),
    )


async def log_in(request: Request) -> Response:
    checked = await _checked(request)
    if checked is None:
        return _expired()
    session_id, session, form = checked
    bank = bank_of(request)
    user = bank.check_password(form.get("username", ""), form.get("password", ""))
    if user is None:
        return approval_html.login(session.csrf, "Wrong username or password.", 401)
    session.username = user.username
    new_id = _sessions(request).renew(session_id)
    try:
        return _with_cookie(_review(bank, session, user.username), new_id)
    except ObpError as exc:
        return _cannot_continue(exc)


async def decide(request: Request) -> Response:
    checked = await _checked(request)
    username = checked[1].username if checked else None
    if checked is None or username is None:
        return _expired()
    session_id, session, form = checked
    bank = bank_of(request)
    user = bank.customer(username)
    decision = form.get("decision")
    try:
        if decision not in ("approve", "refuse"):
            return _review(bank, session, username)
        consent_request = bank.consent_request(session.consent_request_id)
        consent = bank.consent_for_request(
            consent_request, user, "SMS", refused=decision == "refuse"
        )
    except ObpError as exc:
        return _cannot_continue(exc)
    if decision == "refuse":
        _sessions(request).close(session_id)
        return RedirectResponse(outcome_url(session, "REJECTED"), status_code=303)
    session.consent_id = consent.consent_id
    return approval_html.code(session.csrf, user.phone)


async def answer_code(request: Request) -> Response:
    checked = await _checked(request)
    consent_id = checked[1].consent_id if checked else None
    if checked is None or consent_id is None or checked[1].username is None:
        return _expired()
    session_id, session, form = checked
    bank = bank_of(request)
    user = bank.customer(checked[1].username)
    answer = form.get("code", "").strip()
    if not answer:
        return approval_html.code(session.csrf, user.phone, "Enter the code from the SMS.", 400)
    consent = bank.consent(consent_id)
    if consent is None:
        return _expired()
    try:
        consent = bank.answer_challenge(consent, answer)
    except ObpError as exc:
        return _cannot_continue(exc)
    _sessions(request).close(session_id)
    if consent.status == "ACCEPTED":
        return RedirectResponse(outcome_url(session, "ACCEPTED"), status_code=303)
    message = (
        "That code is wrong, so the bank rejected this consent; nothing was shared. "
        "Return to the application to start again."
    )
    return approval_html.ended("Wrong code", message, outcome_url(session, "REJECTED"), 400)


def approval_routes() -> list[Route]:
    return [
        Route("/bank/consent", start, methods=["GET"]),
        Route("/bank/consent/login", log_in, methods=["POST"]),
        Route("/bank/consent/decision", decide, methods=["POST"]),
        Route("/bank/consent/code", answer_code, methods=["POST"]),
    ]
