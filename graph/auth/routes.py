"""The auth routes to mount in the app: OAuth endpoints and the customer's pages."""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from graph.auth.consent.authorize import AuthorizeFlow
from graph.auth.consent.manage import ManageConsents
from graph.auth.oauth.endpoints import OAuthEndpoints
from graph.auth.runtime import Auth, AuthConfig
from graph.server.services import Services


def auth_routes(services: Services, config: AuthConfig | None = None) -> list[BaseRoute]:
    auth = Auth(services, config or AuthConfig())
    oauth = OAuthEndpoints(auth)
    flow = AuthorizeFlow(auth)
    manage = ManageConsents(auth)
    post = ["POST"]
    return [
        Route("/auth/token", oauth.token, methods=post),
        Route("/auth/revoke", oauth.revoke, methods=post),
        Route("/auth/authorize", flow.start, methods=["GET"]),
        Route("/auth/flow", flow.show, methods=["GET"]),
        Route("/auth/flow/phone", flow.phone, methods=post),
        Route("/auth/flow/code", flow.code, methods=post),
        Route("/auth/flow/pin", flow.pin, methods=post),
        Route("/auth/flow/resend", flow.resend, methods=post),
        Route("/auth/flow/restart", flow.kit.restart, methods=post),
        Route("/auth/flow/decide", flow.decide, methods=post),
        Route("/auth/flow/bank", flow.bank, methods=post),
        Route("/auth/flow/bank/callback", flow.bank_callback, methods=["GET"]),
        Route("/auth/consents", manage.show, methods=["GET"]),
        Route("/auth/consents/phone", manage.phone, methods=post),
        Route("/auth/consents/code", manage.code, methods=post),
        Route("/auth/consents/resend", manage.resend, methods=post),
        Route("/auth/consents/restart", manage.kit.restart, methods=post),
        Route("/auth/consents/revoke", manage.revoke, methods=post),
    ]
