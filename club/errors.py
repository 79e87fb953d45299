"""The club's exceptions, each with a stable ``code`` and HTTP ``status``.

They extend ``BrokerError`` on purpose: a club call is a partner call under a consent,
so ``broker.access.record_denied`` logs them like any other refusal, and
``config.api_errors`` turns them into ``{"error": {"code", "message"}}``.
Messages name categories and rules only, never personal data.
"""

from __future__ import annotations

from broker.errors import BrokerError


class ClubError(BrokerError):
    code, status, message = "ClubError", 400, "The club request could not be served."


class ClubNotFound(ClubError):
    code, status, message = "ClubNotFound", 404, "No such club."


class NotClubMember(ClubError):
    code, status, message = "NotClubMember", 403, "Your firm is not a member of this club."


class NotClubAdmin(ClubError):
    code, status, message = "NotClubAdmin", 403, "Only the club's admins may do this."


class AlreadyMember(ClubError):
    code, status, message = "AlreadyMember", 409, "This firm is already a member of the club."


class MemberSuspended(ClubError):
    code, status, message = "MemberSuspended", 403, "Your firm's club membership is suspended."


class MemberExpelled(ClubError):
    code, status, message = "MemberExpelled", 403, "Your firm has been expelled from this club."


class NoRules(ClubError):
    code, status, message = "NoRules", 409, "The club has not published its rules yet."


class InvalidRules(ClubError):
    code, status, message = "InvalidRules", 400, "The club rules are not valid."


class InvalidSanction(ClubError):
    code, status, message = "InvalidSanction", 400, "The sanction is not valid."


class InvalidObservation(ClubError):
    code, status, message = "InvalidObservation", 400, "The observation is not valid."


class CategoryNotAllowed(ClubError):
    code, status, message = "CategoryNotAllowed", 403, "The club rules do not allow this category here."


class ReciprocityRequired(ClubError):
    code, status, message = "ReciprocityRequired", 403, "Contribute to this category before reading it."


class QuotaExceeded(ClubError):
    code, status, message = "QuotaExceeded", 429, "The club's daily contribution quota is reached."


class ObservationNotFound(ClubError):
    code, status, message = "ObservationNotFound", 404, "No such observation."


STANDING_ERRORS: dict[str, type[ClubError]] = {
    "suspended": MemberSuspended,
    "expelled": MemberExpelled,
}


class InvalidSegmentQuery(ClubError):
    code, status, message = "InvalidSegmentQuery", 400, "The segment query is not valid."


class PrivacyBudgetExhausted(ClubError):
    code, status, message = (
        "PrivacyBudgetExhausted",
        429,
        "Your firm's privacy budget for this period is spent; it renews at the next period.",
    )


class SegmentTooSmall(ClubError):
    code, status, message = "SegmentTooSmall", 409, "Too few people match this segment to introduce any of them."


class InvalidIntroduction(ClubError):
    code, status, message = "InvalidIntroduction", 400, "The introduction request is not valid."


class ReadQuotaExceeded(ClubError):
    code, status, message = "ReadQuotaExceeded", 429, "The club's daily read quota for your firm is reached."
