"""What the auth endpoints share for the life of the process, assembled once at start.

`AuthConfig` holds the parts tests and the demo replace (the code sender, the clock, the
bank's transport, the flow store); `Auth` builds the rest from the settings.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import httpx
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request

from graph.auth.consent.bank_link import BankLinker
from graph.auth.consent.flows import CookieSigner, FlowStore, store_from_url
from graph.auth.consent.sms import CodeSender, sender_for
from graph.limits.buckets import (
    BucketPolicy,
    Decision,
    RateLimiter,
    RateLimiterUnavailable,
    limiter_from_url,
    take_all,
)
from graph.server.services import Services, client_ip, request_id
from ledger import audit
from ledger.types import utcnow

log = logging.getLogger("graph.auth")

# Codes sent to one phone: 5 at once, then one every 5 minutes (SMS cost, and guessing
# across many fresh codes).
SMS_POLICY = BucketPolicy(capacity=5, refill_per_second=1 / 300)
# Page submissions (phone, code) from one address.
PAGE_POLICY = BucketPolicy(capacity=30, refill_per_second=0.5)


@dataclass
class AuthConfig:
    sender: CodeSender | None = None
    clock: Callable[[], datetime] = utcnow
    bank_transport: httpx.AsyncBaseTransport | None = None
    flows: FlowStore | None = None


def _per_minute(count: int) -> BucketPolicy:
    return BucketPolicy(capacity=count, refill_per_second=count / 60)


class Auth:
    def __init__(self, services: Services, config: AuthConfig) -> None:
        settings = services.settings
        self.settings = settings
        self.keys = services.keys
        self.sessions = services.sessions
        self.bank_access = services.bank  # the bank calls the consents page makes itself
        self.clock = config.clock
        self.sender = config.sender or sender_for(settings.is_production)
        if config.sender is None and settings.is_production:
            log.warning("no SMS gateway configured: one-time codes are not delivered")
        self.flows = config.flows or store_from_url(settings.redis_url)
        self.flow_cookie = CookieSigner(services.keys, "authorize")
        self.manage_cookie = CookieSigner(services.keys, "manage")
        self.secure_cookies = settings.is_production
        self.bank = BankLinker.from_settings(
            settings,
            sessions=services.sessions,
            keys=services.keys,
            transport=config.bank_transport,
        )

        def limiter(policy: BucketPolicy, name: str) -> RateLimiter:
            prefix = f"alif-graph:rl:auth:{name}:"
            return limiter_from_url(settings.redis_url, policy, prefix=prefix)

        self.token_by_client = limiter(
            _per_minute(settings.auth_rate_per_client_per_minute), "token-client"
        )
        self.token_by_ip = limiter(_per_minute(settings.auth_rate_per_ip_per_minute), "token-ip")
        self.pages_by_ip = limiter(PAGE_POLICY, "pages-ip")
        self.sms_by_phone = limiter(SMS_POLICY, "sms-phone")

    async def limit(self, pairs: Sequence[tuple[RateLimiter, str]]) -> Decision | None:
        """The refusal when over a limit, else None. A limiter backend that fails lets the
        request through: code attempts are counted in the database regardless."""
        try:
            decision = await take_all(pairs)
        except RateLimiterUnavailable:
            log.warning("auth rate limiter unavailable; request allowed", exc_info=True)
            return None
        return None if decision.allowed else decision

    async def audit(
        self,
        session: AsyncSession,
        request: Request,
        operation: str,
        outcome: str,
        *,
        client_id: str | None = None,
        user_id: int | None = None,
        consent_id: int | None = None,
        scopes: Sequence[str] = (),
    ) -> None:
        """One audit row for an auth event; no token, code or secret ever goes in."""
        await audit.record(
            session,
            audit.AuditRecord(
                operation=operation,
                outcome=outcome,
                request_id=request_id(request),
                client_id=client_id,
                user_id=user_id,
                consent_id=consent_id,
                scopes=scopes,
                ip=client_ip(request),
            ),
            at=self.clock(),
        )


def ip_key(request: Request) -> str:
    return f"ip:{client_ip(request) or 'unknown'}"


def phone_key(phone: str) -> str:
    # A digest: phone numbers are personal data and keys reach Redis and logs.
    return "phone:" + hashlib.sha256(phone.encode()).hexdigest()[:32]
