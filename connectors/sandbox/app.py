"""The sandbox Alif bank as a Starlette app speaking OBP v5.1.0 (see obp-protocol.md).

Routes sit under `/obp/{version}`; the fault middleware answers 404 for a version the
bank does not serve (`FaultConfig.api_versions`), and a v5.0.0 bank lacks v5.1.0's own
endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from connectors.sandbox import errors, obp_json
from connectors.sandbox.admin import admin_routes
from connectors.sandbox.approval import ApprovalSessions, approval_routes
from connectors.sandbox.auth import (
    Principal,
    authenticate,
    check_consumer,
    consent_from_headers,
    direct_login_params,
    granted_view,
)
from connectors.sandbox.bank import OWNER_VIEW, Consent, SandboxBank
from connectors.sandbox.config import SandboxConfig
from connectors.sandbox.consent_request_routes import consent_request_routes
from connectors.sandbox.errors import ObpError
from connectors.sandbox.faults import FaultInjector, FaultMiddleware
from connectors.sandbox.models import Account
from connectors.sandbox.nbt_feed import nbt_routes
from connectors.sandbox.obp_json import ObpJSONResponse
from connectors.sandbox.paging import as_served, read_page_query, select
from connectors.sandbox.web import bank_of, faults_of, json_object

# The default prefix (what the server banner prints); routes take any served version.
PREFIX = f"/obp/{obp_json.API_VERSION}"
_ROUTE_PREFIX = "/obp/{version}"
# OBP's versions as its root reports them; v5.1.0 is the line this sandbox speaks.
_VERSION_STATUS = {"v5.0.0": "STABLE"}


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.removeprefix("v").split("."))


def _since(version: str, request: Request) -> None:
    """An endpoint OBP added in `version` does not exist under older prefixes."""
    if _version(request.path_params["version"]) < _version(version):
        raise ObpError(errors.NOT_FOUND)


def _realm(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def _principal(request: Request) -> Principal:
    max_uses = faults_of(request).config.expire_tokens_after
    return authenticate(request.headers, bank_of(request), _realm(request), max_uses)


def _check_bank(request: Request) -> SandboxBank:
    bank = bank_of(request)
    if request.path_params["bank_id"] != bank.bank_id:
        raise ObpError(errors.BANK_NOT_FOUND)
    return bank


def _account(request: Request, principal: Principal) -> Account:
    """The path's account, if the caller may see it: another user's account, or one
    outside the consent, is indistinguishable from a missing one."""
    bank = _check_bank(request)
    account = bank.account(request.path_params["account_id"])
    if account is None or not principal.can_see(account):
        raise ObpError(errors.ACCOUNT_NOT_FOUND)
    view = granted_view(account, faults_of(request).config)
    if request.path_params.get("view_id", view) != view:
        raise ObpError(errors.NO_VIEW_ACCESS)
    return account


def _own_consent(request: Request) -> tuple[SandboxBank, Consent]:
    """The path's bank and consent, if it is the caller's: another user's is reported missing."""
    principal = _principal(request)
    bank = _check_bank(request)
    consent = bank.consent(request.path_params["consent_id"])
    if consent is None or consent.username != principal.user.username:
        raise ObpError(errors.CONSENT_NOT_FOUND)
    return bank, consent


def _visible_accounts(bank: SandboxBank, principal: Principal) -> list[Account]:
    return [a for a in bank.accounts_of(principal.user.username) if principal.can_see(a)]


# --- DirectLogin, root, banks, user ---------------------------------------------------------


async def direct_login(request: Request) -> Response:
    params = direct_login_params(request.headers) or {}
    missing = [p for p in ("username", "password", "consumer_key") if not params.get(p)]
    if missing:
        raise ObpError(errors.DIRECT_LOGIN_MISSING, ", ".join(missing))
    token = bank_of(request).login(params["username"], params["password"], params["consumer_key"])
    return ObpJSONResponse({"token": token}, status_code=201)


async def root(request: Request) -> Response:
    version = request.path_params["version"]
    body = obp_json.root(_realm(request))
    if version != obp_json.API_VERSION:
        body = {**body, "version": version, "version_status": _VERSION_STATUS.get(version)}
    return ObpJSONResponse(body)


async def banks(request: Request) -> Response:
    return ObpJSONResponse({"banks": [obp_json.bank_list_item(bank_of(request).bank_id)]})


async def bank(request: Request) -> Response:
    return ObpJSONResponse(obp_json.bank(_check_bank(request).bank_id))


async def current_user(request: Request) -> Response:
    return ObpJSONResponse(obp_json.user(_principal(request).user))


# --- accounts and balances ------------------------------------------------------------------


async def my_accounts(request: Request) -> Response:
    principal = _principal(request)
    accounts = _visible_accounts(bank_of(request), principal)
    faults = faults_of(request).config
    items = [obp_json.my_account(a, granted_view(a, faults)) for a in accounts]
    return ObpJSONResponse({"accounts": items})


async def accounts_held(request: Request) -> Response:
    principal = _principal(request)
    accounts = _visible_accounts(_check_bank(request), principal)
    return ObpJSONResponse({"accounts": [obp_json.account_held(a) for a in accounts]})


async def account(request: Request) -> Response:
    principal = _principal(request)
    found = _account(request, principal)
    booked = bank_of(request).booked_balance_minor(found.id)
    view = granted_view(found, faults_of(request).config)
    opening = bank_of(request).opening_balance_minor(found.id)
    return ObpJSONResponse(obp_json.core_account(found, booked, view, opening))


async def account_views(request: Request) -> Response:
    """The account's views, for a view that may list them (OBP: only owner has
    can_see_available_views_for_bank_account); through any other view, OBP-20022."""
    principal = _principal(request)
    found = _account(request, principal)
    if granted_view(found, faults_of(request).config) != OWNER_VIEW:
        detail = "You need the `can_see_available_views_for_bank_account` permission."
        raise ObpError(errors.VIEW_DOES_NOT_PERMIT, detail)
    return ObpJSONResponse({"views": [obp_json.view(OWNER_VIEW)]})


def _balances(bank: SandboxBank, account: Account) -> dict[str, Any]:
    return obp_json.balances(
        account, bank.booked_balance_minor(account.id), bank.available_balance_minor(account.id)
    )


async def account_balances(request: Request) -> Response:
    principal = _principal(request)
    found = _account(request, principal)
    return ObpJSONResponse(_balances(bank_of(request), found))


async def bank_balances(request: Request) -> Response:
    principal = _principal(request)
    bank = _check_bank(request)
    items = [_balances(bank, a) for a in _visible_accounts(bank, principal)]
    return ObpJSONResponse({"accounts": items})


# --- transactions ---------------------------------------------------------------------------


async def transactions(request: Request) -> Response:
    principal = _principal(request)
    found = _account(request, principal)
    faults = faults_of(request)
    params = {} if faults.config.headers_only else request.query_params
    query = read_page_query(request.headers, params)
    bank = bank_of(request)
    page = select(bank.history(found.id), faults.page_query(query), faults.listing(bank, found.id))
    items = [obp_json.transaction(found, t, faults.amount_for(t.id), faults.config) for t in page]
    faults.after_page(bank, found.id, page)
    headers = {"Range": f"items={query.offset}-{query.limit}"}
    response = ObpJSONResponse({"transactions": items}, headers=headers)
    if faults.malformed(query.offset):
        body = bytes(response.body)
        return Response(body[: len(body) // 2], media_type="application/json", headers=headers)
    return response


async def transaction(request: Request) -> Response:
    principal = _principal(request)
    found = _account(request, principal)
    item = bank_of(request).find_transaction(found.id, request.path_params["transaction_id"])
    if item is None:
        raise ObpError(errors.TRANSACTION_NOT_FOUND)
    faults = faults_of(request)
    served = as_served(item, faults.config.date_only)
    return ObpJSONResponse(
        obp_json.transaction(found, served, faults.amount_for(item.id), faults.config)
    )


async def transaction_requests(request: Request) -> Response:
    """All transfers, newest first; `limit`/`offset` (as for transactions) page them."""
    principal = _principal(request)
    found = _account(request, principal)
    query = read_page_query(request.headers, request.query_params, default_limit=None)
    bank = bank_of(request)
    selected = bank.transfers_page(found.id, query.offset, query.limit)
    items = [obp_json.transfer(t, bank.bank_id) for t in selected]
    return ObpJSONResponse({"transaction_requests_with_charges": items})


async def counterparties(request: Request) -> Response:
    principal = _principal(request)
    found = _account(request, principal)
    bank = bank_of(request)
    items = [
        obp_json.counterparty(c, bank.bank_id, principal.user.user_id)
        for c in bank.counterparties_of(found.id)
    ]
    return ObpJSONResponse({"counterparties": items})


async def cards(request: Request) -> Response:
    principal = _principal(request)
    bank = _check_bank(request) if "bank_id" in request.path_params else bank_of(request)
    visible = {a.id: a for a in _visible_accounts(bank, principal)}
    items = [
        obp_json.card(c, visible[c.account_id])
        for c in bank.cards_of(principal.user.username)
        if c.account_id in visible
    ]
    return ObpJSONResponse({"cards": items})


# --- consents -------------------------------------------------------------------------------


def _consent_fields(body: dict[str, Any]) -> dict[str, Any]:
    """PostConsentBodyCommonJson: `views` and `entitlements` required, the rest optional."""
    views, entitlements = body.get("views"), body.get("entitlements")
    everything = body.get("everything", False)
    if not isinstance(views, list) or not isinstance(entitlements, list):
        raise ObpError(errors.INVALID_JSON, "views and entitlements are required.")
    if not isinstance(everything, bool):
        raise ObpError(errors.INVALID_JSON, "everything must be a boolean.")
    parsed_views = []
    for view in views:
        if not isinstance(view, dict) or not all(
            isinstance(view.get(k), str) for k in ("bank_id", "account_id", "view_id")
        ):
            raise ObpError(errors.INVALID_JSON, "each view needs bank_id, account_id, view_id.")
        parsed_views.append((view["bank_id"], view["account_id"], view["view_id"]))
    ttl = body.get("time_to_live")
    if ttl is not None and (isinstance(ttl, bool) or not isinstance(ttl, int)):
        raise ObpError(errors.INVALID_JSON, "time_to_live must be an integer.")
    consumer_id = body.get("consumer_id")
    if consumer_id is not None and not isinstance(consumer_id, str):
        raise ObpError(errors.INVALID_JSON, "consumer_id must be a string.")
    valid_from = None
    if body.get("valid_from") is not None:
        try:
            valid_from = datetime.fromisoformat(str(body["valid_from"]))
        except ValueError:
            raise ObpError(
                errors.INVALID_JSON, "valid_from must be yyyy-MM-ddTHH:mm:ssZ."
            ) from None
        if valid_from.tzinfo is None:
            raise ObpError(errors.INVALID_JSON, "valid_from needs a time zone (Z).")
    return {
        "everything": everything,
        "views": parsed_views,
        "entitlements": entitlements,
        "consumer_id": consumer_id,
        "valid_from": valid_from,
        "time_to_live": ttl,
    }


async def create_consent(request: Request) -> Response:
    principal = _principal(request)
    bank = _check_bank(request)
    method = request.path_params["sca_method"]
    if method not in ("SMS", "EMAIL", "IMPLICIT"):
        raise ObpError(errors.SCA_METHODS)
    fields = _consent_fields(await json_object(request))
    allowed = {a.id for a in _visible_accounts(bank, principal)}
    created = bank.create_consent(
        principal.user, principal.consumer_key, method, allowed_accounts=allowed, **fields
    )
    return ObpJSONResponse(obp_json.consent(created), status_code=201)


async def answer_consent_challenge(request: Request) -> Response:
    bank, consent = _own_consent(request)
    answer = (await json_object(request)).get("answer")
    if not isinstance(answer, str):
        raise ObpError(errors.INVALID_JSON, "answer is required.")
    return ObpJSONResponse(obp_json.consent(bank.answer_challenge(consent, answer)), 201)


async def my_consents(request: Request) -> Response:
    principal = _principal(request)
    bank = _check_bank(request)
    items = [obp_json.consent_list_item(c) for c in bank.consents_of(principal.user.username)]
    return ObpJSONResponse({"consents": items})


async def revoke_current_consent(request: Request) -> Response:
    """Revoke the consent in the Consent-Id header. The consent and its consumer's key
    (or the owner's DirectLogin token) authorise this, even when it no longer works."""
    _since("v5.1.0", request)
    headers = request.headers
    bank = bank_of(request)
    if not headers.get("consent-id") and not headers.get("consent-jwt"):
        raise ObpError(errors.CONSENT_HEADER_MISSING)
    consent = consent_from_headers(headers, bank)
    assert consent is not None
    params = direct_login_params(headers)
    if params and params.get("token"):
        max_uses = faults_of(request).config.expire_tokens_after
        owner, _ = bank.token_user(params["token"], max_uses)
        if owner.username != consent.username:
            raise ObpError(errors.CONSENT_NOT_FOUND)
    else:
        check_consumer(headers, consent)
    return ObpJSONResponse(obp_json.consent(bank.revoke_consent(consent)))


async def revoke_consent(request: Request) -> Response:
    _since("v5.1.0", request)
    bank, consent = _own_consent(request)
    return ObpJSONResponse(obp_json.consent(bank.revoke_consent(consent)))


# --- the app --------------------------------------------------------------------------------


async def _obp_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ObpError)
    body = obp_json.error_body(exc.status, exc.message)
    return ObpJSONResponse(body, exc.status, headers=exc.headers)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    message = errors.NOT_FOUND if exc.status_code == 404 else errors.METHOD_NOT_ALLOWED
    return ObpJSONResponse(obp_json.error_body(exc.status_code, message), exc.status_code)


async def _unknown_error(request: Request, exc: Exception) -> Response:
    return ObpJSONResponse(obp_json.error_body(500, errors.UNKNOWN_ERROR), 500)


def _routes() -> list[Route]:
    bank_path = f"{_ROUTE_PREFIX}/banks/{{bank_id}}"
    account_path = f"{bank_path}/accounts/{{account_id}}"
    view_path = f"{account_path}/{{view_id}}"
    return [
        Route("/my/logins/direct", direct_login, methods=["POST"]),
        Route(f"{_ROUTE_PREFIX}/root", root),
        Route(f"{_ROUTE_PREFIX}/banks", banks),
        Route(bank_path, bank),
        Route(f"{_ROUTE_PREFIX}/users/current", current_user),
        Route(f"{_ROUTE_PREFIX}/my/accounts", my_accounts),
        Route(f"{bank_path}/accounts-held", accounts_held),
        Route(f"{account_path}/views", account_views),
        Route(f"{account_path}/views/{{view_id}}", account),
        Route(f"{account_path}/views/{{view_id}}/balances", account_balances),
        Route(f"{bank_path}/balances", bank_balances),
        Route(f"{view_path}/transactions", transactions),
        Route(f"{view_path}/transactions/{{transaction_id}}/transaction", transaction),
        Route(f"{view_path}/transaction-requests", transaction_requests),
        Route(f"{view_path}/counterparties", counterparties),
        Route(f"{_ROUTE_PREFIX}/cards", cards),
        Route(f"{bank_path}/cards", cards),
        Route(f"{bank_path}/my/consents/{{sca_method}}", create_consent, methods=["POST"]),
        Route(f"{bank_path}/my/consents", my_consents),
        Route(
            f"{bank_path}/consents/{{consent_id}}/challenge",
            answer_consent_challenge,
            methods=["POST"],
        ),
        Route(f"{bank_path}/consents/{{consent_id}}", revoke_consent, methods=["DELETE"]),
        Route(f"{_ROUTE_PREFIX}/my/consent/current", revoke_current_consent, methods=["DELETE"]),
    ]


def create_app(config: SandboxConfig | None = None) -> Starlette:
    """A fresh bank. `app.state.bank` is its SandboxBank (the truth API) and
    `app.state.faults` its FaultInjector, whose `.config` is `config.faults` itself."""
    config = config or SandboxConfig()
    sandbox = SandboxBank(config)
    faults = FaultInjector(config.faults, sandbox.now)
    routes = [
        *_routes(),
        *consent_request_routes(),
        *approval_routes(),
        *nbt_routes(),
        *(admin_routes() if config.admin_enabled else []),
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(FaultMiddleware, faults=faults, bank=sandbox)],
        exception_handlers={
            ObpError: _obp_error,
            HTTPException: _http_error,
            Exception: _unknown_error,
        },
    )
    app.state.bank = sandbox
    app.state.faults = faults
    app.state.approvals = ApprovalSessions()
    return app
