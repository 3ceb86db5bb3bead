"""No token, code or secret reaches a log line (graph.server.logs): uvicorn's access log as
`alif-graph serve` configures it, and every other record."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from graph.server.logs import REDACTED, ScrubSecrets, log_config, scrub

SECRETS = {
    "access_token": "eyJhbGciOiJIUzI1NiJ9.c2VjcmV0.sig-AAA",
    "refresh_token": "rt-BBB",
    "token": "tk-CCC",
    "code": "code-DDD",
    "code_verifier": "verifier-EEE",
    "client_secret": "cs-FFF",
    "password": "pw-GGG",
    "consumer_key": "ck-HHH",
}
KEPT = {"type": "utility", "state": "xyz-state", "client_id": "app-1", "lang": "tg"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


DOWNLOAD_TOKEN = "eyJhY2NvdW50X2lkIjo5LCJ1c2VyX2lkIjo3fQ.c2lnbmF0dXJlLW9mLXRoZS1saW5r"


def test_the_access_log_of_serve_has_no_secrets(tmp_path: Path):
    env = {
        **os.environ,
        "ALIF_GRAPH_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'logs.db'}",
        "ALIF_GRAPH_SECRET_KEY": "s" * 40,
        "ALIF_GRAPH_ENV": "development",
    }
    # The command line as an operator runs it: this interpreter, fixed arguments.
    cli = [sys.executable, "-m", "graph.cli.main"]
    subprocess.run(  # noqa: S603
        [*cli, "db", "upgrade"], env=env, cwd=tmp_path, check=True, capture_output=True
    )
    port = free_port()
    server = subprocess.Popen(  # noqa: S603
        [*cli, "serve", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                httpx.get(f"{base}/healthz")
                break
            except httpx.TransportError:
                time.sleep(0.05)
        params = {**SECRETS, **KEPT}
        for path in ("/graphql", "/api/v1/alif/transactions", "/auth/authorize", "/healthz"):
            httpx.get(base + path, params=params)
        httpx.post(
            f"{base}/graphql?access_token={SECRETS['access_token']}", json={"query": "{ x }"}
        )
        # A statement download link is a credential in the path itself.
        httpx.get(f"{base}/api/v1/exports/{DOWNLOAD_TOKEN}")
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=20)

    access = [line for line in output.splitlines() if "?" in line and " HTTP/1.1" in line]
    assert len(access) == 5, output
    for value in SECRETS.values():
        assert value not in output
    for name in SECRETS:
        assert all(f"{name}={REDACTED}" in line for line in access[:4]), access
    for name, value in KEPT.items():
        assert all(f"{name}={value}" in line for line in access[:4]), access
    assert DOWNLOAD_TOKEN not in output
    assert f"GET /api/v1/exports/{REDACTED} HTTP/1.1" in output, output


@pytest.mark.parametrize(
    ("text", "scrubbed"),
    [
        (
            "GET /graphql?access_token=abc&type=card",
            f"GET /graphql?access_token={REDACTED}&type=card",
        ),
        ("/cb?code=123&state=s1", f"/cb?code={REDACTED}&state=s1"),
        ("access%5Ftoken=abc", f"access%5Ftoken={REDACTED}"),
        ("Authorization: Bearer eyJ.abc.def", f"Authorization: Bearer {REDACTED}"),
        ("pin=1234 otp=9999 first=10", f"pin={REDACTED} otp={REDACTED} first=10"),
        (
            "https://bank.example/x?ClientSecret=Z#f",
            f"https://bank.example/x?ClientSecret={REDACTED}#f",
        ),
        ("GET /api/v1/exports/eyJh.x-_Y HTTP/1.1", f"GET /api/v1/exports/{REDACTED} HTTP/1.1"),
        ("/api/v1/exports/a.b?x=1", f"/api/v1/exports/{REDACTED}?x=1"),
        ("/api/v1/exports/", "/api/v1/exports/"),
        ("nothing to see", "nothing to see"),
    ],
)
def test_scrub(text: str, scrubbed: str):
    assert scrub(text) == scrubbed


def test_every_record_is_scrubbed_where_the_secret_is_split_across_arguments():
    logger = logging.getLogger("graph.test.logs")
    try:
        raise RuntimeError("GET https://bank.example/?token=tk-CCC failed")
    except RuntimeError:
        record = logger.makeRecord(
            logger.name,
            logging.ERROR,
            __file__,
            1,
            "asked %s with code=%s",
            ("bank", "c-1"),
            sys.exc_info(),
        )

    assert ScrubSecrets().filter(record)
    text = logging.Formatter().format(record)

    assert "c-1" not in text and "tk-CCC" not in text
    assert f"asked bank with code={REDACTED}" in text and f"token={REDACTED}" in text


def test_every_handler_and_the_root_are_scrubbed():
    config = log_config()

    assert all("scrub_secrets" in h["filters"] for h in config["handlers"].values())
    assert config["root"]["handlers"] == ["default"]
