"""Bringing a Stripe payment and its refunds to the state Stripe reports."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q

from clientledger.accounts.models import Agency
from clientledger.billing.models import Invoice
from clientledger.billing.services.settlement import invoices_lock
from clientledger.core import clock
from clientledger.core.audit import audit_record
from clientledger.core.money import from_minor
from clientledger.crm.models import Client
from clientledger.payments.audit_verbs import PaymentVerb
from clientledger.payments.models import (
    Payment,
    PaymentMethod,
    PaymentStatus,
    Refund,
    RefundStatus,
)
from clientledger.payments.selectors import (
    allocation_spread,
    oldest_first,
    refund_invoice_ids,
)
from clientledger.payments.services.common import (
    client_lock,
    finance_alert,
    money_text,
)
from clientledger.payments.services.disputes import dispute_converge
from clientledger.payments.services.manual import payment_book
from clientledger.payments.services.refunds import refund_fail, refund_hold, refund_succeed
from clientledger.payments.services.stripe_reports import (
    StripeDisputeReport,
    StripeIntentReport,
    StripeRefundReport,
)
from clientledger.payments.states import payment_transition_check


def stripe_payment_converge(
    *,
    agency: Agency,
    intent: StripeIntentReport,
    refunds: Iterable[StripeRefundReport] = (),
    disputes: Iterable[StripeDisputeReport] = (),
) -> Payment | None:
    """Bring our payment for one PaymentIntent, its refunds and its disputes to the state
    Stripe reports, whatever we knew before: applying the same report twice changes nothing.

    ACH: a processing PaymentIntent is a pending payment (the invoice shows it, nothing is
    booked); success books it like a card payment; failure while pending books nothing and
    tells staff. The money arrived whatever happened to the invoice meanwhile: it pays what
    the invoice still owes and the rest becomes the client's credit."""
    invoice = (
        Invoice.objects.select_related("client").filter(agency=agency, pk=intent.invoice_id).first()
    )
    if invoice is None:
        raise ValidationError({"invoice": f"Invoice #{intent.invoice_id} is not this agency's."})
    client = invoice.client
    if intent.currency != client.currency:
        raise ValidationError(
            {"currency": f"{client.name} pays in {client.currency}, not in {intent.currency}."}
        )
    with transaction.atomic():
        touched = refund_invoice_ids(Q(payment__stripe_payment_intent_id=intent.intent_id))
        invoices = invoices_lock(agency=agency, ids={invoice.pk, *touched})
        locked_client = client_lock(client.pk)
        payment = (
            Payment.objects.select_for_update()
            .filter(stripe_payment_intent_id=intent.intent_id)
            .first()
        )
        if payment is not None and payment.agency_id != agency.pk:
            raise ValidationError({"payment": "The PaymentIntent belongs to another agency."})
        payment = _intent_converge(
            agency=agency,
            client=locked_client,
            invoice=invoices[invoice.pk],
            payment=payment,
            intent=intent,
        )
        if payment is None:
            return None
        for refund in refunds:
            _refund_converge(
                payment=payment, client=locked_client, invoices=invoices, report=refund
            )
        for dispute in disputes:
            dispute_converge(
                payment=payment, client=locked_client, invoices=invoices, report=dispute
            )
        return payment


def _intent_converge(
    *,
    agency: Agency,
    client: Client,
    invoice: Invoice,
    payment: Payment | None,
    intent: StripeIntentReport,
) -> Payment | None:
    """Our payment for the intent (None: nothing to record) brought to the intent's state:
    booked when it succeeds, failed when the bank refuses it, with Stripe's fee and net."""
    if payment is None:
        payment = _intent_payment_create(
            agency=agency, client=client, invoice=invoice, intent=intent
        )
        if payment is None:
            return None
    if payment.status == PaymentStatus.PENDING and intent.status == PaymentStatus.SUCCEEDED:
        payment_transition_check(payment.status, PaymentStatus.SUCCEEDED)
        payment.status = PaymentStatus.SUCCEEDED
        payment.amount_minor = intent.amount_minor
        payment.method = intent.method
        payment.received_on = clock.agency_today(agency)
        payment.save(update_fields=["status", "amount_minor", "method", "received_on"])
        plan = allocation_spread(oldest_first([invoice]), payment.amount_minor)
        payment_book(actor=None, client=client, payment=payment, plan=plan)
    elif payment.status == PaymentStatus.PENDING and intent.status == PaymentStatus.FAILED:
        _payment_fail(payment=payment, client=client, message=intent.failure_message)
    if (intent.fee_minor, intent.net_minor) != (None, None) and (
        payment.fee_minor,
        payment.net_minor,
    ) != (intent.fee_minor, intent.net_minor):
        payment.fee_minor = intent.fee_minor
        payment.net_minor = intent.net_minor
        payment.save(update_fields=["fee_minor", "net_minor"])
    return payment


def _intent_payment_create(
    *, agency: Agency, client: Client, invoice: Invoice, intent: StripeIntentReport
) -> Payment | None:
    """Our pending payment for a PaymentIntent we did not know, or None when there is
    nothing to record: a declined card leaves the client on Stripe's page to try again,
    while a bank debit that failed was a payment in flight, which staff must hear about."""
    ach_failed = (
        intent.status == PaymentStatus.FAILED and intent.method == PaymentMethod.US_BANK_ACCOUNT
    )
    if intent.status not in (PaymentStatus.PENDING, PaymentStatus.SUCCEEDED) and not ach_failed:
        return None
    if intent.amount_minor <= 0:
        raise ValidationError({"amount": "The amount must be greater than zero."})
    payment = Payment(
        agency=agency,
        client=client,
        invoice=invoice,
        method=intent.method,
        status=PaymentStatus.PENDING,
        amount_minor=intent.amount_minor,
        currency=intent.currency,
        received_on=clock.agency_today(agency),
        reference=intent.intent_id,
        stripe_payment_intent_id=intent.intent_id,
    )
    payment.save(force_insert=True)
    if intent.status == PaymentStatus.PENDING:
        audit_record(
            agency=agency,
            actor=None,
            verb=PaymentVerb.PENDING,
            subject=payment,
            client_id=client.pk,
            data={
                "amount": from_minor(payment.amount_minor, payment.currency),
                "invoice": str(invoice),
            },
        )
    return payment


def _payment_fail(*, payment: Payment, client: Client, message: str) -> None:
    """A pending (ACH) payment the bank refused: nothing was booked, so nothing is reversed;
    the invoice stops showing it as pending and staff are told."""
    payment_transition_check(payment.status, PaymentStatus.FAILED)
    payment.status = PaymentStatus.FAILED
    payment.failure_message = message
    payment.save(update_fields=["status", "failure_message"])
    audit_record(
        agency=payment.agency,
        actor=None,
        verb=PaymentVerb.FAILED,
        subject=payment,
        client_id=client.pk,
        data={
            "amount": from_minor(payment.amount_minor, payment.currency),
            "error": message,
            "invoice": str(payment.invoice) if payment.invoice else "",
        },
    )
    finance_alert(
        agency=payment.agency,
        subject=f"Bank payment of {money_text(payment.amount_minor, payment.currency)} failed",
        message=(
            f"The {payment.get_method_display()} payment of"
            f" {money_text(payment.amount_minor, payment.currency)} from {client.name}"
            f"{f' for invoice {payment.invoice}' if payment.invoice else ''} failed:"
            f" {message or 'the bank gave no reason'}. The invoice is open again."
        ),
        payment=payment,
    )


def _refund_converge(
    *, payment: Payment, client: Client, invoices: dict[int, Invoice], report: StripeRefundReport
) -> None:
    refunds = Refund.objects.select_for_update().select_related("payment")
    refund = refunds.filter(stripe_refund_id=report.refund_id).first()
    if refund is None and report.local_id is not None:
        refund = refunds.filter(pk=report.local_id, payment=payment).first()
        if refund is not None and refund.status == RefundStatus.FAILED:
            # We gave up on the request (Stripe unreachable for hours) but Stripe made the
            # refund after all: the money left, so the books take it again as a new refund.
            refund = None if report.status != RefundStatus.FAILED else refund
    if refund is None:
        if report.status == RefundStatus.FAILED:
            return
        # Made in Stripe's dashboard: our books follow.
        refund = refund_hold(
            actor=None,
            payment=payment,
            client=client,
            invoices=invoices,
            amount_minor=report.amount_minor,
            reason="Refunded in Stripe",
            status=RefundStatus.PENDING,
            via_stripe=True,
            stripe_refund_id=report.refund_id,
        )
    refund.payment = payment
    if refund.stripe_refund_id != report.refund_id:
        refund.stripe_refund_id = report.refund_id
        refund.save(update_fields=["stripe_refund_id"])
    if report.status == RefundStatus.SUCCEEDED and refund.status == RefundStatus.PENDING:
        refund_succeed(refund)
    elif report.status == RefundStatus.FAILED and refund.status != RefundStatus.FAILED:
        refund_fail(refund=refund, client=client, invoices=invoices, message=report.failure_message)
