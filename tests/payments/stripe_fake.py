"""A local fake of the Stripe API for the real SDK, and Stripe's webhook signing scheme."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

import pytest
from django.conf import LazySettings

SECRET_KEY = "sk_test_fake"
PUBLISHABLE_KEY = "pk_test_fake"
WEBHOOK_SECRET = "whsec_test_fake"


@dataclass
class FakeStripe:
    base_url: str
    requests: list[dict[str, Any]] = field(default_factory=list)


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        fake: FakeStripe = self.server.fake  # type: ignore[attr-defined]
        body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        if self.path != "/v1/checkout/sessions":
            self._answer(404, {"error": {"type": "invalid_request_error", "message": "no route"}})
            return
        fake.requests.append(
            {
                "form": dict(parse_qsl(body)),
                "idempotency_key": self.headers.get("Idempotency-Key"),
                "authorization": self.headers.get("Authorization"),
                "stripe_version": self.headers.get("Stripe-Version"),
            }
        )
        number = len(fake.requests)
        self._answer(
            200,
            {
                "id": f"cs_test_{number}",
                "object": "checkout.session",
                "url": f"https://checkout.stripe.test/c/pay/cs_test_{number}",
            },
        )

    def _answer(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def fake_stripe(settings: LazySettings) -> Iterator[FakeStripe]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    fake = FakeStripe(base_url=f"http://127.0.0.1:{server.server_port}")
    server.fake = fake  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.STRIPE_API_BASE = fake.base_url
    settings.STRIPE_SECRET_KEY = SECRET_KEY
    settings.STRIPE_PUBLISHABLE_KEY = PUBLISHABLE_KEY
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def signature_header(payload: str, secret: str = WEBHOOK_SECRET, *, at: int | None = None) -> str:
    """Stripe's scheme: t=<unix time>,v1=HMAC-SHA256(secret, "<t>.<payload>")."""
    timestamp = int(time.time()) if at is None else at
    digest = hmac.new(
        secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256
    ).hexdigest()
    return f"t={timestamp},v1={digest}"
