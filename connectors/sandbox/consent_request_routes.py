"""OBP's consent-request endpoints (APIMethods500): the consumer asks, the customer grants.

`/consumer/consent-requests` and its reads need application access only (the registered
consumer's Consumer-Key header); turning a request into a consent needs the customer
logged in (a DirectLogin token), as OBP's createConsentByConsentRequestId does.
"""

from __future__ import annotations

import secrets

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from connectors.sandbox import errors, obp_json
from connectors.sandbox.auth import authenticate
from connectors.sandbox.bank import SCA_METHODS
from connectors.sandbox.consent_requests import ConsentRequest
from connectors.sandbox.errors import ObpError
from connectors.sandbox.obp_json import ObpJSONResponse
from connectors.sandbox.web import bank_of, faults_of, json_object

PATH = "/obp/{version}/consumer/consent-requests"


def _application(request: Request) -> str:
    """The calling consumer's key: the one registered consumer, or 401 OBP-20008."""
    key = request.headers.get("consumer-key", "")
    if not secrets.compare_digest(key.encode(), bank_of(request).consumer_key.encode()):
        raise ObpError(errors.INVALID_CONSUMER_KEY)
    return key


def _consumers_request(request: Request, consumer_key: str) -> ConsentRequest:
    """The path's consent request, if this consumer made it (another's reads as missing)."""
    found = bank_of(request).consent_request(request.path_params["consent_request_id"])
    if found.consumer_key != consumer_key:
        raise ObpError(errors.CONSENT_REQUEST_NOT_FOUND)
    return found


async def create_consent_request(request: Request) -> Response:
    consumer_key = _application(request)
    created = bank_of(request).create_consent_request(consumer_key, await json_object(request))
    return ObpJSONResponse(obp_json.consent_request(created), status_code=201)


async def get_consent_request(request: Request) -> Response:
    found = _consumers_request(request, _application(request))
    return ObpJSONResponse(obp_json.consent_request(found))


async def create_consent_by_request(request: Request) -> Response:
    method = request.path_params["sca_method"]
    if method not in SCA_METHODS:
        raise ObpError(errors.SCA_METHODS)
    bank = bank_of(request)
    realm = str(request.base_url).rstrip("/")
    principal = authenticate(
        request.headers, bank, realm, faults_of(request).config.expire_tokens_after
    )
    if principal.consent is not None:
        # A consent grants data access; granting a new consent takes the customer's login.
        raise ObpError(errors.USER_NOT_LOGGED_IN)
    found = bank.consent_request(request.path_params["consent_request_id"])
    consent = bank.consent_for_request(found, principal.user, method)
    return ObpJSONResponse(
        obp_json.consent_v500(consent, found.consent_request_id), status_code=201
    )


async def get_consent_by_request(request: Request) -> Response:
    found = _consumers_request(request, _application(request))
    consent = bank_of(request).consent_of_request(found)
    return ObpJSONResponse(obp_json.consent_v500(consent, found.consent_request_id, with_jwt=False))


def consent_request_routes() -> list[Route]:
    item = f"{PATH}/{{consent_request_id}}"
    return [
        Route(PATH, create_consent_request, methods=["POST"]),
        Route(item, get_consent_request, methods=["GET"]),
        Route(f"{item}/{{sca_method}}/consents", create_consent_by_request, methods=["POST"]),
        Route(f"{item}/consents", get_consent_by_request, methods=["GET"]),
    ]
