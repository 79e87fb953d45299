"""A partner's app as small as it gets: an HTTP server on loopback that receives the OAuth
callback (the person's browser lands there after the consent screen) and the signed
webhooks Eidetic sends when a consent changes."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from broker import webhooks

# What the person's browser shows after approving (an inline icon: no favicon request to fail).
CALLBACK_PAGE = "<!doctype html><html lang='en'><link rel='icon' href='data:,'><title>Connected</title><h1>Hello</h1>"


@dataclass
class Received:
    callbacks: list[str] = field(default_factory=list)  # full callback URLs, with code and state
    webhooks: list[dict[str, Any]] = field(default_factory=list)  # {"headers": ..., "body": bytes}


class PartnerApp:
    def __init__(self) -> None:
        self.received = Received()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    @property
    def redirect_uri(self) -> str:
        return f"{self.base}/callback"

    @property
    def webhook_url(self) -> str:
        return f"{self.base}/webhook"

    def __enter__(self) -> PartnerApp:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def events(self, secret: str) -> list[dict[str, Any]]:
        """The webhook payloads whose signature checks out with the partner's secret."""
        verified = []
        for delivery in self.received.webhooks:
            headers = delivery["headers"]
            ok = webhooks.verify(
                secret,
                int(headers[webhooks.TIMESTAMP_HEADER]),
                delivery["body"],
                headers[webhooks.SIGNATURE_HEADER],
                now=int(time.time()),
            )
            if ok:
                verified.append(json.loads(delivery["body"]))
        return verified

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        received = self.received
        base = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if not self.path.startswith("/callback"):
                    self._answer(404, "not here")
                    return
                received.callbacks.append(base.base + self.path)
                self._answer(200, CALLBACK_PAGE)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                if self.path != "/webhook":
                    self._answer(404, "not here")
                    return
                received.webhooks.append({"headers": dict(self.headers.items()), "body": body})
                self._answer(204, "")

            def _answer(self, status: int, text: str) -> None:
                payload = text.encode()
                self.send_response(status)
                if payload:
                    self.send_header("Content-Type", "text/html; charset=utf-8")
                    self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if payload:
                    self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:  # quiet: pytest shows failures
                return

        return Handler
