"""What the two browser flows (authorise, manage) share: their cookie, CSRF-checked and
rate-limited posts, the phone and code steps, and the page/redirect helpers bound to a
flow's language."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from graph.auth import forms
from graph.auth.consent import i18n, pages, phones, sca
from graph.auth.consent.flows import FLOW_TTL_SECONDS, CookieSigner
from graph.auth.runtime import Auth, ip_key, phone_key
from ledger.one_time_codes import CoolingDown, Issued, Locked

DUSHANBE = timezone(timedelta(hours=5))


@dataclass
class Flow:
    id: str
    state: dict[str, Any] = field(default_factory=dict)

    @property
    def lang(self) -> str:
        return str(self.state.get("lang", i18n.DEFAULT_LANGUAGE))

    def say(self, key: str, *, error: bool = False, **values: object) -> None:
        """A message for the next page (shown once)."""
        self.state["notice"] = {"key": key, "error": error, "values": values}

    def take_notice(self) -> pages.Markup:
        notice = self.state.pop("notice", None)
        if not notice:
            return pages.Markup("")
        text = pages.msg(self.lang, notice["key"], **notice["values"])
        return pages.notice(text, error=notice["error"])


def request_language(request: Request) -> str:
    """The language asked for in the query, else the browser's preference."""
    return i18n.supported(request.query_params.get("lang")) or i18n.negotiate(
        request.headers.get("accept-language")
    )


class FlowKit:
    def __init__(self, auth: Auth, signer: CookieSigner, *, cookie: str, base: str) -> None:
        self.auth = auth
        self.signer = signer
        self.cookie = cookie
        self.base = base  # the flow's page; posts answer with a 303 back to it

    def new(self, state: dict[str, Any]) -> tuple[Flow, str]:
        flow_id, cookie_value = self.signer.new_id()
        state["csrf"] = secrets.token_urlsafe(24)
        return Flow(flow_id, state), cookie_value

    async def load(self, request: Request) -> Flow | None:
        flow_id = self.signer.flow_id(request.cookies.get(self.cookie))
        if flow_id is None:
            return None
        state = await self.auth.flows.get(flow_id)
        return Flow(flow_id, state) if state is not None else None

    async def save(self, flow: Flow) -> None:
        await self.auth.flows.put(flow.id, flow.state)

    async def end(self, flow: Flow, response: Response) -> Response:
        await self.auth.flows.delete(flow.id)
        response.delete_cookie(self.cookie, path="/auth")
        return response

    def set_cookie(self, response: Response, value: str) -> None:
        response.set_cookie(
            self.cookie,
            value,
            max_age=FLOW_TTL_SECONDS,
            path="/auth",
            httponly=True,
            samesite="lax",
            secure=self.auth.secure_cookies,
        )

    async def posted(self, request: Request) -> tuple[Flow, forms.Params] | Response:
        """The flow and the form of a POST with the flow's CSRF token, or the error page."""
        flow = await self.load(request)
        lang = flow.lang if flow else i18n.negotiate(request.headers.get("accept-language"))
        if flow is None:
            return self.error(lang, "expired")
        try:
            form = await forms.read_params(request)
        except forms.BadBody:
            return self.error(lang, "bad_request")
        token = forms.single(form, "csrf")
        if token is None or not secrets.compare_digest(token, str(flow.state["csrf"])):
            return self.error(lang, "expired", status=403)
        return flow, form

    async def step(
        self, request: Request, step: str, *also: str
    ) -> tuple[Flow, forms.Params] | Response:
        """A POST that belongs to the flow's current step (`step` or one of `also`), or the
        response to send instead."""
        posted = await self.posted(request)
        if isinstance(posted, Response):
            return posted
        flow, _ = posted
        if flow.state["step"] not in (step, *also):
            return await self.next_page(flow)  # a stale tab: show where the flow is
        if await self.auth.limit([(self.auth.pages_by_ip, ip_key(request))]):
            return await self.fail(flow, "too_many")
        return posted

    async def entered_phone(self, flow: Flow, form: forms.Params) -> str | Response:
        """The posted phone number, normalised, or the page saying why it cannot be used."""
        phone = phones.normalize(forms.single(form, "phone"))
        if phone is None:
            return await self.fail(flow, "phone_error")
        if await self.sms_limited(phone):
            return await self.fail(flow, "too_many")
        return phone

    async def sms_limited(self, phone: str) -> bool:
        return await self.auth.limit([(self.auth.sms_by_phone, phone_key(phone))]) is not None

    async def resend(
        self,
        request: Request,
        send: Callable[[Flow], Awaitable[Issued | CoolingDown | Locked | None]],
    ) -> Response:
        """POST resend: `send` a new code to the flow's phone, unless rate limited."""
        posted = await self.step(request, "code")
        if isinstance(posted, Response):
            return posted
        flow, _ = posted
        if await self.sms_limited(flow.state["phone"]):
            return await self.fail(flow, "too_many")
        issued = await send(flow)
        if isinstance(issued, CoolingDown):
            return await self.fail(flow, "cool_down", seconds=issued.seconds)
        if isinstance(issued, Locked):
            return await self.locked(flow, issued.until)
        flow.say("code_resent")
        return await self.next_page(flow)

    async def restart(self, request: Request) -> Response:
        """POST restart: from the code step back to entering a phone number."""
        posted = await self.step(request, "code")
        if isinstance(posted, Response):
            return posted
        flow, _ = posted
        flow.state["step"] = "phone"
        return await self.next_page(flow)

    def phone_form(self, flow: Flow) -> dict[str, object]:
        """The phone page's form; each flow adds its own heading and intro."""
        lang = flow.lang
        return {
            "action": f"{self.base}/phone",
            "label": i18n.text(lang, "phone_label"),
            "phone": flow.state.get("phone") or "+992",
            "button": i18n.text(lang, "phone_button"),
        }

    def code_form(self, flow: Flow, *, with_pin: bool = False) -> dict[str, object]:
        """The code page's fields: where the code (and the PIN, `with_pin`), a resend and a
        restart are posted."""
        lang = flow.lang
        pin_field = (
            pages.render(
                "pin_field.html",
                label=i18n.text(lang, "pin_label"),
                hint=i18n.text(lang, "pin_hint"),
            )
            if with_pin
            else pages.Markup("")
        )
        return {
            "pin_field": pin_field,
            "heading": i18n.text(lang, "code_heading"),
            "sent_to": pages.msg(lang, "code_sent_to", phone=flow.state["phone"]),
            "action": f"{self.base}/code",
            "label": i18n.text(lang, "code_label"),
            "button": i18n.text(lang, "confirm"),
            "resend_action": f"{self.base}/resend",
            "resend": i18n.text(lang, "resend"),
            "restart_action": f"{self.base}/restart",
            "other_number": i18n.text(lang, "other_number"),
        }

    async def fail(self, flow: Flow, key: str, **values: object) -> Response:
        """Back to the flow's page, showing the error message `key`."""
        flow.say(key, error=True, **values)
        return await self.next_page(flow)

    async def locked(self, flow: Flow, until: datetime) -> Response:
        """Back to the flow's page, saying until when (Dushanbe time) the phone is locked."""
        return await self.fail(
            flow, "sca_locked", until=until.astimezone(DUSHANBE).strftime("%H:%M")
        )

    async def refused(self, flow: Flow, verdict: sca.Refused, key: str) -> Response:
        """A failed attempt: the error `key`, or the lock (texting the customer when this
        attempt locked the phone: once per lock, RTS Art. 4(3)(b))."""
        until = verdict.locked_until
        if until is None:
            return await self.fail(flow, key)
        if verdict.alert:
            await self.auth.sender.alert_locked(flow.state["phone"], until, lang=flow.lang)
        return await self.locked(flow, until)

    def error(self, lang: str, key: str, *, status: int = 400) -> Response:
        return pages.error_page(lang, key, base=self.base, status=status)

    async def next_page(self, flow: Flow) -> Response:
        await self.save(flow)
        return pages.see_other(self.base)

    def switch_language(self, flow: Flow, request: Request) -> bool:
        wanted = i18n.supported(request.query_params.get("lang"))
        if wanted and wanted != flow.lang:
            flow.state["lang"] = wanted
            return True
        return False
