"""A local fake of the Stripe API for the real SDK, and Stripe's webhook signing scheme.

The fake keeps the objects a test puts in it (PaymentIntents, refunds, disputes, events) and
answers the SDK's reads of them; it records every Checkout Session and refund request."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.conf import LazySettings
from django.test import Client as HttpClient
from django.urls import reverse

from clientledger.billing.models import Invoice

SECRET_KEY = "sk_test_fake"
PUBLISHABLE_KEY = "pk_test_fake"
WEBHOOK_SECRET = "whsec_test_fake"

_serial = itertools.count(1)


def _list(data: list[dict[str, Any]], url: str) -> dict[str, Any]:
    return {"object": "list", "data": data, "has_more": False, "url": url}


@dataclass
class FakeStripe:
    base_url: str
    # Checkout Session creations, as the SDK sent them.
    requests: list[dict[str, Any]] = field(default_factory=list)
    refund_requests: list[dict[str, Any]] = field(default_factory=list)
    sessions_by_key: dict[str, dict[str, Any]] = field(default_factory=dict)
    intents: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: dict[str, dict[str, Any]] = field(default_factory=dict)
    disputes: dict[str, dict[str, Any]] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    # What POST /v1/refunds answers instead of a refund: (HTTP status, error body).
    refund_error: tuple[int, dict[str, Any]] | None = None
    # The status a new refund starts in.
    refund_status: str = "pending"
    lock: threading.Lock = field(default_factory=threading.Lock)

    # --- objects as Stripe would hold them ---------------------------------------------------

    def intent(
        self,
        intent_id: str,
        *,
        invoice: Invoice,
        status: str,
        amount: int | None = None,
        method: str = "card",
        fee: int | None = None,
        error: str | None = None,
    ) -> dict[str, Any]:
        """Put (or move) a PaymentIntent for `invoice`; by default for its whole balance."""
        amount = invoice.balance_due_minor if amount is None else amount
        succeeded = status == "succeeded"
        charge = None
        if status in ("succeeded", "processing") or error:
            charge = {
                "id": f"ch_{intent_id}",
                "object": "charge",
                "payment_intent": intent_id,
                "status": {"succeeded": "succeeded", "processing": "pending"}.get(status, "failed"),
                "payment_method_details": {"type": method},
                "balance_transaction": None
                if fee is None or not succeeded
                else {"id": f"txn_{intent_id}", "fee": fee, "net": amount - fee},
            }
        obj = {
            "id": intent_id,
            "object": "payment_intent",
            "amount": amount,
            "amount_received": amount if succeeded else 0,
            "currency": invoice.currency.lower(),
            "status": status,
            "payment_method_types": [method],
            "metadata": {"invoice_id": str(invoice.pk), "agency_id": str(invoice.agency_id)},
            "last_payment_error": {"message": error} if error else None,
            "latest_charge": charge,
        }
        with self.lock:
            self.intents[intent_id] = obj
        return obj

    def refund(
        self, intent_id: str, amount: int, *, status: str = "succeeded", refund_id: str = ""
    ) -> dict[str, Any]:
        obj = {
            "id": refund_id or f"re_{next(_serial)}",
            "object": "refund",
            "amount": amount,
            "currency": self.intents[intent_id]["currency"],
            "payment_intent": intent_id,
            "charge": f"ch_{intent_id}",
            "status": status,
            "metadata": {},
            "failure_reason": "lost_or_stolen_card" if status == "failed" else None,
        }
        with self.lock:
            obj = {**self.refunds.get(obj["id"], obj), "status": status}
            self.refunds[obj["id"]] = obj
        return obj

    def dispute(
        self, intent_id: str, *, status: str, dispute_id: str = "dp_1", reason: str = "fraudulent"
    ) -> dict[str, Any]:
        intent = self.intents[intent_id]
        obj = {
            "id": dispute_id,
            "object": "dispute",
            "amount": intent["amount_received"],
            "currency": intent["currency"],
            "payment_intent": intent_id,
            "charge": f"ch_{intent_id}",
            "status": status,
            "reason": reason,
        }
        with self.lock:
            self.disputes[dispute_id] = obj
        return obj

    def event(self, kind: str, obj: dict[str, Any]) -> dict[str, Any]:
        """An event about `obj` as Stripe sends it (a snapshot), kept for GET /v1/events."""
        event = {
            "id": f"evt_{next(_serial)}",
            "object": "event",
            "type": kind,
            "created": int(time.time()),
            "data": {"object": json.loads(json.dumps(obj))},
        }
        with self.lock:
            self.events.append(event)
        return event

    # --- the HTTP side ----------------------------------------------------------------------

    def answer_get(self, path: str, query: dict[str, str]) -> tuple[int, dict[str, Any]]:
        with self.lock:
            if path.startswith("/v1/payment_intents/"):
                intent = self.intents.get(path.rsplit("/", 1)[1])
                return (200, intent) if intent else _missing("payment_intent")
            if path == "/v1/refunds":
                found = [
                    r
                    for r in self.refunds.values()
                    if r["payment_intent"] == query.get("payment_intent")
                ]
                return 200, _list(found, path)
            if path == "/v1/disputes":
                found = [
                    d
                    for d in self.disputes.values()
                    if d["payment_intent"] == query.get("payment_intent")
                ]
                return 200, _list(found, path)
            if path == "/v1/events":
                since = int(query.get("created[gte]", 0))
                found = [e for e in reversed(self.events) if e["created"] >= since]
                return 200, _list(found, path)
        return _missing("route")

    def answer_post(
        self, path: str, form: dict[str, str], headers: dict[str, str | None]
    ) -> tuple[int, dict[str, Any]]:
        if path == "/v1/checkout/sessions":
            with self.lock:
                self.requests.append({"form": form, **headers})
                number = len(self.requests)
                # Like Stripe: the same idempotency key gets the first answer back.
                return 200, self.sessions_by_key.setdefault(
                    str(headers["idempotency_key"]),
                    {
                        "id": f"cs_test_{number}",
                        "object": "checkout.session",
                        "url": f"https://checkout.stripe.com/c/pay/cs_test_{number}",
                    },
                )
        if path == "/v1/refunds":
            with self.lock:
                self.refund_requests.append({"form": form, **headers})
                if self.refund_error is not None:
                    return self.refund_error
                refund_id = f"re_{headers['idempotency_key']}"
            refund = self.refunds.get(refund_id) or self.refund(
                form["payment_intent"],
                int(form["amount"]),
                status=self.refund_status,
                refund_id=refund_id,
            )
            refund["metadata"] = {
                key[len("metadata[") : -1]: value
                for key, value in form.items()
                if key.startswith("metadata[")
            }
            return 200, refund
        return _missing("route")


def _missing(what: str) -> tuple[int, dict[str, Any]]:
    return 404, {"error": {"type": "invalid_request_error", "message": f"No such {what}"}}


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        url = urlsplit(self.path)
        self._answer(*self.server.fake.answer_get(url.path, dict(parse_qsl(url.query))))  # type: ignore[attr-defined]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        headers = {
            "idempotency_key": self.headers.get("Idempotency-Key"),
            "authorization": self.headers.get("Authorization"),
            "stripe_version": self.headers.get("Stripe-Version"),
        }
        fake: FakeStripe = self.server.fake  # type: ignore[attr-defined]
        self._answer(*fake.answer_post(self.path, dict(parse_qsl(body)), headers))

    def _answer(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128


@pytest.fixture
def fake_stripe(settings: LazySettings) -> Iterator[FakeStripe]:
    server = _Server(("127.0.0.1", 0), _Handler)
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


_http = threading.local()


def _http_client() -> HttpClient:
    # One test client per thread: each new one loads the middleware again (WhiteNoise scans
    # every static file), half the time of a delivery.
    if not hasattr(_http, "client"):
        _http.client = HttpClient()
    client: HttpClient = _http.client
    return client


def deliver(event: dict[str, Any] | str, header: str | None = None) -> int:
    """POST one event to our webhook the way Stripe does; the HTTP status we answer."""
    payload = event if isinstance(event, str) else json.dumps(event)
    signature = None if header == "" else header or signature_header(payload)
    response = _http_client().post(
        reverse("stripe_webhook"),
        data=payload,
        content_type="application/json",
        headers={} if signature is None else {"Stripe-Signature": signature},
    )
    return response.status_code
