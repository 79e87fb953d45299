"""Logging filters: nothing personal and no credentials in log lines."""

from __future__ import annotations

import logging


class DropRequestDetails(logging.Filter):
    """Django attaches the request to error records; its repr carries the query string
    (OAuth states, cursors) and a JSON formatter would print it. Keep method and path only."""

    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None)
        if request is not None:
            record.request = f"{getattr(request, 'method', '?')} {getattr(request, 'path', '?')}"
        return True
