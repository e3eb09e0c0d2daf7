"""The Stripe webhook: signatures on the raw body, the inbox, one payment per PaymentIntent."""

from __future__ import annotations

import itertools
import json
import time
from typing import Any

import pytest
from django.conf import LazySettings
from django.test import Client as HttpClient
from django.urls import reverse

from clientledger.billing.ledger import ledger_mismatches
from clientledger.billing.models import Invoice, InvoiceStatus, LedgerEntry
from clientledger.crm.models import Client
from clientledger.payments.models import (
    Payment,
    PaymentMethod,
    StripeAccount,
    StripeEvent,
    StripeEventStatus,
)
from tests.payments.conftest import OpenInvoice
from tests.payments.stripe_fake import WEBHOOK_SECRET, signature_header

pytestmark = pytest.mark.django_db
EVENT_SERIAL = itertools.count(1)


@pytest.fixture(autouse=True)
def stripe_env(settings: LazySettings) -> None:
    settings.STRIPE_SECRET_KEY = "sk_test_fake"
    settings.STRIPE_PUBLISHABLE_KEY = "pk_test_fake"
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET


def _metadata(invoice: Invoice) -> dict[str, str]:
    return {"invoice_id": str(invoice.pk), "agency_id": str(invoice.agency_id)}


def session_completed(invoice: Invoice, intent: str = "pi_1", **fields: Any) -> dict[str, Any]:
    session = {
        "id": "cs_test_1",
        "object": "checkout.session",
        "payment_status": "paid",
        "payment_intent": intent,
        "amount_total": invoice.balance_due_minor,
        "currency": invoice.currency.lower(),
        "metadata": _metadata(invoice),
        **fields,
    }
    return _event("checkout.session.completed", session)


def intent_succeeded(invoice: Invoice, intent: str = "pi_1") -> dict[str, Any]:
    payment_intent = {
        "id": intent,
        "object": "payment_intent",
        "amount_received": invoice.balance_due_minor,
        "currency": invoice.currency.lower(),
        "metadata": _metadata(invoice),
    }
    return _event("payment_intent.succeeded", payment_intent)


def _event(kind: str, obj: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": f"evt_{next(EVENT_SERIAL)}",
        "object": "event",
        "type": kind,
        "data": {"object": obj},
    }


def deliver(event: dict[str, Any] | str, header: str | None = None) -> int:
    payload = event if isinstance(event, str) else json.dumps(event)
    headers = {} if header == "" else {"HTTP_STRIPE_SIGNATURE": header or signature_header(payload)}
    response = HttpClient().post(
        reverse("stripe_webhook"), data=payload, content_type="application/json", **headers
    )
    return response.status_code


def rows() -> tuple[int, int, int]:
    return StripeEvent.objects.count(), Payment.objects.count(), LedgerEntry.objects.count()


def test_a_card_payment_marks_the_invoice_paid_and_lowers_the_client_balance(
    payer: Client, open_invoice: OpenInvoice
) -> None:
    invoice = open_invoice("250.00")
    payer.refresh_from_db()
    owed = payer.balance_minor

    assert deliver(session_completed(invoice)) == 200

    invoice.refresh_from_db()
    payer.refresh_from_db()
    payment = Payment.objects.get()
    assert invoice.status == InvoiceStatus.PAID
    assert payer.balance_minor == owed - 25000
    assert (payment.method, payment.stripe_payment_intent_id) == (PaymentMethod.CARD, "pi_1")
    assert StripeEvent.objects.get().status == StripeEventStatus.PROCESSED
    assert ledger_mismatches() == []


def test_a_duplicate_delivery_records_one_payment(open_invoice: OpenInvoice) -> None:
    event = session_completed(open_invoice("250.00"))

    assert [deliver(event), deliver(event), deliver(event)] == [200, 200, 200]

    assert rows()[:2] == (1, 1)
    assert ledger_mismatches() == []


@pytest.mark.parametrize("order", ["session first", "intent first"])
def test_both_events_of_one_payment_intent_record_one_payment_in_either_order(
    open_invoice: OpenInvoice, order: str
) -> None:
    invoice = open_invoice("250.00")
    events = [session_completed(invoice), intent_succeeded(invoice)]
    if order == "intent first":
        events.reverse()

    assert [deliver(event) for event in events] == [200, 200]

    invoice.refresh_from_db()
    assert Payment.objects.count() == 1
    assert invoice.status == InvoiceStatus.PAID
    assert set(StripeEvent.objects.values_list("status", flat=True)) == {"processed"}
    assert ledger_mismatches() == []


def test_an_unpaid_session_and_unknown_events_are_stored_without_effect(
    open_invoice: OpenInvoice,
) -> None:
    invoice = open_invoice("250.00")

    assert deliver(session_completed(invoice, payment_status="unpaid")) == 200
    assert deliver(_event("customer.created", {"id": "cus_1", "object": "customer"})) == 200

    assert Payment.objects.count() == 0
    assert list(StripeEvent.objects.values_list("status", flat=True)) == ["processed"] * 2


def test_a_payment_above_the_balance_leaves_the_rest_as_client_credit(
    payer: Client, open_invoice: OpenInvoice
) -> None:
    invoice = open_invoice("100.00")

    assert deliver(session_completed(invoice, amount_total=15000)) == 200

    invoice.refresh_from_db()
    payment = Payment.objects.get()
    assert invoice.status == InvoiceStatus.PAID
    assert payment.allocations.get().amount_minor == 10000
    assert ledger_mismatches() == []


def test_an_event_in_another_currency_fails_and_is_kept_for_a_retry(
    open_invoice: OpenInvoice,
) -> None:
    event = session_completed(open_invoice("100.00"), currency="eur")

    assert deliver(event) == 500

    stored = StripeEvent.objects.get()
    assert stored.status == StripeEventStatus.FAILED
    assert "EUR" in stored.error
    assert Payment.objects.count() == 0


def test_an_agency_with_its_own_secret_refuses_the_environment_one(
    open_invoice: OpenInvoice,
) -> None:
    invoice = open_invoice("100.00")
    StripeAccount.objects.create(agency=invoice.agency, webhook_secret="whsec_own")
    payload = json.dumps(session_completed(invoice))

    assert deliver(payload, signature_header(payload)) == 400
    assert deliver(payload, signature_header(payload, "whsec_own")) == 200
    assert Payment.objects.count() == 1


def _tampered(payload: str) -> str:
    tampered = payload.replace('"amount_total": 10000', '"amount_total": 1')
    assert tampered != payload
    return tampered


@pytest.mark.parametrize(
    "attack",
    ["forged", "tampered body", "wrong secret", "stale", "missing", "not json"],
)
def test_a_bad_signature_gets_400_and_writes_nothing(
    open_invoice: OpenInvoice, attack: str
) -> None:
    payload = json.dumps(session_completed(open_invoice("100.00")))
    before = rows()
    sent, header = {
        "forged": (payload, "t=1700000000,v1=" + "0" * 64),
        "tampered body": (_tampered(payload), signature_header(payload)),
        "wrong secret": (payload, signature_header(payload, "whsec_wrong")),
        "stale": (payload, signature_header(payload, at=int(time.time()) - 301)),
        "missing": (payload, ""),
        "not json": ("{not json", signature_header("{not json")),
    }[attack]

    assert deliver(sent, header) == 400

    assert rows() == before
    assert ledger_mismatches() == []


def test_the_webhook_answers_405_to_get() -> None:
    assert HttpClient().get(reverse("stripe_webhook")).status_code == 405


def test_a_paid_session_without_a_payment_intent_fails_without_a_payment(
    open_invoice: OpenInvoice,
) -> None:
    assert deliver(session_completed(open_invoice("100.00"), payment_intent=None)) == 500

    assert StripeEvent.objects.get().error == "The event names no PaymentIntent."
    assert Payment.objects.count() == 0
