"""A restarted sandbox bank still honours the consents it granted (its own SQLite file)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import httpx

from connectors.sandbox.__main__ import main
from connectors.sandbox.app import create_app
from connectors.sandbox.config import SandboxConfig

AS_OF = datetime(2026, 6, 30, 12, tzinfo=UTC)


def _bank(state: Path | None) -> httpx.AsyncClient:
    app = create_app(SandboxConfig(seed=3, as_of=AS_OF, state_file=state))
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sandbox")


async def _login(client: httpx.AsyncClient, username: str) -> str:
    bank = client._transport.app.state.bank  # type: ignore[attr-defined]
    customer = bank.customer(username)
    header = (
        f'username="{username}", password="{customer.password}", consumer_key="{bank.consumer_key}"'
    )
    answer = await client.post("/my/logins/direct", headers={"DirectLogin": header})
    assert answer.status_code == 201, answer.text
    return str(answer.json()["token"])


async def _accepted_consent(client: httpx.AsyncClient, username: str) -> tuple[str, str]:
    token = await _login(client, username)
    bank = client._transport.app.state.bank  # type: ignore[attr-defined]
    auth = {"DirectLogin": f'token="{token}"'}
    body = {"everything": True, "views": [], "entitlements": [], "time_to_live": 3000}
    made = await client.post(
        f"/obp/v5.1.0/banks/{bank.bank_id}/my/consents/SMS", json=body, headers=auth
    )
    assert made.status_code == 201, made.text
    consent_id = made.json()["consent_id"]
    code = bank.consent(consent_id).sca_code
    answered = await client.post(
        f"/obp/v5.1.0/banks/{bank.bank_id}/consents/{consent_id}/challenge",
        json={"answer": code},
        headers=auth,
    )
    assert answered.json()["status"] == "ACCEPTED"
    return consent_id, made.json()["jwt"]


async def _accounts_with(client: httpx.AsyncClient, jwt: str) -> httpx.Response:
    bank = client._transport.app.state.bank  # type: ignore[attr-defined]
    headers = {"Consent-JWT": jwt, "Consumer-Key": bank.consumer_key}
    return await client.get("/obp/v5.1.0/my/accounts", headers=headers)


async def test_consents_survive_a_restart_with_their_status(tmp_path: Path) -> None:
    state = tmp_path / "bank.sqlite"
    async with _bank(state) as first:
        kept_id, kept = await _accepted_consent(first, "dilnoza")
        gone_id, gone = await _accepted_consent(first, "farrukh")
        bank = first._transport.app.state.bank  # type: ignore[attr-defined]
        bank.revoke_consent(bank.consent(gone_id))
        before = (await _accounts_with(first, kept)).json()

    async with _bank(state) as restarted:
        again = await _accounts_with(restarted, kept)
        assert again.status_code == 200 and again.json() == before
        refused = await _accounts_with(restarted, gone)
        assert refused.status_code == 401 and "OBP-35" in refused.json()["message"]
        bank = restarted._transport.app.state.bank  # type: ignore[attr-defined]
        assert bank.consent(kept_id).status == "ACCEPTED"
        assert bank.consent(gone_id).status == "REVOKED"


async def test_without_a_state_file_a_restart_forgets(tmp_path: Path) -> None:
    async with _bank(None) as first:
        _, jwt = await _accepted_consent(first, "dilnoza")
        assert (await _accounts_with(first, jwt)).status_code == 200
    async with _bank(None) as restarted:
        assert (await _accounts_with(restarted, jwt)).status_code in (400, 401)


def test_a_state_file_that_cannot_be_opened_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "not-a-db").write_text("plain text")
    for bad in (tmp_path / "missing" / "bank.sqlite", tmp_path / "not-a-db"):
        try:
            main(["--state-file", str(bad), "--port", "0"])
        except SystemExit as exc:
            assert str(exc.code).startswith("python -m connectors.sandbox: error: --state-file:")
        else:
            raise AssertionError("the bank started on an unusable state file")
