"""The insights app's exceptions, each with a stable ``code`` and an HTTP ``status``
(``config.api_errors`` turns them into JSON). Messages never carry personal data."""

from __future__ import annotations


class InsightsError(Exception):
    code = "InsightsError"
    status = 400
    message = "The request could not be served."

    def __init__(self, message: str | None = None) -> None:
        if message is not None:
            self.message = message
        super().__init__(self.message)


class UnknownTopic(InsightsError):
    code, status, message = "UnknownTopic", 400, "No such topic in the taxonomy."


class InvalidLimit(InsightsError):
    code, status, message = "InvalidLimit", 400, "`limit` must be an integer between 1 and 50."
