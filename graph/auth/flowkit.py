"""What the two browser flows (authorise, manage) share: their cookie, CSRF-checked
posts, and the page/redirect helpers bound to a flow's language."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from graph.auth import forms, i18n, pages
from graph.auth.flows import FLOW_TTL_SECONDS, CookieSigner
from graph.auth.runtime import Auth


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
