"""The broker's exceptions. Each has a stable ``code`` (modelled on the Account Aggregator
spec) and an HTTP ``status``; ``config.api_errors`` turns them into
``{"error": {"code", "message"}}`` in one place. Messages never carry personal data.
"""

from __future__ import annotations


class BrokerError(Exception):
    code = "BrokerError"
    status = 400
    message = "The request could not be served."

    def __init__(self, message: str | None = None, *, headers: dict[str, str] | None = None) -> None:
        if message is not None:
            self.message = message
        self.headers = headers or {}
        super().__init__(self.message)


class ConsentNotFound(BrokerError):
    code, status, message = "ConsentNotFound", 404, "No such consent."


class InvalidConsentStatus(BrokerError):
    code, status, message = "InvalidConsentStatus", 409, "The consent is not in a state that allows this."


class ConsentTermsImmutable(BrokerError):
    code, status, message = "InvalidConsentStatus", 409, "Agreed terms never change: ask for a new consent."


class ConsentPaused(BrokerError):
    code, status, message = "ConsentPaused", 403, "The person has paused this consent."


class ConsentRevoked(BrokerError):
    code, status, message = "ConsentRevoked", 403, "The person has revoked this consent."


class ConsentExpired(BrokerError):
    code, status, message = "ConsentExpired", 403, "This consent has expired."


class ConsentNotActive(BrokerError):
    code, status, message = "InvalidConsentStatus", 403, "This consent is not active."


class ScopeNotGranted(BrokerError):
    code, status, message = "ScopeNotGranted", 403, "The consent does not cover this kind of data."


class InvalidDateRange(BrokerError):
    code, status, message = "InvalidDateRange", 400, "The requested time range is outside the consent's data range."


class FrequencyExceeded(BrokerError):
    code, status, message = "FrequencyExceeded", 429, "The consent's access frequency limit is reached."


class InvalidConsentPurpose(BrokerError):
    code, status, message = "InvalidConsentPurpose", 400, "Unknown purpose code: see /api/v1/purposes."


class InvalidConsentRequest(BrokerError):
    code, status, message = "InvalidConsentRequest", 400, "The consent request is not valid."


class InvalidCursor(BrokerError):
    code, status, message = "InvalidCursor", 400, "The page cursor is not valid."


class IdempotencyError(BrokerError):
    code, status, message = "IdempotencyError", 409, "This Idempotency-Key was used with a different request."


class ClientAuthenticationFailed(BrokerError):
    code, status, message = "ClientAuthenticationFailed", 401, "Client authentication failed."

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message, headers={"WWW-Authenticate": 'Basic realm="eidetic"'})


class TokenNotBound(BrokerError):
    code, status, message = "InvalidToken", 401, "This token was not issued under a consent."

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})


STATE_ERRORS: dict[str, type[BrokerError]] = {
    "paused": ConsentPaused,
    "revoked": ConsentRevoked,
    "expired": ConsentExpired,
}
