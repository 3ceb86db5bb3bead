"""OBP error messages and the exception that carries one to the HTTP edge.

Messages are OBP's own texts (ErrorMessages.scala); clients match on the `OBP-NNNNN`
prefix. The HTTP status follows OBP's `errorToCode`: 400 unless listed below.
"""

from __future__ import annotations

USER_NOT_LOGGED_IN = "OBP-20001: User not logged in. Authentication is required!"
DIRECT_LOGIN_MISSING = "OBP-20002: These DirectLogin parameters are missing:"
DIRECT_LOGIN_INVALID = "OBP-20003: This DirectLogin token is invalid or expired:"
INVALID_LOGIN = "OBP-20004: Invalid login credentials. Check username/password."
INVALID_CONSUMER_KEY = "OBP-20008: Invalid Consumer Key."
NO_VIEW_ACCESS = (
    "OBP-20017: Current user does not have access to the view. "
    "Please specify a valid value for VIEW_ID."
)
VIEW_DOES_NOT_PERMIT = "OBP-20022: View does not permit the access."
INVALID_JSON = "OBP-10001: Incorrect json format."
TOO_MANY_REQUESTS = "OBP-10018: Too Many Requests."
SORT_DIRECTION = "OBP-10023: obp_sort_direction parameter can only take two values: DESC or ASC!"
OFFSET = "OBP-10024: wrong value for obp_offset parameter. Please send a positive integer (=>0)!"
LIMIT = "OBP-10025: wrong value for obp_limit parameter. Please send a positive integer (=>1)!"
DATE_FORMAT = (
    "OBP-10026: Failed to parse date string. Please use this format yyyy-MM-dd'T'HH:mm:ss.SSS'Z'!"
)
NOT_FOUND = (
    "OBP-10404: 404 Not Found. The server could not find the requested URI. "
    "Please double check your URL, headers and body."
)
METHOD_NOT_ALLOWED = "OBP-10405: Resource does not exist."
BANK_NOT_FOUND = "OBP-30001: Bank not found. Please specify a valid value for BANK_ID."
ACCOUNT_NOT_FOUND = (
    "OBP-30018: Bank Account not found. Please specify valid values for BANK_ID and ACCOUNT_ID."
)
TRANSACTION_NOT_FOUND = (
    "OBP-30067: Transaction not found. Please specify a valid value for TRANSACTION_ID."
)
CONSENT_NOT_FOUND = "OBP-35001: Consent not found by CONSENT_ID."
CONSENT_NOT_YET_VALID = "OBP-35002: The time Consent-ID token was issued is set in the future."
CONSENT_EXPIRED = "OBP-35003: Consent-Id is expired."
CONSENT_NOT_VERIFIED = "OBP-35004: Consent-Id JWT value couldn't be verified."
CONSENT_STATUS = "OBP-35005: Consent-Id is not in status"
CONSENT_HEADER_MISSING = "OBP-35008: Cannot get Consent-Id."
SCA_METHODS = "OBP-35009: Only SMS, EMAIL and IMPLICIT are supported as SCA methods."
CONSENT_ALREADY_REVOKED = "OBP-35012: Consent is already revoked."
ROLES_IN_CONSENT = "OBP-35013: Consents can only contain Roles that you already have access to."
VIEWS_IN_CONSENT = "OBP-35014: Consents can only contain Views that you already have access to."
CONSUMER_MISMATCH = "OBP-35015: The Consent does not match a valid Consumer."
CONSUMER_KEY_MISSING = (
    "OBP-35016: The Consumer-Key request header is missing. The request header must contain "
    "the Consumer-Key of the Consumer that was used to create the Consent."
)
CONSUMER_NOT_FOUND = "OBP-35018: The Consumer specified in this consent cannot be found."
CONSENT_MAX_TTL = "OBP-35020: You exceeded max value of time to live of consents."
CONSENT_DOES_NOT_MATCH_USER = "OBP-35023: The Consent does not match a valid User."
CONSENT_REQUEST_NOT_FOUND = "OBP-35028: Consent Request not found by CONSENT_REQUEST_ID."
CONSENT_REQUEST_INVALID = "OBP-35029: The CONSENT_REQUEST_ID is invalid."
CONSENT_HEADER_INVALID = (
    "OBP-35032: The Consent's Request Header value is not formatted as UUID or JWT."
)
UNKNOWN_ERROR = "OBP-50000: Unknown Error."

_STATUS = {
    "OBP-20001": 401,
    "OBP-20003": 401,
    "OBP-20004": 401,
    "OBP-20008": 401,
    "OBP-20017": 403,
    "OBP-10018": 429,
    "OBP-10404": 404,
    "OBP-10405": 405,
    "OBP-30001": 404,
    "OBP-30018": 404,
    "OBP-35003": 401,  # OBP-API answers an expired consent with 401 (ErrorUtil.apiFailureToBox)
    "OBP-35005": 401,
    "OBP-50000": 500,
}


class ObpError(Exception):
    """An OBP failure: `{"code": status, "message": "OBP-NNNNN: text detail"}`."""

    def __init__(
        self,
        message: str,
        detail: str = "",
        *,
        status: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.message = f"{message} {detail}".strip()
        self.status = status or _STATUS.get(message[:9], 400)
        self.headers = headers or {}
        super().__init__(self.message)
