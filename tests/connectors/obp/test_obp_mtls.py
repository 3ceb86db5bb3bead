"""Mutual TLS towards the bank: the client certificate goes on every call, and every way a
bank refuses it (the TLS handshake, OBP's certificate codes, a TLS proxy's page) is one
typed configuration error. The sandbox serves real HTTPS requiring a client certificate
signed by a CA made here, with the `cryptography` package, for each test."""

from __future__ import annotations

import asyncio
import io
import ipaddress
import socket
import ssl
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from typer.testing import CliRunner

from connectors.credentials import Credentials, encrypt
from connectors.errors import ReauthRequired, UpstreamConfigurationError, UpstreamUnavailable
from connectors.factory import institution_of, open_connector
from connectors.keys import Keyring
from connectors.sandbox import server
from connectors.sandbox.__main__ import parse_tls
from connectors.sandbox.app import create_app
from connectors.sandbox.config import SandboxConfig
from connectors.sandbox.server import SandboxTls, uvicorn_config
from connectors.sync import SyncEngine
from connectors.tls import BankTls
from graph.cli.main import app as cli
from graph.settings import Settings, get_settings
from ledger import connections, consents
from ledger.models import Connection, table
from ledger.types import utcnow

from ..sync_kit import AS_OF, Clock
from .conftest import ROOT

SECRET = "mtls-test-secret"
KEYS = Keyring(SECRET)
PASSWORD = b"key-password-7f3a"


# -- a certificate authority made for the test ------------------------------------------


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _builder(subject: str, issuer: x509.Name, key: ec.EllipticCurvePrivateKey, days: int):
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=days))
    )


@dataclass
class Authority:
    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate

    @classmethod
    def create(cls, name: str) -> Authority:
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (
            _builder(name, _name(name), key, 30)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .sign(key, hashes.SHA256())
        )
        return cls(key, cert)

    def issue(self, subject: str, *, server: bool) -> tuple[ec.EllipticCurvePrivateKey, bytes]:
        key = ec.generate_private_key(ec.SECP256R1())
        usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
        builder = _builder(subject, self.cert.subject, key, 1).add_extension(
            x509.ExtendedKeyUsage([usage]), critical=False
        )
        if server:
            names = [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
        cert = builder.sign(self.key, hashes.SHA256())
        return key, cert.public_bytes(serialization.Encoding.PEM)


@dataclass
class Pki:
    ca_file: Path  # signs the bank's server certificate and the clients it accepts
    server: tuple[Path, Path]
    client: tuple[Path, Path]  # signed by the bank's CA
    rogue: tuple[Path, Path]  # signed by another CA
    encrypted_client: tuple[Path, Path]  # the client's certificate, key under PASSWORD


def _write(
    folder: Path, name: str, key: ec.EllipticCurvePrivateKey, cert: bytes, password: bytes = b""
) -> tuple[Path, Path]:
    encryption = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    key_file, cert_file = folder / f"{name}.key", folder / f"{name}.pem"
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
    )
    cert_file.write_bytes(cert)
    return cert_file, key_file


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    folder = tmp_path_factory.mktemp("pki")
    bank_ca, other_ca = Authority.create("Bank CA"), Authority.create("Other CA")
    ca_file = folder / "ca.pem"
    ca_file.write_bytes(bank_ca.cert.public_bytes(serialization.Encoding.PEM))
    client_key, client_cert = bank_ca.issue("alif-graph", server=False)
    return Pki(
        ca_file=ca_file,
        server=_write(folder, "server", *bank_ca.issue("bank", server=True)),
        client=_write(folder, "client", client_key, client_cert),
        rogue=_write(folder, "rogue", *other_ca.issue("alif-graph", server=False)),
        encrypted_client=_write(folder, "encrypted", client_key, client_cert, PASSWORD),
    )


# -- the sandbox over HTTPS, requiring a client certificate -----------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@asynccontextmanager
async def _serving(config: uvicorn.Config) -> AsyncIterator[None]:
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    try:
        yield
    finally:
        server.should_exit = True
        await task


@dataclass
class HttpsBank:
    url: str
    app: object
    clock: Clock

    @property
    def truth(self):  # the sandbox's own records
        return self.app.state.bank  # type: ignore[attr-defined]

    def creds(self) -> Credentials:
        customer = self.truth.customers[0]
        return Credentials(
            consumer_key=self.truth.consumer_key,
            username=customer.username,
            password=customer.password,
        )


@pytest.fixture
async def bank(pki: Pki) -> AsyncIterator[HttpsBank]:
    clock = Clock()
    app = create_app(SandboxConfig(seed=7, customers=1, months=1, as_of=AS_OF, clock=clock))
    port = _free_port()
    tls = SandboxTls(*pki.server, client_ca_file=pki.ca_file)
    async with _serving(uvicorn_config(app, "127.0.0.1", port, tls, log_level="warning")):
        yield HttpsBank(f"https://127.0.0.1:{port}", app, clock)


def _connector(bank: HttpsBank, tls: BankTls | None, **options):
    return open_connector(
        "alif", bank.url, "alif.tj", bank.creds(), tls=tls, sleep=bank.clock.sleep, **options
    )


async def _link(sessions: async_sessionmaker[AsyncSession], bank: HttpsBank) -> int:
    """A linked customer whose consent (all accounts, given now) lets the service sync."""
    now = utcnow()
    async with sessions.begin() as s:
        connection_id = await connections.link_customer(
            s,
            phone=bank.truth.customers[0].phone,
            institution=institution_of("alif", "alif.tj"),
            provider="alif",
            base_url=bank.url,
            bank_id="alif.tj",
            credentials_encrypted=encrypt(bank.creds(), KEYS),
        )
        conns = table(Connection)
        user_id = (
            await s.execute(select(conns.c.user_id).where(conns.c.id == connection_id))
        ).scalar_one()
        lasting = now + timedelta(days=90)
        consent_id = await consents.create(
            s,
            user_id=user_id,
            client_id=None,
            scopes=frozenset({"accounts:read"}),
            expires_at=lasting,
            now=now,
        )
        await consents.authorise(
            s, consent_id, account_ids=frozenset(), expires_at=lasting, now=now
        )
    return connection_id


async def _status(sessions: async_sessionmaker[AsyncSession], connection_id: int) -> str:
    async with sessions() as s:
        conns = table(Connection)
        return str(
            (
                await s.execute(select(conns.c.status).where(conns.c.id == connection_id))
            ).scalar_one()
        )


# -- over real HTTPS ----------------------------------------------------------------------


async def test_sync_works_with_the_certificate_the_bank_requires(
    pki: Pki, bank: HttpsBank, sessions: async_sessionmaker[AsyncSession]
) -> None:
    connection_id = await _link(sessions, bank)
    tls = BankTls.load(cert_file=pki.client[0], key_file=pki.client[1], ca_file=pki.ca_file)
    connector = _connector(bank, tls)
    try:
        report = await SyncEngine(sessions).sync(connection_id, connector)
    finally:
        await connector.aclose()

    assert report.status == "SUCCEEDED", report.error
    assert report.stats.inserted > 0
    assert await _status(sessions, connection_id) == "ACTIVE"


async def test_an_encrypted_key_is_opened_with_its_password(pki: Pki, bank: HttpsBank) -> None:
    cert, key = pki.encrypted_client
    tls = BankTls.load(
        cert_file=cert, key_file=key, key_password=PASSWORD.decode(), ca_file=pki.ca_file
    )
    connector = _connector(bank, tls)
    try:
        page = await connector.accounts()
    finally:
        await connector.aclose()

    assert page.records


@pytest.mark.parametrize("which", ["missing", "another CA"])
async def test_a_refused_client_certificate_is_a_configuration_error(
    pki: Pki, bank: HttpsBank, sessions: async_sessionmaker[AsyncSession], which: str
) -> None:
    if which == "missing":
        tls = BankTls.load(ca_file=pki.ca_file)
    else:
        tls = BankTls.load(cert_file=pki.rogue[0], key_file=pki.rogue[1], ca_file=pki.ca_file)
    connection_id = await _link(sessions, bank)
    connector = _connector(bank, tls, max_retries=1)
    try:
        report = await SyncEngine(sessions).sync(connection_id, connector)
        with pytest.raises(UpstreamConfigurationError) as caught:
            await connector.accounts()
    finally:
        await connector.aclose()

    error = caught.value
    assert not isinstance(error, ReauthRequired)
    assert "TLS handshake" in error.message
    expected = "no client certificate" if which == "missing" else "our client certificate"
    assert expected in error.message
    assert report.status == "FAILED"
    assert report.error is not None and "TLS handshake" in report.error
    # The deployment's configuration, not the customer's login: no re-link asked for.
    assert await _status(sessions, connection_id) == "ERROR"


async def test_a_bank_our_ca_bundle_does_not_trust_is_refused_without_retry(
    bank: HttpsBank,
) -> None:
    tls = BankTls.load()  # certifi's bundle: the test CA is not in it
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    connector = open_connector("alif", bank.url, "alif.tj", bank.creds(), tls=tls, sleep=sleep)
    try:
        with pytest.raises(UpstreamConfigurationError) as caught:
            await connector.accounts()
    finally:
        await connector.aclose()

    assert "does not verify against our CA bundle" in caught.value.message
    assert caught.value.should_retry is False
    assert slept == []


# -- the command line ----------------------------------------------------------------------

runner = CliRunner()


@pytest.fixture
def env(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    monkeypatch.setenv("ALIF_GRAPH_DATABASE_URL", db_url)
    monkeypatch.setenv("ALIF_GRAPH_SECRET_KEY", SECRET)
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


async def _sync_cli(connection_id: int):
    # The command runs its own event loop: in a thread, beside the bank's.
    return await asyncio.to_thread(runner.invoke, cli, ["sync", "--connection", str(connection_id)])


async def test_cli_sync_sends_the_configured_certificate(
    pki: Pki, bank: HttpsBank, sessions: async_sessionmaker[AsyncSession], env: pytest.MonkeyPatch
) -> None:
    connection_id = await _link(sessions, bank)
    env.setenv("ALIF_GRAPH_BANK_CA_FILE", str(pki.ca_file))
    env.setenv("ALIF_GRAPH_BANK_CLIENT_CERT_FILE", str(pki.client[0]))
    env.setenv("ALIF_GRAPH_BANK_CLIENT_KEY_FILE", str(pki.client[1]))

    result = await _sync_cli(connection_id)

    assert result.exit_code == 0, result.output
    assert "SUCCEEDED" in result.output


async def test_cli_sync_without_the_certificate_says_so_in_one_line(
    pki: Pki, bank: HttpsBank, sessions: async_sessionmaker[AsyncSession], env: pytest.MonkeyPatch
) -> None:
    connection_id = await _link(sessions, bank)
    env.setenv("ALIF_GRAPH_BANK_CA_FILE", str(pki.ca_file))

    result = await _sync_cli(connection_id)

    assert result.exit_code == 1
    # One line (the console folds it at its width), the run's, naming the cause.
    line = " ".join(result.output.split())
    assert line.startswith("run ") and line.count(" FAILED ") == 1, result.output
    assert "the bank ended the TLS handshake with no client certificate" in line


async def test_cli_sync_with_an_unreadable_certificate_is_one_line(
    pki: Pki, env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    env.setenv("ALIF_GRAPH_BANK_CLIENT_CERT_FILE", str(tmp_path / "absent.pem"))
    env.setenv("ALIF_GRAPH_BANK_CLIENT_KEY_FILE", str(pki.client[1]))

    result = await asyncio.to_thread(runner.invoke, cli, ["sync", "--all"])

    assert result.exit_code == 3  # a configuration error (docs/cli.md)
    assert " ".join(result.output.split()) == (
        f"error: bank TLS configuration: the client certificate {tmp_path / 'absent.pem'} "
        f"with key {pki.client[1]} cannot be loaded: No such file or directory"
    )


# -- loading the certificate ------------------------------------------------------------------


def test_a_key_that_does_not_open_names_the_files_never_the_password(pki: Pki) -> None:
    cert, key = pki.encrypted_client
    with pytest.raises(UpstreamConfigurationError) as caught:
        BankTls.load(cert_file=cert, key_file=key, key_password="wrong-password-91c2")

    assert str(key) in caught.value.message
    assert "wrong-password-91c2" not in str(caught.value)


def test_a_key_of_another_certificate_is_refused(pki: Pki) -> None:
    with pytest.raises(UpstreamConfigurationError, match="cannot be loaded"):
        BankTls.load(cert_file=pki.client[0], key_file=pki.rogue[1])


def test_an_unreadable_ca_bundle_is_refused(tmp_path: Path) -> None:
    bundle = tmp_path / "bundle.pem"
    bundle.write_text("not a certificate")
    with pytest.raises(UpstreamConfigurationError, match="CA bundle"):
        BankTls.load(ca_file=bundle)


def test_settings_take_certificate_and_key_together(pki: Pki) -> None:
    with pytest.raises(ValidationError, match="bank_client_key_file"):
        Settings(bank_client_cert_file=pki.client[0])
    with pytest.raises(ValidationError, match="bank_client_key_file"):
        Settings(bank_client_key_password="x")
    both = Settings(bank_client_cert_file=pki.client[0], bank_client_key_file=pki.client[1])
    assert both.bank_client_key_file == pki.client[1]


# -- the bank's answers: OBP's certificate codes, a TLS proxy's page --------------------------


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (400, "OBP-20306: PEM Encoded Certificate cannot be found at request header."),
        (400, "OBP-20302: PEM Encoded Certificate expired."),
        (401, "OBP-20261: The presented client certificate does not match the certificate "
         "binding (cnf.x5t#S256) of the access token. "),
        (401, "OBP-20260: The access token is certificate-bound (cnf.x5t#S256) but no client "
         "certificate was presented with the request. "),
        (403, "OBP-20307: PEM Encoded Certificate does not provide the proper role for the "
         "action has been taken."),
        (400, "OBP-35015: The Consent does not match a valid Consumer. CONSUMER_CERTIFICATE"),
    ],
)  # fmt: skip
async def test_obp_certificate_codes_are_a_configuration_error(
    make_client, obp, status: int, message: str
) -> None:
    accounts = "/obp/v5.1.0/my/accounts"
    obp.route("GET", accounts, obp.error(status, message))
    client = make_client()

    with pytest.raises(UpstreamConfigurationError) as caught:
        await client.my_accounts()

    assert caught.value.status == status
    assert caught.value.code == message[:9]
    assert caught.value.should_retry is False
    assert obp.logins == 1  # no second login: another one would not help
    assert len(obp.to(accounts)) == 1


@pytest.mark.parametrize(
    "page", ["No required SSL certificate was sent", "The SSL certificate error"]
)
async def test_a_tls_proxys_certificate_page_is_a_configuration_error(
    make_client, obp, page: str
) -> None:
    html = f"<html><head><title>400 {page}</title></head><body>nginx</body></html>"
    obp.route("GET", ROOT, httpx.Response(400, text=html, headers={"Content-Type": "text/html"}))

    with pytest.raises(UpstreamConfigurationError, match="TLS proxy refused"):
        await make_client().banks()


async def test_a_tls_alert_after_the_handshake_is_a_configuration_error(make_client, obp) -> None:
    # TLS 1.3 reads a refusal after the handshake; httpcore lets that ssl error through.
    obp.route("GET", ROOT, ssl.SSLError(1, "[SSL: TLSV13_ALERT_CERTIFICATE_REQUIRED]"))

    with pytest.raises(UpstreamConfigurationError, match="refused the TLS handshake") as caught:
        await make_client().banks()

    assert caught.value.should_retry is False


# -- the sandbox's command line ------------------------------------------------------------------


def test_sandbox_flags_ask_for_https_and_client_certificates(pki: Pki) -> None:
    cert, key = pki.server
    argv = ["--tls-cert", str(cert), "--tls-key", str(key), "--client-ca", str(pki.ca_file)]

    assert parse_tls(argv) == SandboxTls(cert, key, client_ca_file=pki.ca_file)
    assert parse_tls([]) is None
    with pytest.raises(SystemExit):
        parse_tls(["--client-ca", str(pki.ca_file)])
    with pytest.raises(SystemExit):
        parse_tls(["--tls-cert", str(cert)])


def test_sandbox_run_serves_https_requiring_client_certificates(
    pki: Pki, monkeypatch: pytest.MonkeyPatch
) -> None:
    served: dict[str, uvicorn.Config] = {}
    monkeypatch.setattr(uvicorn.Server, "run", lambda self: served.update(config=self.config))
    out = io.StringIO()
    tls = SandboxTls(*pki.server, client_ca_file=pki.ca_file)

    server.run(SandboxConfig(as_of=AS_OF), "127.0.0.1", 8443, tls=tls, out=out)

    context = served["config"].ssl
    assert context is not None and context.verify_mode == ssl.CERT_REQUIRED
    assert "https://127.0.0.1:8443/obp/v5.1.0" in out.getvalue()
    assert f"client certificates: required, signed by {pki.ca_file}" in out.getvalue()


async def test_an_ssl_error_after_the_handshake_that_is_no_alert_is_the_connections(
    make_client, obp
) -> None:
    obp.route("GET", ROOT, ssl.SSLError(1, "[SSL: APPLICATION_DATA_AFTER_CLOSE_NOTIFY]"))

    with pytest.raises(UpstreamUnavailable):
        await make_client(max_retries=0).banks()
