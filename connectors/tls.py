"""TLS towards banks: the client certificate OBP deployments check (mutual TLS), the CA
bundle that verifies the bank, and which TLS failures mean the bank refused our
configuration rather than a passing network fault.

Provider-neutral: the factory hands a `BankTls` to whichever client it builds.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

import certifi

from connectors.errors import UpstreamConfigurationError

# Failures of the connection itself, not a verdict on our certificate: the ssl module
# raises these for a socket that ended, not for an alert the bank sent.
_NOT_A_VERDICT = (
    ssl.SSLWantReadError,
    ssl.SSLWantWriteError,
    ssl.SSLSyscallError,
    ssl.SSLEOFError,
    ssl.SSLZeroReturnError,
)
# After the handshake only these speak of our certificate; other ssl errors there (a
# record after close_notify, a bad MAC) are the connection's.
_VERDICT_WORDS = ("ALERT", "CERTIFICATE")


@dataclass(frozen=True, slots=True)
class BankTls:
    """One SSL context for every bank call of the process: built once, reused by each
    client (loading the files and the CA bundle costs more than a request)."""

    context: ssl.SSLContext
    # Whether a client certificate is presented: refusals say which case they are.
    client_certificate: bool

    @classmethod
    def load(
        cls,
        *,
        cert_file: Path | None = None,
        key_file: Path | None = None,
        key_password: str | None = None,
        ca_file: Path | None = None,
    ) -> BankTls:
        """The bank is verified against `ca_file`, else certifi's bundle (httpx's default);
        `cert_file` (PEM, the chain after the leaf) and `key_file` go together. Raises
        UpstreamConfigurationError naming the file that cannot be used, never its content."""
        if (cert_file is None) != (key_file is None):
            raise UpstreamConfigurationError("a client certificate needs both its cert and key")
        try:
            context = ssl.create_default_context(cafile=str(ca_file or certifi.where()))
        except (OSError, ssl.SSLError) as exc:
            raise UpstreamConfigurationError(
                f"the CA bundle {ca_file} cannot be loaded: {_reason(exc)}"
            ) from None
        if cert_file is not None and key_file is not None:
            try:
                context.load_cert_chain(cert_file, key_file, password=key_password or None)
            except (OSError, ssl.SSLError) as exc:
                # The password never appears: only the file names and OpenSSL's reason.
                raise UpstreamConfigurationError(
                    f"the client certificate {cert_file} with key {key_file} cannot be "
                    f"loaded: {_reason(exc)}"
                ) from None
        return cls(context, client_certificate=cert_file is not None)


def _reason(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None)
    return str(reason or getattr(exc, "strerror", None) or type(exc).__name__)


def _ssl_errors(exc: BaseException) -> list[ssl.SSLError]:
    """The ssl errors under a transport failure (httpx wraps httpcore wraps anyio wraps ssl)."""
    found: list[ssl.SSLError] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ssl.SSLError):
            found.append(current)
        current = current.__cause__ or current.__context__
    return found


@dataclass(frozen=True, slots=True)
class TlsRefusal:
    """A transport failure read as the bank refusing our TLS configuration."""

    message: str
    # An abrupt end of the handshake may also be a passing fault: worth a retry first.
    retry: bool


def tls_refusal(
    exc: BaseException, *, client_certificate: bool, in_handshake: bool
) -> TlsRefusal | None:
    """What a transport failure says about our TLS configuration, or None when it is an
    ordinary network failure.

    - An alert or a verification failure (`CERTIFICATE_VERIFY_FAILED`, `..._UNKNOWN_CA`,
      `..._CERTIFICATE_REQUIRED`, `..._HANDSHAKE_FAILURE`, `..._BAD_CERTIFICATE`, ...), or
      any other ssl error inside the handshake (no shared protocol or cipher, a plain HTTP
      port), is a verdict: no retry.
    - The bank ending the connection inside the handshake without an alert (asyncio
      servers, some proxies, never send theirs) most likely refused the certificate too,
      but a proxy restarting looks the same: retried first, reported as configuration when
      it persists.
    """
    errors = _ssl_errors(exc)
    which = "our client certificate" if client_certificate else "no client certificate"
    for error in errors:
        if isinstance(error, ssl.SSLCertVerificationError):
            return TlsRefusal(
                f"the bank's TLS certificate does not verify against our CA bundle: "
                f"{error.verify_message or _reason(error)}",
                retry=False,
            )
        if isinstance(error, _NOT_A_VERDICT):
            continue
        reason = _reason(error)
        if in_handshake or any(word in reason.upper() for word in _VERDICT_WORDS):
            return TlsRefusal(
                f"the bank refused the TLS handshake with {which}: {reason}", retry=False
            )
    if in_handshake and errors:
        return TlsRefusal(
            f"the bank ended the TLS handshake with {which}, without an alert: most "
            "likely it requires a client certificate it trusts",
            retry=True,
        )
    return None
