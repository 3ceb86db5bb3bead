"""Statement files over REST.

    GET /api/v1/alif/accounts/{accountId}/statement.{camt053.xml|csv|ofx|beancount|1c.txt|pdf}
        ?from_date&to_date[&locale][&booked_only]     (bearer token, scope statements:read)
    GET /api/v1/exports/{link}                        (a link from GraphQL `statementExport`)

Both make the file into a temporary spool while taking its SHA-256, write the request's
audit row (account, format, period, digest) and only then send it, with its Content-Type,
Content-Disposition (attachment; the file's name) and Content-Length. Another customer's
account, or one outside the consent, answers exactly like a missing one and makes nothing.
A download link remakes the file it was issued for: the consent must still be usable and
cover the account, and the bytes must be the same (else: ask for a new link).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from graph.audit.requests import write_audit
from graph.audit.trail import Trail
from graph.auth.principal import Party
from graph.auth.scopes import STATEMENTS_READ
from graph.core.errors import BadUserInput, ErrorCode, NotFound, PublicError
from graph.core.inputs import check_period
from graph.core.locales import Locale
from graph.exports import links
from graph.exports.files import Spooled, detail, headers, spool
from graph.limits.cost import FIXED_COSTS
from graph.relay.ids import pk_of, to_global_id
from graph.server.rest.routes import Call, _date, _error_response, _internal_error, _readable
from graph.server.services import Services, request_id
from ledger import consents
from ledger.exports import BY_EXTENSION, Export, ExportTooLarge, open_export
from ledger.queries import visible_account_ids
from ledger.types import utcnow

log = logging.getLogger("graph.server")

# A file costs as much of the rate limit as GraphQL's statementExport: exports are heavy.
EXPORT_COST = FIXED_COSTS["statementExport"]
_MISSING_LINK = "This download link is invalid or has expired; ask for a new one."


def _booked_only(request: Request) -> bool:
    text = request.query_params.get("booked_only", "true").lower()
    if text not in ("true", "false"):
        raise BadUserInput("`booked_only` is true or false.")
    return text == "true"


def _locale(request: Request, default: str) -> str:
    text = request.query_params.get("locale")
    if text is None:
        return Locale.of(default).value
    if text not in {loc.value for loc in Locale}:
        raise BadUserInput("`locale` is one of ru, tg, uz, en.")
    return text


async def statement_file(call: Call) -> Response:
    await call.charge(EXPORT_COST)
    call.require(STATEMENTS_READ)
    request = call.request
    fmt = BY_EXTENSION.get(request.path_params["extension"])
    if fmt is None:
        raise NotFound(f"No statement format .{request.path_params['extension'][:20]}.")
    account_pk = pk_of(request.path_params["account_id"], "Account")
    date_from = _date(request, "from_date", required=True)
    date_to = _date(request, "to_date", required=True)
    assert date_from is not None and date_to is not None
    check_period(date_from, date_to)
    locale = _locale(request, call.principal.locale)
    booked_only = _booked_only(request)
    global_id = to_global_id("Account", account_pk)
    if account_pk not in _readable(call):
        call.trail.refuse(global_id)
        raise NotFound("No account with this ID.")
    try:
        export = await open_export(
            call.session, account_pk, date_from, date_to, fmt,
            created_at=utcnow().replace(microsecond=0), locale=locale, booked_only=booked_only,
        )  # fmt: skip
    except ExportTooLarge as exc:
        raise BadUserInput(str(exc)) from None
    assert export is not None  # readable, so it exists
    spooled = await spool(export)
    call.trail.ids.append(global_id)
    call.trail.detail = detail(export, spooled.written.sha256)
    return StreamingResponse(spooled.chunks(), headers=headers(export, spooled.written))


def download(services: Services) -> Callable[[Request], Awaitable[Response]]:
    """The download route of `statementExport`'s links: no bearer token, the link is the
    authority; one audit row per download, as the customer and consent the link names."""

    async def serve(request: Request) -> Response:
        trail = Trail(operation="rest.export_download")
        rid, started = request_id(request), utcnow()
        party, spooled = Party(), None
        response: Response
        try:
            link = links.verify(services.keys, request.path_params["token"], now=started)
            if link is None:
                raise NotFound(_MISSING_LINK)
            party = Party(link.user_id, link.consent_id)
            spooled, export = await _remake(services, link, trail)
            response = StreamingResponse(spooled.chunks(), headers=headers(export, spooled.written))
        except PublicError as error:
            trail.codes.append(error.code)
            response = _error_response(error, rid)
        except Exception:
            log.exception("request %s: unexpected error", rid)
            trail.codes.append(ErrorCode.INTERNAL_SERVER_ERROR)
            response = _internal_error(rid)
        if not await write_audit(services.sessions, request, party, trail, at=started):
            if spooled is not None:
                spooled.file.close()
            return _internal_error(rid)
        return response

    return serve


async def _remake(
    services: Services, link: links.ExportLink, trail: Trail
) -> tuple[Spooled, Export]:
    global_id = to_global_id("Account", link.account_id)
    now = utcnow()
    async with services.sessions() as session:
        consent = await consents.load(session, link.consent_id)
        readable: list[int] = []
        if (
            consent is not None
            and consent.usable(now)
            and consent.user_id == link.user_id
            and STATEMENTS_READ in consent.scopes
        ):
            limited = sorted(consent.account_ids) or None
            readable = await visible_account_ids(session, link.user_id, limited)
        if link.account_id not in readable:
            trail.refuse(global_id)
            raise NotFound(_MISSING_LINK)
        date_from, date_to = link.period
        export = await open_export(
            session, link.account_id, date_from, date_to, link.export_format,
            created_at=link.created, locale=link.locale, booked_only=link.booked_only,
        )  # fmt: skip
        assert export is not None
        spooled = await spool(export)
    if spooled.written.sha256 != link.sha256:
        spooled.file.close()
        raise NotFound("The statement has changed since this link was made; ask for a new one.")
    trail.ids.append(global_id)
    trail.detail = detail(export, spooled.written.sha256)
    return spooled, export
