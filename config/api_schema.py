"""drf-spectacular post-processing: what every API operation may answer because of the
deployment rather than the view (rate limits), documented once here."""

from __future__ import annotations

RATE_LIMITED = {
    "description": "RateLimited: too many requests from this client; retry after `Retry-After` seconds.",
    "headers": {
        "Retry-After": {"schema": {"type": "integer", "minimum": 1}, "description": "Seconds to wait."},
    },
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["error"],
                "properties": {
                    "error": {
                        "type": "object",
                        "required": ["code", "message"],
                        "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
                    }
                },
            }
        }
    },
}


def add_rate_limit_responses(result: dict, generator, request, public) -> dict:
    """Every throttled operation may answer 429 (config.ratelimit); views that document a
    429 of their own (FrequencyExceeded, QuotaExceeded) keep their description."""
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            if isinstance(operation, dict) and "responses" in operation:
                operation["responses"].setdefault("429", RATE_LIMITED)
    return result
