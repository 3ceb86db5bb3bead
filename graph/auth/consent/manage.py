"""The customer's consents page: sign in with phone and code, see every app's access,
revoke it. GET /auth/consents and its POSTs.

The code is bound to the customer's most recent decided consent (ScaChallenge rows belong
to a consent) under its own purpose, so it can never authorise anything. A phone with
nothing to manage gets the same pages and no code, so the page does not reveal who is a
customer. Its code counts against the phone like the approval's (sca.judge_code): failures
lock the phone and alert the customer, and a locked phone is sent no code.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response

from graph.auth import forms
from graph.auth.consent import i18n, pages, sca
from graph.auth.consent.flowkit import Flow, FlowKit, request_language
from graph.auth.runtime import Auth
from graph.auth.scopes import ALL_SCOPES
from graph.connections.revocation import revoke_at_bank_now
from ledger import clients, consents, customers, one_time_codes

PAGE = "/auth/consents"


class ManageConsents:
    def __init__(self, auth: Auth) -> None:
        self.auth = auth
        self.kit = FlowKit(auth, auth.manage_cookie, cookie="alif_manage", base=PAGE)

    async def show(self, request: Request) -> Response:
        flow = await self.kit.load(request)
        if flow is None:
            flow, cookie = self.kit.new({"lang": request_language(request), "step": "phone"})
            response = await self.kit.next_page(flow)
            self.kit.set_cookie(response, cookie)
            return response
        if self.kit.switch_language(flow, request):
            return await self.kit.next_page(flow)
        notice = flow.take_notice()
        await self.kit.save(flow)
        lang, step = flow.lang, flow.state["step"]

        def show(template: str, **values: object) -> Response:
            values["csrf"] = flow.state["csrf"]
            return pages.page(template, values, lang=lang, base=PAGE)

        if step == "list":
            return show(
                "manage.html",
                heading=i18n.text(lang, "manage_heading"),
                message=notice,
                consents=await self._table(flow),
            )
        if step == "code":
            return show("code.html", message=notice, **self.kit.code_form(flow))
        return show(
            "phone.html",
            heading=i18n.text(lang, "manage_heading"),
            intro=i18n.text(lang, "phone_heading"),
            message=notice,
            **self.kit.phone_form(flow),
        )

    async def phone(self, request: Request) -> Response:
        posted = await self.kit.step(request, "phone")
        if isinstance(posted, Response):
            return posted
        flow, form = posted
        phone = await self.kit.entered_phone(flow, form)
        if isinstance(phone, Response):
            return phone
        async with self.auth.sessions.begin() as session:
            user_id, anchor = await _anchor(session, phone)
        flow.state.update(step="code", phone=phone, user_id=user_id, anchor=anchor)
        sent = await self._send(flow)
        if isinstance(sent, one_time_codes.Locked):
            flow.state["step"] = "phone"
            return await self.kit.locked(flow, sent.until)
        return await self.kit.next_page(flow)

    async def _send(
        self, flow: Flow
    ) -> one_time_codes.Issued | one_time_codes.CoolingDown | one_time_codes.Locked | None:
        """A code for the flow's anchor consent, unless the phone is locked or the last
        code is too recent; None when there is nothing to manage."""
        anchor = flow.state["anchor"]
        if anchor is None:
            return None
        async with self.auth.sessions.begin() as session:
            issued = await one_time_codes.issue(
                session,
                anchor,
                purpose=one_time_codes.MANAGE,
                keys=self.auth.keys.code_keys,
                now=self.auth.clock(),
            )
        if isinstance(issued, one_time_codes.Issued):
            await self.auth.sender.send(flow.state["phone"], issued.code, lang=flow.lang)
        return issued

    async def resend(self, request: Request) -> Response:
        return await self.kit.resend(request, self._send)

    async def code(self, request: Request) -> Response:
        posted = await self.kit.step(request, "code")
        if isinstance(posted, Response):
            return posted
        flow, form = posted
        anchor = flow.state["anchor"]
        if anchor is None:  # nothing to manage, no code sent: nothing to count either
            return await self.kit.fail(flow, "code_error")
        async with self.auth.sessions.begin() as session:
            refused = await sca.judge_code(
                session,
                user_id=flow.state["user_id"],
                consent_id=anchor,
                code=forms.single(form, "code"),
                purpose=one_time_codes.MANAGE,
                keys=self.auth.keys,
                now=self.auth.clock(),
            )
            if refused is not None:  # audited as the approval's failures are
                await self.auth.audit(
                    session,
                    request,
                    "auth.sca.verify",
                    "denied",
                    user_id=flow.state["user_id"],
                    consent_id=anchor,
                )
        if refused is not None:
            return await self.kit.refused(flow, refused, "code_error")
        flow.state["step"] = "list"
        return await self.kit.next_page(flow)

    async def revoke(self, request: Request) -> Response:
        posted = await self.kit.step(request, "list")
        if isinstance(posted, Response):
            return posted
        flow, form = posted
        wanted = forms.single(form, "consent")
        user_id = flow.state["user_id"]
        now = self.auth.clock()
        async with self.auth.sessions.begin() as session:
            mine = {c.id: c for c in await consents.of_user(session, user_id)}
            consent = mine.get(int(wanted)) if wanted and wanted.isdigit() else None
            if consent is None or not consent.usable(now):
                return self.kit.error(flow.lang, "bad_request")
            await consents.transition(session, consent.id, consents.REVOKED, now=now)
            await self.auth.audit(
                session,
                request,
                "auth.consent.revoke",
                "ok",
                client_id=await _public_client_id(session, consent.client_id),
                user_id=user_id,
                consent_id=consent.id,
                scopes=sorted(consent.scopes),
            )
        # Committed: now the bank consents it ended (pending and retried if the bank is down).
        await revoke_at_bank_now(self.auth.sessions, self.auth.bank_access, user_id)
        flow.say("revoked_done")
        return await self.kit.next_page(flow)

    async def _table(self, flow: Flow) -> pages.Markup:
        lang, now = flow.lang, self.auth.clock()
        async with self.auth.sessions() as session:
            listed = [
                c
                for c in await consents.of_user(session, flow.state["user_id"])
                if c.status != consents.AWAITING
            ]
            apps = await clients.by_ids(session, {c.client_id for c in listed if c.client_id})
        if not listed:
            return pages.notice(pages.msg(lang, "manage_none"))
        rows = []
        for consent in listed:
            app = apps.get(consent.client_id or 0)
            action = (
                pages.render(
                    "revoke_button.html",
                    action=f"{PAGE}/revoke",
                    csrf=flow.state["csrf"],
                    consent=consent.id,
                    label=i18n.text(lang, "revoke"),
                )
                if consent.usable(now)
                else ""
            )
            rows.append(
                pages.render(
                    "manage_row.html",
                    app=app.name if app else i18n.text(lang, "development_app"),
                    scopes="; ".join(
                        i18n.scope_text(lang, s) for s in ALL_SCOPES if s in consent.scopes
                    ),
                    status=i18n.status_text(lang, consent.effective_status(now)),
                    until=pages.msg(lang, "manage_until", date=_day(consent.expires_at)),
                    action=action,
                )
            )
        return pages.Markup(f"<table>{''.join(rows)}</table>")


def _day(moment: datetime) -> str:
    return (moment + timedelta(hours=5)).date().isoformat()  # Dushanbe, UTC+5


async def _anchor(session: AsyncSession, phone: str) -> tuple[int | None, int | None]:
    """(customer id, the consent a management code is bound to), without creating anyone."""
    user_id = await customers.id_by_phone(session, phone)
    if user_id is None:
        return None, None
    decided = [c for c in await consents.of_user(session, user_id) if c.status != consents.AWAITING]
    return user_id, (decided[0].id if decided else None)


async def _public_client_id(session: AsyncSession, pk: int | None) -> str | None:
    if pk is None:
        return None
    app = (await clients.by_ids(session, {pk})).get(pk)
    return app.client_id if app else None
