"""Log lines carry no query strings (OAuth states, cursors) even for server errors."""

from __future__ import annotations

import io
import logging
import logging.config

from django.conf import settings
from django.test import RequestFactory


def test_an_error_record_with_a_request_keeps_only_method_and_path():
    stream = io.StringIO()
    config = {
        **settings.LOGGING,
        "handlers": {
            "console": {**settings.LOGGING["handlers"]["console"], "class": "logging.StreamHandler", "stream": stream}
        },
    }
    config["handlers"]["console"]["stream"] = stream
    logging.config.dictConfig(config)
    try:
        request = RequestFactory().get("/oauth/authorize/", {"state": "s3cr3t-state", "code_challenge": "abc"})
        logging.getLogger("django.request").error(
            "Internal Server Error: %s", request.path, extra={"request": request, "status_code": 500}
        )
        line = stream.getvalue()
    finally:
        logging.config.dictConfig(settings.LOGGING)
    assert "/oauth/authorize/" in line
    assert "s3cr3t-state" not in line
    assert "GET /oauth/authorize/" in line
