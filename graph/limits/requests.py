"""Rate limits on API requests (GraphQL and REST): a token bucket per consent and one per
client, taken together or not at all. A GraphQL request costs its query cost (graph/cost.py),
a REST request the number of values it answers with; every request at least 1.

Development consents have no client: only their consent's bucket applies. When the shared
backend (Redis) does not answer, requests pass and the log says so: reads are audited and
bounded by the cost limit anyway, and an outage of Redis should not be one of the API.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from graph.audit.trail import Trail
from graph.auth.principal import ConsentGrant
from graph.core.errors import BadUserInput, PublicError, RateLimited
from graph.limits.buckets import (
    BucketPolicy,
    Decision,
    RateLimiter,
    RateLimiterUnavailable,
    client_key,
    consent_key,
    limiter_from_url,
    take_all,
)
from graph.settings import Settings

if TYPE_CHECKING:
    from graph.context import Context

log = logging.getLogger("graph.limits.buckets")


class RequestLimits:
    def __init__(
        self, per_consent: RateLimiter, per_client: RateLimiter, failed_auth_per_ip: RateLimiter
    ) -> None:
        self.per_consent = per_consent
        self.per_client = per_client
        self.failed_auth_per_ip = failed_auth_per_ip

    @classmethod
    def from_settings(cls, settings: Settings) -> RequestLimits:
        def limiter(capacity: int, per_second: float) -> RateLimiter:
            return limiter_from_url(settings.redis_url, BucketPolicy(capacity, per_second))

        # One prefix for both is safe: their keys differ (consent:N, client:ID).
        return cls(
            limiter(settings.rate_per_consent_capacity, settings.rate_per_consent_per_second),
            limiter(settings.rate_per_client_capacity, settings.rate_per_client_per_second),
            limiter(
                settings.rate_failed_auth_per_ip_per_minute,
                settings.rate_failed_auth_per_ip_per_minute / 60,
            ),
        )

    async def failed_auth_flood(self, ip: str) -> bool:
        """Charges a failed authentication to its address; True once the address is over
        its rate (the caller stops recording them)."""
        try:
            decision = await self.failed_auth_per_ip.take(f"ip:{ip.replace(' ', '')}")
        except RateLimiterUnavailable:
            return False
        if not decision.allowed:
            log.warning("failed authentications from %s over the rate: not audited", ip)
        return not decision.allowed

    async def charge_unread(self, consent_id: int | None, ip: str, cost: int) -> Decision | None:
        """Charges a request refused before it was read (its body too large): to the consent
        its token names when that token is genuine, else to its address as a failed
        authentication. The decision, for the response headers; None when not charged to a
        consent (or the limiter is unavailable)."""
        if consent_id is None:
            await self.failed_auth_flood(ip)
            return None
        try:
            return await take_all([(self.per_consent, consent_key(consent_id))], max(1, cost))
        except RateLimiterUnavailable:
            log.warning("API rate limiter unavailable; refusal not charged", exc_info=True)
            return None

    async def refusal(self, consent: ConsentGrant, cost: int, trail: Trail) -> PublicError | None:
        """Charges `cost` to the consent's buckets; the error to answer with when refused.
        The decision goes on the trail, for the response headers."""
        pairs = [(self.per_consent, consent_key(consent.id))]
        if consent.client_id is not None:
            pairs.append((self.per_client, client_key(consent.client_id)))
        try:
            decision = await take_all(pairs, max(1, cost))
        except RateLimiterUnavailable:
            log.warning("API rate limiter unavailable; request allowed", exc_info=True)
            return None
        trail.rate_limit = decision
        if decision.too_costly:
            # Waiting cannot help: it is the request, not the rate.
            return BadUserInput(
                f"The request costs {cost}, more than the rate limit allows at once "
                f"({decision.limit}): ask for smaller pages or fewer fields."
            )
        if not decision.allowed:
            return RateLimited(
                f"Rate limit exceeded; retry after {decision.retry_after} s.",
                retryAfter=decision.retry_after,
            )
        return None

    async def admit(self, context: Context, cost: int) -> PublicError | None:
        """The GraphQL side: `QueryCost` calls it with the cost it computed."""
        return await self.refusal(context.principal.consent, cost, context.trail)

    async def aclose(self) -> None:
        await self.per_consent.aclose()
        await self.per_client.aclose()
        await self.failed_auth_per_ip.aclose()
