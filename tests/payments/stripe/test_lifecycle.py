"""Stripe payments after the first event: ACH through pending, refunds through Stripe,
disputes, and `stripe reconcile` repairing what a lost webhook missed."""

from __future__ import annotations

import datetime as dt
import itertools
import typing
from decimal import Decimal
from typing import Any

import pytest
import stripe
from django.core.exceptions import ValidationError

from clientledger.billing.ledger import ledger_mismatches
from clientledger.billing.models import Invoice, InvoiceStatus, LedgerEntry, LedgerEntryKind
from clientledger.crm.models import Client
from clientledger.notifications.models import EmailMessage
from clientledger.notifications.services import email_render
from clientledger.payments.models import (
    Dispute,
    DisputeStatus,
    Payment,
    PaymentStatus,
    Refund,
    RefundStatus,
    StripeEvent,
    StripeRequest,
    StripeRequestStatus,
)
from clientledger.payments.selectors import client_credit_minor
from clientledger.payments.services.manual import payment_record_manual
from clientledger.payments.services.refunds import payment_refund, refund_request_failed
from clientledger.payments.stripe.inbox import stripe_reconcile
from clientledger.payments.stripe.sync import stripe_requests_send_due
from tests.payments.conftest import NOW, OpenInvoice
from tests.payments.stripe_fake import FakeStripe, deliver

pytestmark = pytest.mark.django_db

ACH = "us_bank_account"


def _session(fake: FakeStripe, intent_id: str, kind: str, payment_status: str) -> dict[str, Any]:
    return fake.event(kind, fake.completed_session(intent_id, paid=payment_status == "paid"))


def ach_events(fake: FakeStripe, invoice: Invoice, intent_id: str, outcome: str) -> list[Any]:
    """The five events of one ACH payment, in the order Stripe sends them; afterwards Stripe
    holds the PaymentIntent in its final state."""
    processing = fake.intent(intent_id, invoice=invoice, status="processing", method=ACH)
    events = [
        _session(fake, intent_id, "checkout.session.completed", "unpaid"),
        fake.event("payment_intent.processing", processing),
    ]
    if outcome == "succeeded":
        final = fake.intent(intent_id, invoice=invoice, status="succeeded", method=ACH, fee=80)
        events += [
            _session(fake, intent_id, "checkout.session.async_payment_succeeded", "paid"),
            fake.event("payment_intent.succeeded", final),
            fake.event("charge.succeeded", fake.charge(intent_id)),
        ]
    else:
        final = fake.intent(
            intent_id,
            invoice=invoice,
            status="requires_payment_method",
            method=ACH,
            error="The customer's bank account has insufficient funds.",
        )
        events += [
            _session(fake, intent_id, "checkout.session.async_payment_failed", "unpaid"),
            fake.event("payment_intent.payment_failed", final),
            fake.event("charge.failed", fake.charge(intent_id)),
        ]
    return events


def card_payment(fake: FakeStripe, invoice: Invoice, intent_id: str = "pi_card") -> Payment:
    intent = fake.intent(intent_id, invoice=invoice, status="succeeded", fee=320)
    assert deliver(fake.event("payment_intent.succeeded", intent)) == 200
    return Payment.objects.get(stripe_payment_intent_id=intent_id)


def balance(client: Client) -> int:
    client.refresh_from_db()
    return client.balance_minor


# --- ACH ------------------------------------------------------------------------------------


def test_an_ach_payment_is_pending_without_paying_the_invoice_then_paid_on_success(
    fake_stripe: FakeStripe, payer: Client, open_invoice: OpenInvoice
) -> None:
    invoice = open_invoice("400.00")
    owed = balance(payer)
    processing = fake_stripe.intent("pi_ach", invoice=invoice, status="processing", method=ACH)

    assert deliver(fake_stripe.event("payment_intent.processing", processing)) == 200

    invoice.refresh_from_db()
    payment = Payment.objects.get()
    assert (payment.status, payment.method, payment.invoice) == ("pending", ACH, invoice)
    assert (invoice.status, invoice.amount_paid_minor) == (InvoiceStatus.OPEN, 0)
    assert balance(payer) == owed
    assert not payment.allocations.exists()

    succeeded = fake_stripe.intent(
        "pi_ach", invoice=invoice, status="succeeded", method=ACH, fee=500
    )
    assert deliver(fake_stripe.event("payment_intent.succeeded", succeeded)) == 200

    invoice.refresh_from_db()
    payment.refresh_from_db()
    assert (payment.status, payment.fee_minor, payment.net_minor) == ("succeeded", 500, 39500)
    assert invoice.status == InvoiceStatus.PAID
    assert balance(payer) == owed - 40000
    assert ledger_mismatches() == []


def test_a_failed_ach_payment_books_nothing_reopens_the_invoice_and_tells_staff(
    fake_stripe: FakeStripe, payer: Client, open_invoice: OpenInvoice, finance: Any
) -> None:
    invoice = open_invoice("400.00")
    owed = balance(payer)
    before = LedgerEntry.objects.count()

    for event in ach_events(fake_stripe, invoice, "pi_ach", "failed"):
        assert deliver(event) == 200

    invoice.refresh_from_db()
    payment = Payment.objects.get()
    assert payment.status == PaymentStatus.FAILED
    assert "insufficient funds" in payment.failure_message
    assert (invoice.status, invoice.amount_paid_minor) == (InvoiceStatus.OPEN, 0)
    assert balance(payer) == owed
    assert LedgerEntry.objects.count() == before
    alert = EmailMessage.objects.get(subject__contains="Bank payment")
    assert alert.to == [finance.user.email]
    assert "insufficient funds" in email_render(alert).text
    assert ledger_mismatches() == []


@pytest.mark.parametrize("outcome", ["succeeded", "failed"])
def test_all_120_orderings_of_the_five_events_of_an_ach_payment_end_as_stripe_reports(
    fake_stripe: FakeStripe, payer: Client, open_invoice: OpenInvoice, outcome: str
) -> None:
    orderings = list(itertools.permutations(range(5)))
    assert len(orderings) == 120
    invoices = {}
    for number, ordering in enumerate(orderings):
        invoice = open_invoice("75.00")
        events = ach_events(fake_stripe, invoice, f"pi_{number}", outcome)
        for index in ordering:
            assert deliver(events[index]) == 200
        invoices[f"pi_{number}"] = invoice

    payments = Payment.objects.all()
    assert payments.count() == 120
    assert set(payments.values_list("status", flat=True)) == {outcome}
    paid = {
        invoice.status
        for invoice in Invoice.objects.filter(pk__in=[i.pk for i in invoices.values()])
    }
    assert paid == ({InvoiceStatus.PAID} if outcome == "succeeded" else {InvoiceStatus.OPEN})
    assert StripeEvent.objects.filter(status="processed").count() == 600
    assert ledger_mismatches() == []


# --- refunds through Stripe -------------------------------------------------------------------


def refund_through_stripe(payment: Payment, amount: str) -> Refund:
    return payment_refund(
        agency=payment.agency,
        actor=None,
        payment=payment,
        amount=Decimal(amount),
        reason="Client cancelled",
    )


def test_a_stripe_refund_holds_its_amount_is_requested_after_commit_and_succeeds_by_webhook(
    fake_stripe: FakeStripe, payer: Client, open_invoice: OpenInvoice
) -> None:
    invoice = open_invoice("100.00")
    payment = card_payment(fake_stripe, invoice)
    paid = balance(payer)

    refund = refund_through_stripe(payment, "40.00")

    invoice.refresh_from_db()
    assert (refund.status, refund.via_stripe) == (RefundStatus.PENDING, True)
    assert (invoice.status, invoice.balance_due_minor) == (InvoiceStatus.OPEN, 4000)
    assert balance(payer) == paid + 4000
    assert fake_stripe.refund_requests == []

    assert stripe_requests_send_due(as_of=NOW) == {"done": 1}

    sent = fake_stripe.refund_requests[0]
    assert sent["form"]["payment_intent"] == "pi_card"
    assert sent["form"]["amount"] == "4000"
    assert sent["form"]["metadata[refund_id]"] == str(refund.pk)
    assert sent["idempotency_key"] == f"refund-{payment.agency_id}-{refund.pk}"
    refund.refresh_from_db()
    assert refund.status == RefundStatus.PENDING
    assert refund.stripe_refund_id

    confirmed = fake_stripe.refund("pi_card", 4000, refund_id=refund.stripe_refund_id)
    assert deliver(fake_stripe.event("refund.updated", confirmed)) == 200

    refund.refresh_from_db()
    payment.refresh_from_db()
    assert refund.status == RefundStatus.SUCCEEDED
    assert payment.status == PaymentStatus.PARTIALLY_REFUNDED
    assert Refund.objects.count() == 1
    assert ledger_mismatches() == []


def test_a_stripe_refund_that_fails_gives_the_money_back_to_the_invoice(
    fake_stripe: FakeStripe, payer: Client, open_invoice: OpenInvoice, finance: Any
) -> None:
    invoice = open_invoice("100.00")
    payment = card_payment(fake_stripe, invoice)
    paid = balance(payer)
    refund = refund_through_stripe(payment, "100.00")
    stripe_requests_send_due(as_of=NOW)
    refund.refresh_from_db()

    failed = fake_stripe.refund(
        "pi_card", 10000, status="failed", refund_id=refund.stripe_refund_id
    )
    assert deliver(fake_stripe.event("refund.failed", failed)) == 200

    refund.refresh_from_db()
    payment.refresh_from_db()
    invoice.refresh_from_db()
    assert refund.status == RefundStatus.FAILED
    assert payment.status == PaymentStatus.SUCCEEDED
    assert (invoice.status, invoice.balance_due_minor) == (InvoiceStatus.PAID, 0)
    assert balance(payer) == paid
    assert LedgerEntry.objects.filter(kind=LedgerEntryKind.REFUND_FAILED).count() == 1
    assert EmailMessage.objects.filter(subject__contains="Refund of $100.00 failed").exists()
    assert ledger_mismatches() == []


def test_a_refund_stripe_refuses_fails_at_once_and_restores_the_balance(
    fake_stripe: FakeStripe, payer: Client, open_invoice: OpenInvoice
) -> None:
    invoice = open_invoice("100.00")
    payment = card_payment(fake_stripe, invoice)
    paid = balance(payer)
    refund = refund_through_stripe(payment, "30.00")
    fake_stripe.refund_error = (
        400,
        {"error": {"type": "invalid_request_error", "message": "Charge ch_1 has been disputed."}},
    )

    assert stripe_requests_send_due(as_of=NOW) == {"failed": 1}

    refund.refresh_from_db()
    invoice.refresh_from_db()
    assert (refund.status, refund.failure_message) == (
        RefundStatus.FAILED,
        "Charge ch_1 has been disputed.",
    )
    assert invoice.status == InvoiceStatus.PAID
    assert balance(payer) == paid
    assert ledger_mismatches() == []


def test_a_refund_request_stripe_cannot_answer_is_retried_later_with_the_same_key(
    fake_stripe: FakeStripe, open_invoice: OpenInvoice
) -> None:
    payment = card_payment(fake_stripe, open_invoice("100.00"))
    refund = refund_through_stripe(payment, "30.00")
    fake_stripe.refund_error = (500, {"error": {"type": "api_error", "message": "Try again"}})

    assert stripe_requests_send_due(as_of=NOW) == {"queued": 1}
    request = StripeRequest.objects.get()
    assert request.next_attempt_at > NOW
    assert stripe_requests_send_due(as_of=NOW) == {}

    fake_stripe.refund_error = None
    assert stripe_requests_send_due(as_of=request.next_attempt_at) == {"done": 1}

    keys = {sent["idempotency_key"] for sent in fake_stripe.refund_requests}
    assert keys == {f"refund-{payment.agency_id}-{refund.pk}"}
    assert StripeRequest.objects.get().status == StripeRequestStatus.DONE


def test_a_refund_above_what_is_left_is_refused_and_changes_nothing(
    fake_stripe: FakeStripe, open_invoice: OpenInvoice
) -> None:
    payment = card_payment(fake_stripe, open_invoice("100.00"))
    refund_through_stripe(payment, "70.00")
    entries = LedgerEntry.objects.count()

    with pytest.raises(ValidationError, match=r"At most \$30.00 can be refunded"):
        refund_through_stripe(payment, "30.01")

    assert (Refund.objects.count(), StripeRequest.objects.count()) == (1, 1)
    assert LedgerEntry.objects.count() == entries


def test_a_refund_made_in_the_stripe_dashboard_reaches_the_books(
    fake_stripe: FakeStripe, payer: Client, open_invoice: OpenInvoice
) -> None:
    invoice = open_invoice("100.00")
    card_payment(fake_stripe, invoice)
    paid = balance(payer)

    fake_stripe.refund("pi_card", 2500)
    assert deliver(fake_stripe.event("charge.refunded", fake_stripe.charge("pi_card"))) == 200

    refund = Refund.objects.get()
    invoice.refresh_from_db()
    assert (refund.status, refund.amount_minor) == (RefundStatus.SUCCEEDED, 2500)
    assert invoice.balance_due_minor == 2500
    assert balance(payer) == paid + 2500
    assert ledger_mismatches() == []


def test_charge_refund_updated_events_move_a_refund_like_the_other_refund_events(
    fake_stripe: FakeStripe, payer: Client, open_invoice: OpenInvoice
) -> None:
    card_payment(fake_stripe, open_invoice("100.00"))
    paid = balance(payer)

    pending = fake_stripe.refund("pi_card", 2500, status="pending")
    assert deliver(fake_stripe.event("charge.refund.updated", pending)) == 200
    assert Refund.objects.get().status == RefundStatus.PENDING

    done = fake_stripe.refund("pi_card", 2500, refund_id=pending["id"])
    assert deliver(fake_stripe.event("charge.refund.updated", done)) == 200

    assert Refund.objects.get().status == RefundStatus.SUCCEEDED
    assert balance(payer) == paid + 2500
    assert ledger_mismatches() == []


# --- disputes -------------------------------------------------------------------------------


def test_a_dispute_flags_the_invoice_and_a_lost_one_reverses_the_payment(
    fake_stripe: FakeStripe, payer: Client, open_invoice: OpenInvoice, finance: Any
) -> None:
    invoice = open_invoice("100.00")
    payment = card_payment(fake_stripe, invoice)
    paid = balance(payer)

    opened = fake_stripe.dispute("pi_card", status="needs_response")
    assert deliver(fake_stripe.event("charge.dispute.created", opened)) == 200

    dispute = Dispute.objects.get()
    assert (dispute.invoice, dispute.is_open, dispute.amount_minor) == (invoice, True, 10000)
    assert EmailMessage.objects.filter(subject__contains="disputed a payment of $100.00").exists()
    assert balance(payer) == paid

    lost = fake_stripe.dispute("pi_card", status="lost")
    assert deliver(fake_stripe.event("charge.dispute.closed", lost)) == 200
    assert deliver(fake_stripe.event("charge.dispute.closed", lost)) == 200

    dispute.refresh_from_db()
    invoice.refresh_from_db()
    payment.refresh_from_db()
    assert not dispute.is_open
    assert payment.status == PaymentStatus.REFUNDED
    assert (invoice.status, invoice.balance_due_minor) == (InvoiceStatus.OPEN, 10000)
    assert balance(payer) == paid + 10000
    assert LedgerEntry.objects.filter(kind=LedgerEntryKind.PAYMENT_REVERSED).count() == 1
    assert ledger_mismatches() == []


def test_a_won_dispute_clears_the_flag_and_keeps_the_money(
    fake_stripe: FakeStripe, payer: Client, open_invoice: OpenInvoice
) -> None:
    invoice = open_invoice("100.00")
    card_payment(fake_stripe, invoice)
    paid = balance(payer)
    deliver(
        fake_stripe.event(
            "charge.dispute.created", fake_stripe.dispute("pi_card", status="under_review")
        )
    )

    assert (
        deliver(
            fake_stripe.event("charge.dispute.closed", fake_stripe.dispute("pi_card", status="won"))
        )
        == 200
    )

    invoice.refresh_from_db()
    assert Dispute.objects.get().status == "won"
    assert invoice.status == InvoiceStatus.PAID
    assert balance(payer) == paid
    assert not Refund.objects.exists()


def test_our_dispute_statuses_are_every_status_stripes_api_describes() -> None:
    [described] = [
        typing.get_args(option)
        for option in typing.get_args(stripe.Dispute.__annotations__["status"])
        if typing.get_origin(option) is typing.Literal
    ]

    assert set(DisputeStatus.values) == set(described)


def _dispute_moves(fake: FakeStripe, *statuses: str) -> None:
    for status in statuses:
        assert (
            deliver(fake.event("charge.dispute.updated", fake.dispute("pi_card", status=status)))
            == 200
        )


def test_a_lost_dispute_won_on_appeal_books_the_payment_back(
    fake_stripe: FakeStripe, payer: Client, open_invoice: OpenInvoice, finance: Any
) -> None:
    invoice = open_invoice("100.00")
    payment = card_payment(fake_stripe, invoice)
    paid = balance(payer)
    _dispute_moves(fake_stripe, "needs_response", "lost", "appeal_needs_response")

    dispute = Dispute.objects.get()
    invoice.refresh_from_db()
    assert dispute.is_open
    assert (invoice.status, balance(payer)) == (InvoiceStatus.OPEN, paid + 10000)

    _dispute_moves(fake_stripe, "appeal_under_review", "won", "won")

    dispute.refresh_from_db()
    invoice.refresh_from_db()
    payment.refresh_from_db()
    reversal = Refund.objects.get(dispute=dispute)
    assert (dispute.status, dispute.is_open) == ("won", False)
    assert (payment.status, invoice.status) == (PaymentStatus.SUCCEEDED, InvoiceStatus.PAID)
    assert reversal.status == RefundStatus.FAILED
    assert balance(payer) == paid
    kinds = list(
        LedgerEntry.objects.filter(client=payer).order_by("id").values_list("kind", flat=True)
    )
    assert kinds[-3:] == [
        LedgerEntryKind.PAYMENT_SUCCEEDED,
        LedgerEntryKind.PAYMENT_REVERSED,
        LedgerEntryKind.PAYMENT_SUCCEEDED,
    ]
    assert EmailMessage.objects.filter(subject__contains="Dispute won on appeal").count() == 1
    assert ledger_mismatches() == []


def test_money_won_back_on_appeal_for_an_invoice_paid_meanwhile_becomes_credit(
    fake_stripe: FakeStripe, payer: Client, open_invoice: OpenInvoice
) -> None:
    invoice = open_invoice("100.00")
    card_payment(fake_stripe, invoice)
    _dispute_moves(fake_stripe, "lost")
    payment_record_manual(
        agency=payer.agency,
        actor=None,
        client=payer,
        amount=Decimal("100.00"),
        currency="USD",
        received_on=NOW.date(),
        method="bank_transfer",
    )

    _dispute_moves(fake_stripe, "appeal_under_review", "won")

    invoice.refresh_from_db()
    assert (invoice.status, invoice.amount_paid_minor) == (InvoiceStatus.PAID, 10000)
    assert client_credit_minor(agency=payer.agency, client=payer) == 10000
    assert balance(payer) == -10000
    assert ledger_mismatches() == []


# --- reconcile ------------------------------------------------------------------------------


def _books() -> tuple[Any, ...]:
    return (
        sorted(Payment.objects.values_list("stripe_payment_intent_id", "status", "amount_minor")),
        sorted(Refund.objects.values_list("stripe_refund_id", "status", "amount_minor")),
        sorted(Dispute.objects.values_list("stripe_dispute_id", "status")),
        sorted(Invoice.objects.values_list("pk", "status", "amount_paid_minor")),
        sorted(Client.objects.values_list("pk", "balance_minor")),
        LedgerEntry.objects.count(),
        StripeEvent.objects.count(),
    )


def test_reconcile_repairs_what_lost_webhooks_missed_and_a_second_run_changes_nothing(
    fake_stripe: FakeStripe, payer: Client, open_invoice: OpenInvoice
) -> None:
    card_invoice, ach_invoice, refunded_invoice = (open_invoice("100.00") for _ in range(3))
    fake_stripe.event(
        "payment_intent.succeeded",
        fake_stripe.intent("pi_card", invoice=card_invoice, status="succeeded"),
    )
    # Only the first ACH event arrived; Stripe moved on without telling us.
    assert deliver(ach_events(fake_stripe, ach_invoice, "pi_ach", "succeeded")[1]) == 200
    fake_stripe.events.clear()
    card_payment(fake_stripe, refunded_invoice, intent_id="pi_refunded")
    fake_stripe.refund("pi_refunded", 10000)
    fake_stripe.event("charge.refunded", fake_stripe.charge("pi_refunded"))
    fake_stripe.event("payment_intent.succeeded", fake_stripe.intents["pi_card"])

    report = stripe_reconcile(since=NOW - dt.timedelta(days=3))

    assert report.failed == []
    assert report.new == 2
    statuses = dict(Payment.objects.values_list("stripe_payment_intent_id", "status"))
    assert statuses == {"pi_card": "succeeded", "pi_ach": "succeeded", "pi_refunded": "refunded"}
    for invoice, status in [
        (card_invoice, "paid"),
        (ach_invoice, "paid"),
        (refunded_invoice, "open"),
    ]:
        invoice.refresh_from_db()
        assert invoice.status == status
    assert client_credit_minor(agency=payer.agency, client=payer) == 0
    assert ledger_mismatches() == []

    books = _books()
    again = stripe_reconcile(since=NOW - dt.timedelta(days=3))
    assert (again.new, again.repaired, again.failed) == (0, 0, [])
    assert _books() == books


def test_a_refund_stripe_made_after_we_gave_up_on_the_request_is_booked_again(
    fake_stripe: FakeStripe, payer: Client, open_invoice: OpenInvoice
) -> None:
    invoice = open_invoice("100.00")
    payment = card_payment(fake_stripe, invoice)
    paid = balance(payer)
    refund = refund_through_stripe(payment, "30.00")
    refund_request_failed(refund_id=refund.pk, message="Stripe unreachable")
    assert balance(payer) == paid

    made = fake_stripe.refund("pi_card", 3000, refund_id="re_late")
    made["metadata"] = {"refund_id": str(refund.pk)}
    assert deliver(fake_stripe.event("refund.updated", made)) == 200

    refund.refresh_from_db()
    late = Refund.objects.get(stripe_refund_id="re_late")
    assert (refund.status, late.status, late.amount_minor) == ("failed", "succeeded", 3000)
    assert balance(payer) == paid + 3000
    assert ledger_mismatches() == []
