"""The Stripe webhook: signatures on the raw body, the inbox, one payment per PaymentIntent."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from django.test import Client as HttpClient
from django.urls import reverse
from pytest_django import Settings

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
from tests.factories import AgencyFactory
from tests.payments.conftest import OpenInvoice
from tests.payments.stripe_fake import FakeStripe, deliver, published, signature_header

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def stripe(fake_stripe: FakeStripe) -> FakeStripe:
    return fake_stripe


def session_completed(
    fake: FakeStripe, invoice: Invoice, intent: str = "pi_1", **stripe_says: Any
) -> dict[str, Any]:
    """Stripe holds a succeeded card PaymentIntent for the invoice and tells us its Checkout
    Session completed."""
    fake.intent(intent, invoice=invoice, status="succeeded", **stripe_says)
    return fake.event("checkout.session.completed", fake.completed_session(intent, paid=True))


def rows() -> tuple[int, int, int]:
    return StripeEvent.objects.count(), Payment.objects.count(), LedgerEntry.objects.count()


def test_a_card_payment_marks_the_invoice_paid_and_lowers_the_client_balance(
    stripe: FakeStripe, payer: Client, open_invoice: OpenInvoice
) -> None:
    invoice = open_invoice("250.00")
    payer.refresh_from_db()
    owed = payer.balance_minor

    assert deliver(session_completed(stripe, invoice, fee=755)) == 200

    invoice.refresh_from_db()
    payer.refresh_from_db()
    payment = Payment.objects.get()
    assert invoice.status == InvoiceStatus.PAID
    assert payer.balance_minor == owed - 25000
    assert (payment.method, payment.stripe_payment_intent_id) == (PaymentMethod.CARD, "pi_1")
    assert (payment.fee_minor, payment.net_minor) == (755, 25000 - 755)
    assert StripeEvent.objects.get().status == StripeEventStatus.PROCESSED
    assert ledger_mismatches() == []


def test_a_duplicate_delivery_records_one_payment(
    stripe: FakeStripe, open_invoice: OpenInvoice
) -> None:
    event = session_completed(stripe, open_invoice("250.00"))

    assert [deliver(event), deliver(event), deliver(event)] == [200, 200, 200]

    assert rows()[:2] == (1, 1)
    assert ledger_mismatches() == []


@pytest.mark.parametrize("order", ["session first", "intent first"])
def test_both_events_of_one_payment_intent_record_one_payment_in_either_order(
    stripe: FakeStripe, open_invoice: OpenInvoice, order: str
) -> None:
    invoice = open_invoice("250.00")
    session = session_completed(stripe, invoice)
    events = [session, stripe.event("payment_intent.succeeded", stripe.intents["pi_1"])]
    if order == "intent first":
        events.reverse()

    assert [deliver(event) for event in events] == [200, 200]

    invoice.refresh_from_db()
    assert Payment.objects.count() == 1
    assert invoice.status == InvoiceStatus.PAID
    assert set(StripeEvent.objects.values_list("status", flat=True)) == {"processed"}
    assert ledger_mismatches() == []


def test_events_about_nothing_of_ours_are_stored_without_effect(stripe: FakeStripe) -> None:
    customer = published("customer", id="cus_1", discount=None)
    assert deliver(stripe.event("customer.created", customer)) == 200

    assert Payment.objects.count() == 0
    assert StripeEvent.objects.get().status == StripeEventStatus.PROCESSED


def _web_shop_payment(stripe: FakeStripe) -> dict[str, Any]:
    return stripe.event("payment_intent.succeeded", stripe.foreign_intent("pi_shop"))


def _payment_link_checkout(stripe: FakeStripe) -> dict[str, Any]:
    stripe.foreign_intent("pi_link")
    session = stripe.completed_session("pi_link", paid=True)
    return stripe.event("checkout.session.completed", {**session, "payment_link": "plink_1"})


def _refund_in_the_web_shop(stripe: FakeStripe) -> dict[str, Any]:
    stripe.foreign_intent("pi_shop")
    return stripe.event("charge.refunded", stripe.charge("pi_shop"))


def _another_installation(stripe: FakeStripe) -> dict[str, Any]:
    # Staging and production sharing one Stripe test account: our metadata, not our agency.
    intent = stripe.foreign_intent("pi_staging")
    intent["metadata"] = {"invoice_id": "7", "agency_id": "987654321"}
    return stripe.event("payment_intent.succeeded", intent)


@pytest.mark.parametrize(
    "foreign",
    [_web_shop_payment, _payment_link_checkout, _refund_in_the_web_shop, _another_installation],
    ids=["web shop", "Payment Link", "web shop refund", "another installation"],
)
def test_an_event_about_a_payment_clientledger_did_not_create_is_acknowledged_and_ignored(
    stripe: FakeStripe, foreign: Any
) -> None:
    event = foreign(stripe)

    assert [deliver(event), deliver(event)] == [200, 200]

    stored = StripeEvent.objects.get()
    assert (stored.status, stored.attempts) == (StripeEventStatus.IGNORED, 1)
    assert "not created by ClientLedger" in stored.error
    assert (Payment.objects.count(), LedgerEntry.objects.count()) == (0, 0)


def test_a_payment_intent_not_yet_attempted_records_nothing(
    stripe: FakeStripe, open_invoice: OpenInvoice
) -> None:
    intent = stripe.intent("pi_1", invoice=open_invoice("250.00"), status="requires_payment_method")

    assert deliver(stripe.event("payment_intent.created", intent)) == 200

    assert Payment.objects.count() == 0


def test_a_payment_above_the_balance_leaves_the_rest_as_client_credit(
    stripe: FakeStripe, open_invoice: OpenInvoice
) -> None:
    invoice = open_invoice("100.00")

    assert deliver(session_completed(stripe, invoice, amount=15000)) == 200

    invoice.refresh_from_db()
    payment = Payment.objects.get()
    assert invoice.status == InvoiceStatus.PAID
    assert payment.allocations.get().amount_minor == 10000
    assert ledger_mismatches() == []


def test_the_state_stripe_reports_wins_over_a_stale_event_snapshot(
    stripe: FakeStripe, open_invoice: OpenInvoice
) -> None:
    invoice = open_invoice("100.00")
    processing = stripe.event(
        "payment_intent.processing",
        stripe.intent("pi_1", invoice=invoice, status="processing", method="us_bank_account"),
    )
    stripe.intent("pi_1", invoice=invoice, status="succeeded", method="us_bank_account")

    assert deliver(processing) == 200

    invoice.refresh_from_db()
    assert Payment.objects.get().status == "succeeded"
    assert invoice.status == InvoiceStatus.PAID


def test_a_payment_intent_in_another_currency_fails_and_is_kept_for_a_retry(
    stripe: FakeStripe, open_invoice: OpenInvoice
) -> None:
    invoice = open_invoice("100.00")
    event = session_completed(stripe, invoice)
    stripe.intents["pi_1"]["currency"] = "eur"

    assert deliver(event) == 500

    stored = StripeEvent.objects.get()
    assert stored.status == StripeEventStatus.FAILED
    assert "EUR" in stored.error
    assert Payment.objects.count() == 0


def test_a_failed_event_succeeds_when_its_copy_arrives_after_stripe_is_reachable(
    stripe: FakeStripe, open_invoice: OpenInvoice
) -> None:
    invoice = open_invoice("100.00")
    event = session_completed(stripe, invoice)
    kept = stripe.intents.pop("pi_1")

    assert deliver(event) == 500
    assert "Stripe could not be read" in StripeEvent.objects.get().error

    stripe.intents["pi_1"] = kept
    assert deliver(event) == 200

    stored = StripeEvent.objects.get()
    assert (stored.status, stored.attempts) == (StripeEventStatus.PROCESSED, 2)
    assert Payment.objects.count() == 1


def test_a_payment_intent_of_another_agency_is_refused(
    stripe: FakeStripe, open_invoice: OpenInvoice
) -> None:
    other_agency = AgencyFactory()
    invoice = open_invoice("100.00")
    event = session_completed(stripe, invoice)
    # The event claims our agency, the PaymentIntent Stripe holds names another one.
    stripe.intents["pi_1"]["metadata"]["agency_id"] = str(other_agency.pk)

    assert deliver(event) == 500

    assert "not this agency's" in StripeEvent.objects.get().error
    assert Payment.objects.count() == 0


def test_an_agency_with_its_own_secret_refuses_the_environment_one(
    stripe: FakeStripe, open_invoice: OpenInvoice
) -> None:
    invoice = open_invoice("100.00")
    StripeAccount.objects.create(agency=invoice.agency, webhook_secret="whsec_own")
    payload = json.dumps(session_completed(stripe, invoice))

    assert deliver(payload, signature_header(payload)) == 400
    assert deliver(payload, signature_header(payload, "whsec_own")) == 200
    assert Payment.objects.count() == 1


def test_an_event_without_our_metadata_is_matched_by_the_secret_that_signed_it(
    stripe: FakeStripe, open_invoice: OpenInvoice
) -> None:
    invoice = open_invoice("100.00")
    StripeAccount.objects.create(agency=invoice.agency, webhook_secret="whsec_own")
    session_completed(stripe, invoice)
    dispute = stripe.event(
        "charge.dispute.created", stripe.dispute("pi_1", status="needs_response")
    )
    payload = json.dumps(dispute)

    assert deliver(payload, signature_header(payload, "whsec_own")) == 200

    assert StripeEvent.objects.get().agency == invoice.agency
    assert Payment.objects.get().disputes.get().status == "needs_response"


def _tampered(payload: str) -> str:
    tampered = payload.replace('"amount_total": 10000', '"amount_total": 1')
    assert tampered != payload
    return tampered


@pytest.mark.parametrize(
    "attack",
    ["forged", "tampered body", "wrong secret", "stale", "missing", "not json"],
)
def test_a_bad_signature_gets_400_and_writes_nothing(
    stripe: FakeStripe, open_invoice: OpenInvoice, attack: str
) -> None:
    payload = json.dumps(session_completed(stripe, open_invoice("100.00")))
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


def _event_body(obj: dict[str, Any], event_type: str = "payment_intent.succeeded") -> str:
    return json.dumps({"id": "evt_hostile", "type": event_type, "data": {"object": obj}})


def _nested(depth: int) -> str:
    return '{"id": "evt_deep", "type": "x", "data": ' + '{"a": ' * depth + "1" + "}" * depth + "}"


HOSTILE_BODIES: dict[str, str | bytes] = {
    "data is not an object": '{"id": "e", "data": "x"}',
    "metadata is a list": _event_body({"object": "payment_intent", "id": "pi_1", "metadata": [1]}),
    "2,000 levels of nesting": _nested(2000),
    "a 30-digit agency id": _event_body(
        {"object": "payment_intent", "id": "pi_1", "metadata": {"agency_id": "9" * 30}}
    ),
    "an agency id in other digits": _event_body(
        {"object": "payment_intent", "id": "pi_1", "metadata": {"agency_id": "\u0661\u00b2"}}
    ),
    "not UTF-8": b'{"id": "evt_\xff", "type": "x", "data": {"object": {}}}',
    "an array": "[1, 2]",
    "empty": "",
}


@pytest.mark.parametrize("unsigned", ["no header", "forged", "another secret"])
@pytest.mark.parametrize("body", HOSTILE_BODIES)
def test_a_hostile_body_without_our_signature_gets_400_and_writes_nothing(
    body: str, unsigned: str
) -> None:
    payload = HOSTILE_BODIES[body]
    header = {
        "no header": "",
        "forged": f"t={int(time.time())},v1={'0' * 64}",
        "another secret": signature_header(payload, "whsec_attacker"),
    }[unsigned]

    assert deliver(payload, header) == 400

    assert rows() == (0, 0, 0)


@pytest.mark.parametrize(
    "header",
    [
        "t=1,v1=\u00e9",
        "v1=" + "0" * 64,
        "t=" + "9" * 5000 + ",v1=" + "0" * 64,
        "t=abc,v1=" + "0" * 64,
        ",,,==,",
        "t=1," + "v1=" + "0" * 64 + "," * 2000,
    ],
    ids=["non-ASCII", "no time", "a 5,000-digit time", "a time in letters", "commas", "huge"],
)
def test_a_malformed_signature_header_gets_400(header: str) -> None:
    assert deliver(HOSTILE_BODIES["metadata is a list"], header) == 400
    assert rows() == (0, 0, 0)


@pytest.mark.parametrize(
    "body", ["data is not an object", "2,000 levels of nesting", "not UTF-8", "an array", "empty"]
)
def test_a_signed_body_that_is_not_an_event_gets_400(body: str) -> None:
    payload = HOSTILE_BODIES[body]

    assert deliver(payload, signature_header(payload)) == 400

    assert rows() == (0, 0, 0)


@pytest.mark.parametrize("metadata", [[1], {"agency_id": "9" * 30}, {"agency_id": 7}])
def test_a_signed_event_with_metadata_naming_nothing_of_ours_is_acknowledged(
    metadata: Any,
) -> None:
    customer = published("customer", id="cus_1", discount=None, metadata=metadata)
    payload = _event_body(customer, "customer.updated")

    assert deliver(payload, signature_header(payload)) == 200

    stored = StripeEvent.objects.get()
    assert (stored.agency, stored.status) == (None, StripeEventStatus.PROCESSED)


def test_an_oversized_body_gets_400_without_being_read(settings: Settings) -> None:
    payload = " " * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)

    assert deliver(payload, signature_header(payload)) == 400


def test_the_webhook_answers_405_to_get() -> None:
    assert HttpClient().get(reverse("stripe_webhook")).status_code == 405
