"""The HTML of the bank's approval pages: plain forms, no JavaScript, every value escaped."""

from __future__ import annotations

from datetime import datetime
from html import escape

from starlette.responses import HTMLResponse

from connectors.sandbox.models import Account

# Approval pages are never framed (clickjacking) nor cached (they carry a CSRF token).
_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
}
_STYLE = (
    "body{font-family:sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem}"
    ".error{color:#a00;font-weight:bold}label{display:block;margin:.6rem 0}"
    "button{margin:.4rem .4rem 0 0;padding:.4rem 1rem}"
)


def page(title: str, body: str, status: int = 200) -> HTMLResponse:
    html = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)} · Alif Bank</title><style>{_STYLE}</style></head>"
        f"<body><h1>Alif Bank</h1><h2>{escape(title)}</h2>{body}</body></html>"
    )
    return HTMLResponse(html, status_code=status, headers=_HEADERS)


def _error(message: str | None) -> str:
    return f'<p class="error" id="error">{escape(message)}</p>' if message else ""


def _form(action: str, csrf: str, fields: str) -> str:
    return (
        f'<form method="post" action="{escape(action)}">'
        f'<input type="hidden" name="csrf_token" value="{escape(csrf)}">{fields}</form>'
    )


def login(csrf: str, error: str | None = None, status: int = 200) -> HTMLResponse:
    fields = (
        '<label>Username <input id="username" name="username" autocomplete="username" '
        "required></label>"
        '<label>Password <input id="password" name="password" type="password" '
        'autocomplete="current-password" required></label>'
        '<button type="submit" id="log-in">Log in</button>'
    )
    intro = "<p>An application asks for access to your accounts. Log in to review it.</p>"
    return page(
        "Log in", intro + _error(error) + _form("/bank/consent/login", csrf, fields), status
    )


def _masked(number: str) -> str:
    return f"•••• {number[-4:]}"


def review(
    csrf: str,
    consumer_id: str,
    accounts: list[Account],
    everything: bool,
    valid_from: datetime,
    valid_until: datetime,
) -> HTMLResponse:
    items = "".join(
        f'<li class="account">{escape(a.label)}, {escape(a.currency)} {_masked(a.number)}</li>'
        for a in accounts
    )
    scope = (
        "<p>All your accounts, including any you open later:</p>"
        if everything
        else "<p>These accounts only:</p>"
    )
    body = (
        f"<p>The application <code>{escape(consumer_id)}</code> asks to read the balances "
        "and transactions of your accounts.</p>"
        f'{scope}<ul id="accounts">{items}</ul>'
        f'<p id="validity">From {valid_from:%Y-%m-%d %H:%M} UTC '
        f"until {valid_until:%Y-%m-%d %H:%M} UTC.</p>"
    )
    buttons = (
        '<button type="submit" name="decision" value="approve" id="approve">Approve</button>'
        '<button type="submit" name="decision" value="refuse" id="refuse">Refuse</button>'
    )
    return page("Review access", body + _form("/bank/consent/decision", csrf, buttons))


def _masked_phone(phone: str) -> str:
    return f"{phone[:4]} ••• •• {phone[-2:]}"


def code(csrf: str, phone: str, error: str | None = None, status: int = 200) -> HTMLResponse:
    intro = f"<p>We sent a 6-digit code by SMS to {escape(_masked_phone(phone))}.</p>"
    fields = (
        '<label>Code <input id="code" name="code" inputmode="numeric" '
        'autocomplete="one-time-code" required></label>'
        '<button type="submit" id="confirm">Confirm</button>'
    )
    return page(
        "Confirm with the SMS code",
        intro + _error(error) + _form("/bank/consent/code", csrf, fields),
        status,
    )


def ended(title: str, message: str, back_url: str | None, status: int) -> HTMLResponse:
    """A dead end with the reason, and the way back to the app where there is one."""
    back = (
        f'<p><a id="back" href="{escape(back_url)}">Return to the app</a></p>' if back_url else ""
    )
    return page(title, f'<p class="error" id="error">{escape(message)}</p>{back}', status)
