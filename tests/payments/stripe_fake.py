"""A local fake of the Stripe API for the real SDK, and Stripe's webhook signing scheme.

The fake keeps the objects a test puts in it (PaymentIntents with their charges and balance
transactions, refunds, disputes, Checkout Sessions, events) and answers the SDK's reads of
them; it records every Checkout Session and refund request. Like Stripe, it answers a
repeated idempotency key with the first answer, and refuses the key with other parameters.

Every object it builds starts from Stripe's published example of its type
(`stripe_fixtures.json`) and may only set fields the SDK declares for that type; every object
it sends, over HTTP or in an event, is checked against both (`shape_errors`), so that no test
passes on a shape Stripe never sends."""

from __future__ import annotations

import copy
import hashlib
import hmac
import itertools
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import stripe
from django.test import Client as HttpClient
from django.urls import reverse
from pytest_django import Settings

from clientledger.billing.models import Invoice
from clientledger.payments.stripe.amounts import to_stripe
from clientledger.payments.stripe.client import STRIPE_API_VERSION

SECRET_KEY = "sk_test_fake"
PUBLISHABLE_KEY = "pk_test_fake"
WEBHOOK_SECRET = "whsec_test_fake"

_serial = itertools.count(1)

Obj = dict[str, Any]
Answer = tuple[int, Obj]

# --- the shapes Stripe sends ---------------------------------------------------------------

PUBLISHED: dict[str, Obj] = json.loads(
    Path(__file__).with_name("stripe_fixtures.json").read_text()
)["resources"]

_SDK_TYPES: dict[str, type[stripe.StripeObject]] = {
    "balance_transaction": stripe.BalanceTransaction,
    "charge": stripe.Charge,
    "checkout.session": stripe.checkout.Session,
    "customer": stripe.Customer,
    "dispute": stripe.Dispute,
    "event": stripe.Event,
    "payment_intent": stripe.PaymentIntent,
    "refund": stripe.Refund,
}


def declared_fields(kind: str) -> frozenset[str]:
    """Every field the SDK's type of `kind` declares (some Stripe sends only now and then)."""
    return frozenset(_SDK_TYPES[kind].__annotations__) - {"OBJECT_NAME"}


def shape_errors(obj: Any, where: str = "") -> list[str]:
    """How `obj` differs from what Stripe sends: each Stripe object in it, nested ones too,
    must have every field of Stripe's published example of its type and no field the SDK
    does not declare for it."""
    if isinstance(obj, list):
        return [
            error for i, item in enumerate(obj) for error in shape_errors(item, f"{where}[{i}]")
        ]
    if not isinstance(obj, dict):
        return []
    errors: list[str] = []
    kind = obj.get("object")
    # An event's `data` holds the object under "object" too.
    if isinstance(kind, str) and kind != "list":
        name = f"{where or 'the object'} ({kind})"
        if kind not in PUBLISHED:
            errors.append(f"{name}: no published example of this type")
        else:
            missing = sorted(PUBLISHED[kind].keys() - obj.keys())
            unknown = sorted(obj.keys() - declared_fields(kind))
            errors += [f"{name}: lacks {missing}"] if missing else []
            errors += [f"{name}: has fields Stripe does not send {unknown}"] if unknown else []
    for key, value in obj.items():
        errors += shape_errors(value, f"{where}.{key}" if where else key)
    return errors


def published(kind: str, **fields: Any) -> Obj:
    """Stripe's published example of `kind` with `fields` set to what this fake holds."""
    undeclared = fields.keys() - declared_fields(kind)
    assert not undeclared, f"Stripe sends no {sorted(undeclared)} on a {kind}"
    return {**copy.deepcopy(PUBLISHED[kind]), **fields}


def _checked(obj: Obj) -> Obj:
    errors = shape_errors(obj)
    assert not errors, "; ".join(errors)
    return obj


def _list(data: list[Obj], url: str) -> Obj:
    return {"object": "list", "data": data, "has_more": False, "url": url}


def _method_details(method: str) -> Obj:
    if method == "us_bank_account":
        return {
            "type": method,
            method: {"account_holder_type": "company", "bank_name": "STRIPE TEST BANK"},
        }
    return copy.deepcopy(PUBLISHED["charge"]["payment_method_details"])


def _idempotency_error(key: str) -> Answer:
    return 400, {
        "error": {
            "type": "idempotency_error",
            "message": "Keys for idempotent requests can only be used with the same parameters"
            f" they were first used with. Try using a key other than '{key}' if you meant to"
            " execute a different request.",
        }
    }


def _missing(what: str) -> Answer:
    return 404, {"error": {"type": "invalid_request_error", "message": f"No such {what}"}}


@dataclass
class FakeStripe:
    base_url: str
    # Checkout Session creations, as the SDK sent them.
    requests: list[Obj] = field(default_factory=list)
    refund_requests: list[Obj] = field(default_factory=list)
    sessions: dict[str, Obj] = field(default_factory=dict)
    # PaymentIntents as Stripe stores them: their latest charge by id.
    intents: dict[str, Obj] = field(default_factory=dict)
    charges: dict[str, Obj] = field(default_factory=dict)
    balance_transactions: dict[str, Obj] = field(default_factory=dict)
    refunds: dict[str, Obj] = field(default_factory=dict)
    disputes: dict[str, Obj] = field(default_factory=dict)
    events: list[Obj] = field(default_factory=list)
    # Idempotency key -> (the request, its first successful answer).
    first_answers: dict[str, tuple[tuple[str, dict[str, str]], Answer]] = field(
        default_factory=dict
    )
    # What POST /v1/refunds answers instead of a refund: (HTTP status, error body).
    refund_error: Answer | None = None
    # The status a new refund starts in.
    refund_status: str = "pending"
    lock: threading.RLock = field(default_factory=threading.RLock)

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
    ) -> Obj:
        """Put (or move) a PaymentIntent our Checkout made for `invoice`, by default for its
        whole balance. The stored object is returned: a test may change it as Stripe would."""
        if amount is None:
            amount = to_stripe(invoice.balance_due_minor, invoice.currency, round_up=True)
        return self._intent_put(
            intent_id,
            currency=invoice.currency.lower(),
            metadata={"invoice_id": str(invoice.pk), "agency_id": str(invoice.agency_id)},
            status=status,
            amount=amount,
            method=method,
            fee=fee,
            error=error,
        )

    def foreign_intent(self, intent_id: str, *, amount: int = 4900) -> Obj:
        """A card payment ClientLedger did not ask for: the agency's web shop, a Payment Link."""
        return self._intent_put(
            intent_id,
            currency="usd",
            metadata={"order": "web-shop-1042"},
            status="succeeded",
            amount=amount,
            method="card",
            fee=None,
            error=None,
        )

    def _intent_put(
        self,
        intent_id: str,
        *,
        currency: str,
        metadata: dict[str, str],
        status: str,
        amount: int,
        method: str,
        fee: int | None,
        error: str | None,
    ) -> Obj:
        succeeded = status == "succeeded"
        charge_id = None
        if status in ("succeeded", "processing") or error:
            charge_id = f"ch_{intent_id}"
            self._charge_put(
                charge_id,
                intent_id=intent_id,
                amount=amount,
                currency=currency,
                status={"succeeded": "succeeded", "processing": "pending"}.get(status, "failed"),
                method=method,
                fee=fee,
                error=error,
            )
        obj = published(
            "payment_intent",
            id=intent_id,
            amount=amount,
            amount_received=amount if succeeded else 0,
            automatic_payment_methods=None,
            canceled_at=None,
            cancellation_reason=None,
            client_secret=f"{intent_id}_secret_fake",
            created=int(time.time()),
            currency=currency,
            status=status,
            payment_method=f"pm_{intent_id}" if charge_id else None,
            payment_method_configuration_details=None,
            payment_method_types=[method],
            metadata=metadata,
            last_payment_error={"type": "card_error", "message": error} if error else None,
            latest_charge=charge_id,
            next_action=None,
            processing={"type": method} if status == "processing" else None,
            shipping=None,
            transfer_data=None,
        )
        with self.lock:
            self.intents[intent_id] = obj
        return obj

    def _charge_put(
        self,
        charge_id: str,
        *,
        intent_id: str,
        amount: int,
        currency: str,
        status: str,
        method: str,
        fee: int | None,
        error: str | None,
    ) -> None:
        succeeded = status == "succeeded"
        balance_id = None
        if fee is not None and succeeded:
            balance_id = f"txn_{intent_id}"
            self.balance_transactions[balance_id] = published(
                "balance_transaction",
                id=balance_id,
                amount=amount,
                currency=currency,
                description=None,
                fee=fee,
                fee_details=[
                    {
                        "amount": fee,
                        "application": None,
                        "currency": currency,
                        "description": "Stripe processing fees",
                        "type": "stripe_fee",
                    }
                ],
                net=amount - fee,
                source=charge_id,
                status="pending",
            )
        self.charges[charge_id] = published(
            "charge",
            id=charge_id,
            amount=amount,
            amount_captured=amount if succeeded else 0,
            balance_transaction=balance_id,
            captured=succeeded,
            created=int(time.time()),
            currency=currency,
            description=None,
            failure_code="insufficient_funds" if error else None,
            failure_message=error,
            outcome={
                **PUBLISHED["charge"]["outcome"],
                "type": "issuer_declined" if error else "authorized",
            },
            paid=succeeded,
            payment_intent=intent_id,
            payment_method=f"pm_{intent_id}",
            payment_method_details=_method_details(method),
            receipt_url=None,
            source=None,
            status=status,
            transfer_data=None,
        )

    def charge(self, intent_id: str) -> Obj:
        """The PaymentIntent's latest charge as Stripe reports it now, refunds included."""
        with self.lock:
            charge_id = self.intents[intent_id]["latest_charge"]
            charge = copy.deepcopy(self.charges[charge_id])
            refunds = [r for r in self.refunds.values() if r["charge"] == charge_id]
            disputed = any(d["charge"] == charge_id for d in self.disputes.values())
        refunded = sum(r["amount"] for r in refunds if r["status"] in ("pending", "succeeded"))
        charge.update(
            amount_refunded=refunded,
            refunded=refunded == charge["amount_captured"] > 0,
            disputed=disputed,
            refunds=_list(copy.deepcopy(refunds), f"/v1/charges/{charge_id}/refunds"),
        )
        return charge

    def refund(
        self,
        intent_id: str,
        amount: int,
        *,
        status: str = "succeeded",
        refund_id: str | None = None,
    ) -> Obj:
        with self.lock:
            refund_id = refund_id or f"re_{next(_serial)}"
            stored = self.refunds.get(refund_id) or published(
                "refund",
                id=refund_id,
                amount=amount,
                balance_transaction=None,
                charge=self.intents[intent_id]["latest_charge"],
                created=int(time.time()),
                currency=self.intents[intent_id]["currency"],
                payment_intent=intent_id,
                payment_method=self.intents[intent_id]["payment_method"],
            )
            stored["status"] = status
            if status == "failed":
                stored["failure_reason"] = "lost_or_stolen_card"
            self.refunds[refund_id] = stored
            return stored

    def dispute(
        self, intent_id: str, *, status: str, dispute_id: str = "dp_1", reason: str = "fraudulent"
    ) -> Obj:
        with self.lock:
            intent = self.intents[intent_id]
            details = copy.deepcopy(PUBLISHED["dispute"]["payment_method_details"])
            details["card"]["case_type"] = (
                "inquiry" if status.startswith("warning_") else "chargeback"
            )
            obj = published(
                "dispute",
                id=dispute_id,
                amount=intent["amount_received"],
                charge=intent["latest_charge"],
                created=int(time.time()),
                currency=intent["currency"],
                is_charge_refundable=False,
                payment_intent=intent_id,
                payment_method_details=details,
                status=status,
                reason=reason,
            )
            self.disputes[dispute_id] = obj
            return obj

    def completed_session(
        self, intent_id: str, *, paid: bool, session_id: str | None = None
    ) -> Obj:
        """The Checkout Session (the one the SDK created, or one for the PaymentIntent) as
        Stripe's checkout.session.* events carry it once the client submitted it."""
        with self.lock:
            intent = self.intents[intent_id]
            session = copy.deepcopy(
                self.sessions.get(session_id or "")
                or self._session(
                    f"cs_{intent_id}",
                    amount=intent["amount"],
                    currency=intent["currency"],
                    method=intent["payment_method_types"][0],
                    metadata=intent["metadata"],
                    success_url="https://portal.test/success",
                    cancel_url="https://portal.test/cancel",
                )
            )
        session.update(
            payment_intent=intent_id,
            payment_status="paid" if paid else "unpaid",
            status="complete",
            url=None,
        )
        return session

    def _session(
        self,
        session_id: str,
        *,
        amount: int,
        currency: str,
        method: str,
        metadata: dict[str, str],
        success_url: str,
        cancel_url: str,
        client_reference_id: str | None = None,
    ) -> Obj:
        return published(
            "checkout.session",
            id=session_id,
            after_expiration=None,
            amount_subtotal=amount,
            amount_total=amount,
            automatic_tax={"enabled": False, "liability": None, "status": None, "provider": None},
            cancel_url=cancel_url,
            client_reference_id=client_reference_id,
            consent=None,
            consent_collection=None,
            created=int(time.time()),
            currency=currency,
            custom_text={
                "after_submit": None,
                "shipping_address": None,
                "submit": None,
                "terms_of_service_acceptance": None,
            },
            customer_details=None,
            invoice_creation=None,
            metadata=dict(metadata),
            payment_intent=None,
            payment_method_configuration_details=None,
            payment_method_types=[method],
            shipping_address_collection=None,
            shipping_cost=None,
            success_url=success_url,
            total_details={"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
            url=f"https://checkout.stripe.com/c/pay/{session_id}",
            collected_information=None,
            currency_conversion=None,
            managed_payments=None,
        )

    def event(self, kind: str, obj: Obj) -> Obj:
        """An event about `obj` as Stripe sends it (a snapshot), kept for GET /v1/events."""
        event = _checked(
            published(
                "event",
                id=f"evt_{next(_serial)}",
                api_version=STRIPE_API_VERSION,
                type=kind,
                created=int(time.time()),
                data={"object": copy.deepcopy(obj)},
                pending_webhooks=1,
                request={"id": None, "idempotency_key": None},
            )
        )
        with self.lock:
            self.events.append(event)
        return copy.deepcopy(event)

    # --- the HTTP side ----------------------------------------------------------------------

    def answer_get(self, path: str, query: dict[str, str]) -> Answer:
        expand = {value for key, value in query.items() if key.startswith("expand[")}
        with self.lock:
            if path.startswith("/v1/payment_intents/"):
                intent = self.intents.get(path.rsplit("/", 1)[1])
                return (200, self._expanded(intent, expand)) if intent else _missing("intent")
            if path == "/v1/refunds":
                wanted = query.get("payment_intent")
                found = [r for r in self.refunds.values() if r["payment_intent"] == wanted]
                return 200, _list(found, path)
            if path == "/v1/disputes":
                wanted = query.get("payment_intent")
                found = [d for d in self.disputes.values() if d["payment_intent"] == wanted]
                return 200, _list(found, path)
            if path == "/v1/events":
                since = int(query.get("created[gte]", 0))
                types = {value for key, value in query.items() if key.startswith("types[")}
                found = [
                    e
                    for e in reversed(self.events)
                    if e["created"] >= since and (not types or e["type"] in types)
                ]
                return 200, _list(found, path)
        return _missing("route")

    def _expanded(self, intent: Obj, expand: set[str]) -> Obj:
        intent = copy.deepcopy(intent)
        if intent["latest_charge"] and expand & {
            "latest_charge",
            "latest_charge.balance_transaction",
        }:
            charge = self.charge(intent["id"])
            balance_id = charge["balance_transaction"]
            if balance_id and "latest_charge.balance_transaction" in expand:
                charge["balance_transaction"] = copy.deepcopy(self.balance_transactions[balance_id])
            intent["latest_charge"] = charge
        return intent

    def answer_post(
        self, path: str, form: dict[str, str], headers: dict[str, str | None]
    ) -> Answer:
        key = str(headers["idempotency_key"])
        with self.lock:
            if path == "/v1/checkout/sessions":
                self.requests.append({"form": form, **headers})
            if path == "/v1/refunds":
                self.refund_requests.append({"form": form, **headers})
            first = self.first_answers.get(key)
        if first is not None:
            request, answer = first
            return answer if request == (path, form) else _idempotency_error(key)
        answer = self._perform(path, form, key)
        if answer[0] == 200:
            with self.lock:
                self.first_answers.setdefault(key, ((path, form), answer))
                return self.first_answers[key][1]
        return answer

    def _perform(self, path: str, form: dict[str, str], key: str) -> Answer:
        if path == "/v1/checkout/sessions":
            with self.lock:
                session = self._session(
                    f"cs_test_{len(self.requests)}",
                    amount=int(form["line_items[0][price_data][unit_amount]"]),
                    currency=form["line_items[0][price_data][currency]"],
                    method=form["allowed_payment_method_types[0]"],
                    metadata=_form_dict(form, "metadata"),
                    success_url=form["success_url"],
                    cancel_url=form["cancel_url"],
                    client_reference_id=form.get("client_reference_id"),
                )
                self.sessions[session["id"]] = session
            return 200, session
        if path == "/v1/refunds":
            if self.refund_error is not None:
                return self.refund_error
            refund_id = f"re_{key}"
            self.refund(
                form["payment_intent"],
                int(form["amount"]),
                status=self.refund_status,
                refund_id=refund_id,
            )
            with self.lock:
                self.refunds[refund_id]["metadata"] = _form_dict(form, "metadata")
                return 200, copy.deepcopy(self.refunds[refund_id])
        return _missing("route")


def _form_dict(form: dict[str, str], name: str) -> dict[str, str]:
    """A hash the SDK sent form-encoded (`metadata[invoice_id]=7`) as a dict."""
    prefix = f"{name}["
    return {
        key[len(prefix) : -1]: value
        for key, value in form.items()
        if key.startswith(prefix) and key.count("[") == 1
    }


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        self._answer(*self.server.fake.answer_get(url.path, dict(parse_qsl(url.query))))

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        headers = {
            "idempotency_key": self.headers.get("Idempotency-Key"),
            "authorization": self.headers.get("Authorization"),
            "stripe_version": self.headers.get("Stripe-Version"),
        }
        self._answer(*self.server.fake.answer_post(self.path, dict(parse_qsl(body)), headers))

    def _answer(self, status: int, payload: Obj) -> None:
        data = json.dumps(_checked(payload)).encode()
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
    fake: FakeStripe

    # `shutdown()` returns only once the serving loop looks at its flag again, which it does
    # every poll interval: the default half second was spent at every test's teardown.
    poll_interval = 0.05


@pytest.fixture
def fake_stripe(settings: Settings) -> Iterator[FakeStripe]:
    server = _Server(("127.0.0.1", 0), _Handler)
    fake = FakeStripe(base_url=f"http://127.0.0.1:{server.server_port}")
    server.fake = fake
    thread = threading.Thread(
        target=server.serve_forever, args=(server.poll_interval,), daemon=True
    )
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


def signature_header(
    payload: str | bytes, secret: str = WEBHOOK_SECRET, *, at: int | None = None
) -> str:
    """Stripe's scheme: t=<unix time>,v1=HMAC-SHA256(secret, "<t>.<payload>")."""
    timestamp = int(time.time()) if at is None else at
    body = payload.encode() if isinstance(payload, str) else payload
    digest = hmac.new(secret.encode(), b"%d." % timestamp + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


_http = threading.local()


def _http_client() -> HttpClient:
    # One test client per thread: each new one loads the middleware again (WhiteNoise scans
    # every static file), half the time of a delivery.
    if not hasattr(_http, "client"):
        _http.client = HttpClient()
    client: HttpClient = _http.client
    return client


def deliver(event: Obj | str | bytes, header: str | None = None) -> int:
    """POST one event (or any body) to our webhook the way Stripe does, signed with the
    environment's secret unless `header` says otherwise ("": no header); the HTTP status we
    answer."""
    payload = event if isinstance(event, str | bytes) else json.dumps(event)
    signature = None if header == "" else header or signature_header(payload)
    response = _http_client().post(
        reverse("stripe_webhook"),
        data=payload,
        content_type="application/json",
        headers={} if signature is None else {"Stripe-Signature": signature},
    )
    return response.status_code
