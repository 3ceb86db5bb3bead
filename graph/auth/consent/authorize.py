"""The authorization pages: GET /auth/authorize, then phone -> code and PIN -> consent ->
redirect; a customer without a PIN chooses and repeats one between code and consent (sca.py).
From the consent page the customer may link the bank (bank_link.py): POST /auth/flow/bank
sends them to the bank's own pages, which answer at GET /auth/flow/bank/callback.

The app's request is checked before anything is shown: an unknown client or a redirect URI
not registered exactly gets an error page and is never redirected to; other faults go back
to the (now trusted) redirect URI as RFC 6749 errors. The flow's state lives on the server
(see flows.py); every POST carries its CSRF token; a page never reveals whether a code was
wrong, expired, used or locked.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from connectors.errors import ConsentNotAnswered, UpstreamError
from graph.auth import forms
from graph.auth.consent import i18n, pages, sca
from graph.auth.consent.flowkit import DUSHANBE, Flow, FlowKit, request_language
from graph.auth.oauth import clients, pkce
from graph.auth.runtime import Auth, ip_key
from graph.auth.scopes import ALL_SCOPES, parse_scopes
from ledger import consents, customers, grants, one_time_codes
from ledger.clients import RegisteredClient
from ledger.customers import CustomerAccount

log = logging.getLogger("graph.auth.bank")

DEFAULT_DAYS = 90
MAX_DAYS = 180
FLOW_PAGE = "/auth/flow"
MAX_STATE = 500


def issuer(request: Request) -> str:
    """This authorization server's identifier: its base URL."""
    return str(request.base_url).rstrip("/")


def with_query(uri: str, **params: str) -> str:
    """`uri` with `params` added to its query (a registered URI may already have one)."""
    parts = urlsplit(uri)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
    return urlunsplit(parts._replace(query=urlencode(query)))


def today(now: datetime) -> date:
    return now.astimezone(DUSHANBE).date()


def consent_end(day: date, now: datetime) -> datetime:
    """The end of `day` in Dushanbe, never more than MAX_DAYS from now."""
    end = datetime.combine(day, time(23, 59, 59), DUSHANBE).astimezone(UTC)
    return min(end, now + timedelta(days=MAX_DAYS))


class AuthorizeFlow:
    def __init__(self, auth: Auth) -> None:
        self.auth = auth
        self.kit = FlowKit(auth, auth.flow_cookie, cookie="alif_flow", base=FLOW_PAGE)

    # -- GET /auth/authorize ---------------------------------------------------------------

    async def start(self, request: Request) -> Response:
        params: forms.Params = {}
        for key, value in request.query_params.multi_items():
            params.setdefault(key, []).append(value)
        lang = i18n.supported(forms.single(params, "lang")) or i18n.negotiate(
            request.headers.get("accept-language")
        )
        client_id = forms.single(params, "client_id")
        redirect_uri = forms.single(params, "redirect_uri")
        async with self.auth.sessions() as session:
            client = await clients.find(session, client_id) if client_id else None
        if client is None or redirect_uri is None or not client.has_redirect_uri(redirect_uri):
            return self.kit.error(lang, "unknown_client")
        state = forms.single(params, "state")
        problem = self._problem(params, client, state)
        if problem is not None:
            back = {"error": problem} | ({"state": state} if state else {})
            # RFC 9207: the issuer tells the app which server answered (mix-up defence).
            return pages.see_other(with_query(redirect_uri, **back, iss=issuer(request)))
        flow, cookie = self.kit.new(
            {
                "client_pk": client.id,
                "client_id": client.client_id,
                "app": client.name,
                "redirect_uri": redirect_uri,
                "state": state,
                "challenge": forms.single(params, "code_challenge"),
                "scopes": sorted(parse_scopes(forms.single(params, "scope") or "")),
                "lang": lang,
                "step": "phone",
            }
        )
        response = await self.kit.next_page(flow)
        self.kit.set_cookie(response, cookie)
        return response

    @staticmethod
    def _problem(params: forms.Params, client: RegisteredClient, state: str | None) -> str | None:
        if forms.repeated(params):
            return "invalid_request"
        if forms.single(params, "response_type") != "code":
            return "unsupported_response_type"
        if not state or len(state) > MAX_STATE:
            return "invalid_request"
        challenge = forms.single(params, "code_challenge") or ""
        if forms.single(params, "code_challenge_method") != pkce.METHOD:
            return "invalid_request"
        if not pkce.valid_challenge(challenge):
            return "invalid_request"
        try:
            scopes = parse_scopes(forms.single(params, "scope") or "")
        except ValueError:
            return "invalid_scope"
        if not scopes or not scopes <= client.allowed_scopes:
            return "invalid_scope"
        return None

    # -- GET /auth/flow: the current step's page -----------------------------------------

    async def show(self, request: Request) -> Response:
        flow = await self.kit.load(request)
        if flow is None:
            return self.kit.error(request_language(request), "expired")
        if self.kit.switch_language(flow, request):
            return await self.kit.next_page(flow)
        notice = flow.take_notice()
        await self.kit.save(flow)
        step = flow.state["step"]
        if step == "code":
            return self._code_page(flow, notice)
        if step == "consent":
            return await self._consent_page(flow, notice)
        if step in ("pin_choose", "pin_confirm"):
            return self._pin_page(flow, notice)
        return self._phone_page(flow, notice)

    def _page(self, flow: Flow, template: str, **values: object) -> Response:
        # The app's redirect URI, and the bank's pages the "link" button leads to.
        targets = [flow.state["redirect_uri"]]
        if self.auth.bank is not None:
            targets.append(self.auth.bank.target.public_url)
        return pages.page(
            template,
            {"csrf": flow.state["csrf"], **values},
            lang=flow.lang,
            base=FLOW_PAGE,
            form_targets=targets,
        )

    def _phone_page(self, flow: Flow, notice: pages.Markup) -> Response:
        return self._page(
            flow,
            "phone.html",
            heading=i18n.text(flow.lang, "phone_heading"),
            intro=pages.msg(flow.lang, "asks", app=flow.state["app"]),
            message=notice,
            **self.kit.phone_form(flow),
        )

    def _code_page(self, flow: Flow, notice: pages.Markup) -> Response:
        return self._page(
            flow, "code.html", message=notice, **self.kit.code_form(flow, with_pin=True)
        )

    def _pin_page(self, flow: Flow, notice: pages.Markup) -> Response:
        lang = flow.lang
        heading = (
            "pin_choose_heading" if flow.state["step"] == "pin_choose" else "pin_confirm_heading"
        )
        return self._page(
            flow,
            "pin.html",
            heading=i18n.text(lang, heading),
            text=i18n.text(lang, "pin_choose_text"),
            message=notice,
            action=f"{FLOW_PAGE}/pin",
            label=i18n.text(lang, "pin_label"),
            button=i18n.text(lang, "confirm"),
        )

    async def _consent_page(self, flow: Flow, notice: pages.Markup) -> Response:
        lang = flow.lang
        now = self.auth.clock()
        async with self.auth.sessions() as session:
            accounts = await customers.accounts_of(session, flow.state["user_id"])
        first = today(now)
        last = _last_day(flow, now)
        chosen = flow.state.get("expires_day")  # the day asked of the bank, when linked
        default = date.fromisoformat(chosen) if chosen else first + timedelta(days=DEFAULT_DAYS)
        scopes = "".join(
            f"<li>{pages.escape(i18n.scope_text(lang, s))}</li>"
            for s in ALL_SCOPES
            if s in flow.state["scopes"]
        )
        return self._page(
            flow,
            "consent.html",
            heading=i18n.text(lang, "consent_heading"),
            message=notice,
            will_be_able=pages.msg(lang, "will_be_able", app=flow.state["app"]),
            scopes=pages.Markup(scopes),
            action=f"{FLOW_PAGE}/decide",
            accounts_heading=i18n.text(lang, "accounts_heading"),
            accounts=_account_boxes(accounts, lang),
            expires_label=i18n.text(lang, "expires_label"),
            expires=min(default, last).isoformat(),
            expires_min=(first + timedelta(days=1)).isoformat(),
            expires_max=last.isoformat(),
            expires_hint=i18n.text(lang, "expires_hint"),
            approve=i18n.text(lang, "approve"),
            reject=i18n.text(lang, "reject"),
            bank=self._bank_section(flow),
        )

    def _bank_section(self, flow: Flow) -> pages.Markup:
        if self.auth.bank is None:
            return pages.Markup("")
        lang = flow.lang
        return pages.render(
            "bank_link.html",
            heading=i18n.text(lang, "bank_heading"),
            text=i18n.text(lang, "bank_text"),
            action=f"{FLOW_PAGE}/bank",
            button=i18n.text(lang, "bank_button"),
        )

    # -- POST steps ------------------------------------------------------------------------

    async def phone(self, request: Request) -> Response:
        posted = await self.kit.step(request, "phone")
        if isinstance(posted, Response):
            return posted
        flow, form = posted
        phone = await self.kit.entered_phone(flow, form)
        if isinstance(phone, Response):
            return phone
        now = self.auth.clock()
        async with self.auth.sessions.begin() as session:
            user_id = await customers.ensure(session, phone, locale=flow.lang)
            # A locked phone gets no code, so no consent is started for it either.
            until = await one_time_codes.locked_until(session, user_id, now=now)
        if until is not None:
            return await self.kit.locked(flow, until)
        async with self.auth.sessions.begin() as session:
            # Pending until approved; it lapses with the flow if the customer walks away.
            consent_id = await consents.create(
                session,
                user_id=user_id,
                client_id=flow.state["client_pk"],
                scopes=frozenset(flow.state["scopes"]),
                expires_at=now + timedelta(minutes=15),
                now=now,
            )
            issued = await one_time_codes.issue(
                session,
                consent_id,
                purpose=one_time_codes.AUTHORISE,
                keys=self.auth.keys.code_keys,
                now=now,
            )
        if isinstance(issued, one_time_codes.Locked):  # locked since the check above
            return await self.kit.locked(flow, issued.until)
        # A new consent has no code to cool down from.
        assert isinstance(issued, one_time_codes.Issued)
        await self.auth.sender.send(phone, issued.code, lang=flow.lang)
        flow.state.update(step="code", phone=phone, user_id=user_id, consent_id=consent_id)
        return await self.kit.next_page(flow)

    async def code(self, request: Request) -> Response:
        posted = await self.kit.step(request, "code")
        if isinstance(posted, Response):
            return posted
        flow, form = posted
        pin = forms.single(form, "pin")
        if not sca.acceptable_pin(pin):  # can never be right: no attempt is counted
            return await self.kit.fail(flow, "pin_format")
        now = self.auth.clock()
        async with self.auth.sessions.begin() as session:
            # Exactly one `code` field: several (or none) count as one wrong attempt.
            verdict = await sca.judge(
                session,
                user_id=flow.state["user_id"],
                consent_id=flow.state["consent_id"],
                code=forms.single(form, "code"),
                pin=pin,
                keys=self.auth.keys,
                now=now,
            )
            if isinstance(verdict, sca.Refused):
                await self._audit(session, request, flow, "auth.sca.verify", "denied")
        if isinstance(verdict, sca.Refused):
            return await self.kit.refused(flow, verdict, "sca_error")
        if verdict.has_pin:
            flow.state["step"] = "consent"
        else:
            # Only its hash waits in the flow store until the customer repeats it.
            flow.state.update(step="pin_confirm", pin_pending=await sca.hash_pin(pin))
        return await self.kit.next_page(flow)

    async def pin(self, request: Request) -> Response:
        """The first PIN: chosen (on the code page or after a mismatch), then repeated."""
        posted = await self.kit.step(request, "pin_choose", "pin_confirm")
        if isinstance(posted, Response):
            return posted
        flow, form = posted
        pin = forms.single(form, "pin")
        if flow.state["step"] == "pin_choose":
            if not sca.acceptable_pin(pin):
                return await self.kit.fail(flow, "pin_format")
            flow.state.update(step="pin_confirm", pin_pending=await sca.hash_pin(pin))
            return await self.kit.next_page(flow)
        pending = flow.state.pop("pin_pending")
        if pin is None or not await sca.pin_matches(pending, pin):
            flow.state["step"] = "pin_choose"
            return await self.kit.fail(flow, "pin_mismatch")
        async with self.auth.sessions.begin() as session:
            saved = await customers.set_first_pin(session, flow.state["user_id"], pending)
            await self._audit(
                session, request, flow, "auth.sca.pin_set", "ok" if saved else "denied"
            )
        if not saved:  # another tab chose one first: this flow proved neither
            return await self.kit.end(flow, self.kit.error(flow.lang, "expired"))
        flow.state["step"] = "consent"
        flow.say("pin_saved")
        return await self.kit.next_page(flow)

    async def resend(self, request: Request) -> Response:
        return await self.kit.resend(request, self._send)

    async def _send(
        self, flow: Flow
    ) -> one_time_codes.Issued | one_time_codes.CoolingDown | one_time_codes.Locked:
        """A new code for the flow's consent, texted unless the last one is too recent or
        the phone is locked."""
        async with self.auth.sessions.begin() as session:
            issued = await one_time_codes.issue(
                session,
                flow.state["consent_id"],
                purpose=one_time_codes.AUTHORISE,
                keys=self.auth.keys.code_keys,
                now=self.auth.clock(),
            )
        if isinstance(issued, one_time_codes.Issued):
            await self.auth.sender.send(flow.state["phone"], issued.code, lang=flow.lang)
        return issued

    async def decide(self, request: Request) -> Response:
        posted = await self.kit.step(request, "consent")
        if isinstance(posted, Response):
            return posted
        flow, form = posted
        decision = forms.single(form, "decision")
        if decision == "reject":
            return await self._finish(request, flow, None, None)
        if decision != "approve":
            return self.kit.error(flow.lang, "bad_request")
        now = self.auth.clock()
        async with self.auth.sessions() as session:
            owned = {a.id for a in await customers.accounts_of(session, flow.state["user_id"])}
        chosen = _chosen_accounts(form.get("accounts", []), owned)
        if chosen is None:
            return await self.kit.fail(flow, "accounts_error")
        expires_at = _chosen_expiry(forms.single(form, "expires"), now)
        if expires_at is None:
            return await self.kit.fail(flow, "expiry_error")
        bank_end = flow.state.get("bank_expires_at")
        if bank_end is not None:
            # Data synced with the bank's consent stops at its end: ours cannot outlast it.
            expires_at = min(expires_at, datetime.fromisoformat(bank_end))
        return await self._finish(request, flow, chosen, expires_at)

    async def _finish(
        self,
        request: Request,
        flow: Flow,
        accounts: frozenset[int] | None,
        expires_at: datetime | None,
    ) -> Response:
        """Approve (accounts and expiry given) or reject, then send the customer back."""
        now = self.auth.clock()
        state = flow.state
        consent_id = state["consent_id"]
        try:
            async with self.auth.sessions.begin() as session:
                if accounts is None or expires_at is None:
                    await consents.transition(session, consent_id, consents.REJECTED, now=now)
                    back = {"error": "access_denied", "state": state["state"]}
                else:
                    await consents.authorise(
                        session, consent_id, account_ids=accounts, expires_at=expires_at, now=now
                    )
                    code = await grants.create(
                        session,
                        client_id=state["client_pk"],
                        consent_id=consent_id,
                        redirect_uri=state["redirect_uri"],
                        code_challenge=state["challenge"],
                        now=now,
                    )
                    back = {"code": code, "state": state["state"]}
                operation = "auth.consent.reject" if "error" in back else "auth.consent.approve"
                await self._audit(session, request, flow, operation, "ok")
        except consents.IllegalTransition:
            return await self.kit.end(flow, self.kit.error(flow.lang, "expired"))
        back["iss"] = issuer(request)  # RFC 9207
        return await self.kit.end(flow, pages.see_other(with_query(state["redirect_uri"], **back)))

    # -- linking the bank ------------------------------------------------------------------

    async def bank(self, request: Request) -> Response:
        """POST from the consent page (its form, with the expiry chosen there): ask the bank
        for a consent request lasting as long as ours would, and send the browser to the
        bank's own pages to answer it."""
        posted = await self.kit.step(request, "consent")
        if isinstance(posted, Response):
            return posted
        flow, form = posted
        if self.auth.bank is None:
            return self.kit.error(flow.lang, "bad_request")
        now = self.auth.clock()
        day = forms.single(form, "expires")
        expires_at = _chosen_expiry(day, now)
        if expires_at is None:
            return await self.kit.fail(flow, "expiry_error")
        state = secrets.token_urlsafe(32)
        try:
            asked = await self.auth.bank.request(
                phone=flow.state["phone"],
                expires_at=expires_at,
                now=now,
                redirect_uri=self._callback_url(request),
                state=state,
            )
        except UpstreamError as exc:
            _log_bank_failure(exc)
            return await self.kit.fail(flow, "bank_unavailable")
        # One answer is awaited, for this request only; the callback takes it off the flow.
        flow.state["bank_pending"] = {"request": asked.consent_request_id, "state": state}
        flow.state["expires_day"] = day
        await self.kit.save(flow)
        return pages.see_other(asked.approval_url)

    def _callback_url(self, request: Request) -> str:
        base = self.auth.settings.public_url or issuer(request)
        return f"{base.rstrip('/')}{FLOW_PAGE}/bank/callback"

    async def bank_callback(self, request: Request) -> Response:
        """GET from the bank: `consent_request_id`, `status`, `state`. Only the request this
        flow made, with its state, is collected, once; the bank's own answer decides."""
        flow = await self.kit.load(request)
        if flow is None:
            return self.kit.error(request_language(request), "expired")
        if flow.state["step"] != "consent" or self.auth.bank is None:
            return await self.kit.next_page(flow)
        if await self.auth.limit([(self.auth.pages_by_ip, ip_key(request))]):
            return await self.kit.fail(flow, "too_many")
        pending = flow.state.pop("bank_pending", None)
        query = request.query_params
        answered = pending is not None and _answers(query, pending)
        linked = None
        if answered and query.get("status") == "ACCEPTED":
            try:
                linked = await self.auth.bank.link(
                    user_id=flow.state["user_id"], consent_request_id=pending["request"]
                )
            except ConsentNotAnswered:
                linked = None  # the browser said ACCEPTED, the bank does not: nothing linked
            except UpstreamError as exc:
                _log_bank_failure(exc)
                await self._audit_bank(request, flow, "error")
                return await self.kit.fail(flow, "bank_unavailable")
        await self._audit_bank(request, flow, "ok" if linked is not None else "denied")
        if linked is None:
            return await self.kit.fail(flow, "bank_failed")
        if linked.expires_at is not None:
            flow.state["bank_expires_at"] = linked.expires_at.isoformat()
        try:
            await self.auth.bank.sync(linked.connection_id)
        except UpstreamError as exc:
            _log_bank_failure(exc)
            return await self.kit.fail(flow, "bank_unavailable")
        flow.say("bank_linked")
        return await self.kit.next_page(flow)

    async def _audit_bank(self, request: Request, flow: Flow, outcome: str) -> None:
        async with self.auth.sessions.begin() as session:
            await self._audit(session, request, flow, "auth.bank.link", outcome)

    async def _audit(
        self, session: AsyncSession, request: Request, flow: Flow, operation: str, outcome: str
    ) -> None:
        state: dict[str, Any] = flow.state
        await self.auth.audit(
            session,
            request,
            operation,
            outcome,
            client_id=state["client_id"],
            user_id=state.get("user_id"),
            consent_id=state.get("consent_id"),
            scopes=state["scopes"],
        )


def _answers(query: Mapping[str, str], pending: dict[str, str]) -> bool:
    """The callback names this flow's consent request with its state, both compared in
    constant time (the state is the flow's secret)."""
    same_request = secrets.compare_digest(
        query.get("consent_request_id", "").encode(), pending["request"].encode()
    )
    same_state = secrets.compare_digest(query.get("state", "").encode(), pending["state"].encode())
    return same_request and same_state


def _last_day(flow: Flow, now: datetime) -> date:
    """The last day the consent may run to: MAX_DAYS, or the last day the bank consent
    linked in this flow covers to its end, when that comes first. (The bank counts its
    lifetime from its grant, a moment after our request, so it ends just past the day
    asked: that next day, barely begun, is not offered.)"""
    last = today(now) + timedelta(days=MAX_DAYS)
    if (bank_end := flow.state.get("bank_expires_at")) is None:
        return last
    ends = datetime.fromisoformat(bank_end)
    covered = today(ends)
    if datetime.combine(covered, time(23, 59, 59), DUSHANBE) > ends:
        covered -= timedelta(days=1)
    return min(last, covered)


def _log_bank_failure(exc: UpstreamError) -> None:
    # The OBP client has already redacted every credential from the message.
    log.warning("bank link failed: %s", exc)


def _account_boxes(accounts: list[CustomerAccount], lang: str) -> pages.Markup:
    if not accounts:
        return pages.notice(pages.msg(lang, "no_accounts"))
    return pages.Markup("".join(_account_box(a) for a in accounts))


def _account_box(account: CustomerAccount) -> str:
    name, number, currency = (
        pages.escape(v) for v in (account.name, account.number_masked, account.currency)
    )
    return (
        f'<label class="account"><input type="checkbox" name="accounts" value="{account.id}"'
        f" checked> {name} · {number} · {currency}</label>"
    )


def _chosen_accounts(values: list[str], owned: set[int]) -> frozenset[int] | None:
    """The chosen account ids, or None when none is chosen or one is not the customer's.
    (An empty list would mean "all accounts" to the API, so it is never stored.)"""
    if not values or not all(v.isdigit() and len(v) < 19 for v in values):
        return None
    chosen = frozenset(int(v) for v in values)
    return chosen if chosen <= owned else None


def _chosen_expiry(value: str | None, now: datetime) -> datetime | None:
    try:
        day = date.fromisoformat(value or "")
    except ValueError:
        return None
    first = today(now)
    if not first < day <= first + timedelta(days=MAX_DAYS):
        return None
    return consent_end(day, now)
