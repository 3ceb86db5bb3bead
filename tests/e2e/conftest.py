"""Browser tests: the real app under uvicorn on a free port, driven by a real headless
Chromium (Debian's `chromium`) through Playwright.

Without Chromium (or Playwright) the tests skip with the reason, except under CI=true,
where the browser tests are mandatory and fail instead.
"""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from connectors.keys import Keyring
from graph.auth.consent.sms import DevelopmentSender
from graph.auth.oauth import clients
from graph.auth.runtime import AuthConfig
from graph.cli.dev.demo import serving
from graph.server.app import create_app
from graph.settings import Settings

from ..graph.auth.support import Clock, add_customer

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SECRET = "e2e-secret-key-with-enough-entropy-0123456789"
KEYS = Keyring(SECRET)
PHONE = "+992900000001"


def _chromium() -> str | None:
    for candidate in ("/usr/bin/chromium", shutil.which("chromium")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"browser tests are mandatory under CI=true: {reason}")
    pytest.skip(reason)


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    executable = _chromium()
    if executable is None:
        _unavailable("no Chromium: apt-get install -y chromium")
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        _unavailable("Playwright is not installed: pip install -e '.[test]'")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()


@dataclass
class LiveApi:
    base_url: str
    sender: DevelopmentSender
    clock: Clock
    client_id: str
    client_secret: str
    redirect_uri: str
    sessions: async_sessionmaker[AsyncSession]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
async def live_api(
    db_url: str, engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[LiveApi]:
    async with sessions.begin() as session:
        await add_customer(session, PHONE, ("TJS", "USD"))
    port = _free_port()
    # The app's callback: on this server (a 404 page, but the browser's URL tells the code).
    redirect_uri = f"http://127.0.0.1:{port}/app/callback"
    async with sessions.begin() as session:
        new = await clients.create(session, name="Budget App", redirect_uris=[redirect_uri])
    sender, clock = DevelopmentSender(reveal_codes=True), Clock()
    settings = Settings(database_url=db_url, secret_key=SECRET)
    app = create_app(settings, engine=engine, auth=AuthConfig(sender=sender, clock=clock))
    async with serving(app, "127.0.0.1", port):
        yield LiveApi(
            f"http://127.0.0.1:{port}",
            sender,
            clock,
            new.client.client_id,
            new.secret,
            redirect_uri,
            sessions,
        )
