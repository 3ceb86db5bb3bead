"""Server-rendered pages: minimal templates with escaping, and the headers every page gets.

Templates are `string.Template` files; every value is HTML-escaped unless it is `Markup`
built here from escaped parts. No script runs on these pages: the CSP allows none, only
our one inline stylesheet (by nonce), no framing, and forms posting to this site (plus,
on the consent page, the app's redirect URI, which Chromium checks after a form redirect).
"""

from __future__ import annotations

import html
import secrets
from collections.abc import Sequence
from functools import cache
from importlib import resources
from string import Template
from urllib.parse import urlsplit

from starlette.responses import HTMLResponse, RedirectResponse, Response

from graph.auth.consent import i18n


class Markup(str):
    """HTML that is already safe to insert."""


def escape(value: object) -> Markup:
    if isinstance(value, Markup):
        return value
    return Markup(html.escape(str(value), quote=True))


@cache
def _template(name: str) -> Template:
    source = resources.files("graph.auth.consent").joinpath("templates", name).read_text("utf-8")
    return Template(source)


def render(name: str, **values: object) -> Markup:
    return Markup(_template(name).substitute({k: escape(v) for k, v in values.items()}))


def msg(lang: str, key: str, **values: object) -> Markup:
    """A translated sentence with its `$placeholders` filled in, escaped."""
    template = Template(html.escape(i18n.text(lang, key), quote=True))
    return Markup(template.substitute({k: escape(v) for k, v in values.items()}))


def notice(text: Markup | None, *, error: bool = False) -> Markup:
    if not text:
        return Markup("")
    css, role = ("error", "alert") if error else ("notice", "status")
    return Markup(f'<p class="{css}" role="{role}">{escape(text)}</p>')


def languages(lang: str, base: str) -> Markup:
    parts = []
    for code in i18n.LANGUAGES:
        name = escape(i18n.LANGUAGE_NAMES[code])
        parts.append(
            f"<strong>{name}</strong>"
            if code == lang
            else f'<a href="{escape(base)}?lang={code}" hreflang="{code}">{name}</a>'
        )
    return Markup("".join(parts))


def security_headers(nonce: str = "", form_targets: Sequence[str] = ()) -> dict[str, str]:
    """`form_targets`: where a form's answer may send the browser besides this site (CSP
    form-action also governs the redirects that follow a submission)."""
    form_action = "'self'"
    for target in form_targets:
        parts = urlsplit(target)
        form_action += f" {parts.scheme}://{parts.netloc}"
    style = f"'nonce-{nonce}'" if nonce else "'none'"
    return {
        "Cache-Control": "no-store",
        "Pragma": "no-cache",
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Content-Security-Policy": (
            f"default-src 'none'; style-src {style}; form-action {form_action}; "
            "frame-ancestors 'none'; base-uri 'none'"
        ),
    }


def page(
    body_template: str,
    values: dict[str, object],
    *,
    lang: str,
    base: str,
    form_targets: Sequence[str] = (),
    status: int = 200,
) -> HTMLResponse:
    nonce = secrets.token_urlsafe(16)
    body = render(body_template, **values)
    document = render(
        "layout.html",
        lang=lang,
        title=i18n.text(lang, "title"),
        nonce=nonce,
        languages=languages(lang, base),
        body=body,
    )
    return HTMLResponse(document, status_code=status, headers=security_headers(nonce, form_targets))


def error_page(lang: str, key: str, *, base: str, status: int = 400) -> HTMLResponse:
    values: dict[str, object] = {
        "heading": i18n.text(lang, "error_title"),
        "message": i18n.text(lang, key),
    }
    return page("error.html", values, lang=lang, base=base, status=status)


def see_other(url: str) -> Response:
    """A 303 after a POST (the browser GETs the next page), with the no-store headers."""
    return RedirectResponse(url, status_code=303, headers=security_headers())
