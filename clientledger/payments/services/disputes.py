"""Disputes: a lost dispute takes the money back, a dispute won on appeal returns it."""

from __future__ import annotations

from clientledger.billing.models import Invoice, LedgerEntryKind
from clientledger.billing.services.ledger import ledger_append
from clientledger.core import clock
from clientledger.core.audit import audit_record
from clientledger.core.money import from_minor
from clientledger.crm.models import Client
from clientledger.payments.audit_verbs import PaymentVerb
from clientledger.payments.models import (
    Dispute,
    DisputeStatus,
    Payment,
    PaymentStatus,
    Refund,
    RefundStatus,
)
from clientledger.payments.selectors import refund_held_minor
from clientledger.payments.services.common import finance_alert, money_text
from clientledger.payments.services.refunds import refund_give_back, refund_hold
from clientledger.payments.services.stripe_reports import StripeDisputeReport


def dispute_converge(
    *,
    payment: Payment,
    client: Client,
    invoices: dict[int, Invoice],
    report: StripeDisputeReport,
) -> None:
    """Bring our record of one dispute of a locked payment to what Stripe reports: a lost
    dispute takes the money back, a dispute won on appeal returns it."""
    dispute = (
        Dispute.objects.select_for_update().filter(stripe_dispute_id=report.dispute_id).first()
    )
    if dispute is None:
        dispute = _dispute_open(payment=payment, client=client, report=report)
    elif dispute.status != report.status:
        _dispute_status_follow(dispute=dispute, payment=payment, client=client, report=report)
    reversal = Refund.objects.select_for_update().filter(dispute=dispute).first()
    if dispute.status == DisputeStatus.LOST and reversal is None:
        _dispute_reverse(dispute=dispute, payment=payment, client=client, invoices=invoices)
    elif (
        dispute.status == DisputeStatus.WON
        and reversal is not None
        and reversal.status == RefundStatus.SUCCEEDED
    ):
        reversal.payment = payment
        _dispute_won_on_appeal(reversal=reversal, client=client, invoices=invoices)


def _dispute_open(*, payment: Payment, client: Client, report: StripeDisputeReport) -> Dispute:
    """A dispute we did not know: recorded on the invoice the payment paid, staff told."""
    first_paid = payment.allocations.order_by("id").values_list("invoice_id", flat=True).first()
    dispute = Dispute.objects.create(
        agency_id=payment.agency_id,
        payment=payment,
        invoice_id=payment.invoice_id or first_paid,
        stripe_dispute_id=report.dispute_id,
        amount_minor=report.amount_minor,
        currency=payment.currency,
        reason=report.reason,
        status=report.status,
    )
    audit_record(
        agency=payment.agency,
        actor=None,
        verb=PaymentVerb.DISPUTED,
        subject=payment,
        client_id=client.pk,
        data={
            "amount": from_minor(report.amount_minor, payment.currency),
            "reason": report.reason,
        },
    )
    money = money_text(report.amount_minor, payment.currency)
    finance_alert(
        agency=payment.agency,
        subject=f"{client.name} disputed a payment of {money}",
        message=(
            f"{client.name} disputed {money} of {payment} ({report.reason or 'no reason'})."
            " The invoice is flagged; answer the dispute in Stripe."
        ),
        payment=payment,
    )
    return dispute


def _dispute_status_follow(
    *, dispute: Dispute, payment: Payment, client: Client, report: StripeDisputeReport
) -> None:
    previous = dispute.status
    dispute.status = report.status
    dispute.amount_minor = report.amount_minor
    dispute.updated_at = clock.now()
    dispute.save(update_fields=["status", "amount_minor", "updated_at"])
    audit_record(
        agency=payment.agency,
        actor=None,
        verb=PaymentVerb.DISPUTE_UPDATED,
        subject=payment,
        client_id=client.pk,
        data={"from": previous, "to": report.status},
    )


def _dispute_reverse(
    *, dispute: Dispute, payment: Payment, client: Client, invoices: dict[int, Invoice]
) -> None:
    """A lost dispute takes the money back: the payment is reversed in the ledger and the
    invoices it paid reopen."""
    amount = min(dispute.amount_minor, payment.amount_minor - refund_held_minor(payment))
    if amount <= 0 or payment.status not in (
        PaymentStatus.SUCCEEDED,
        PaymentStatus.PARTIALLY_REFUNDED,
    ):
        return
    refund_hold(
        actor=None,
        payment=payment,
        client=client,
        invoices=invoices,
        amount_minor=amount,
        reason=f"Dispute lost ({dispute.reason or 'no reason'})",
        status=RefundStatus.SUCCEEDED,
        via_stripe=True,
        dispute=dispute,
    )
    money = money_text(amount, payment.currency)
    finance_alert(
        agency=payment.agency,
        subject=f"Dispute lost: {money} taken back from {payment}",
        message=(
            f"{client.name} won the dispute on {payment}: {money} is reversed and the invoices"
            " it paid are open again."
        ),
        payment=payment,
    )


def _dispute_won_on_appeal(
    *, reversal: Refund, client: Client, invoices: dict[int, Invoice]
) -> None:
    """A lost dispute won on appeal brings the money back: the reversal stands no more, the
    payment is booked back in the ledger and pays again the invoices it paid while they are
    open; the rest is the client's credit."""
    payment = reversal.payment
    refund_give_back(refund=reversal, invoices=invoices, message="Dispute won on appeal.")
    ledger_append(
        client=client,
        kind=LedgerEntryKind.PAYMENT_SUCCEEDED,
        document=payment,
        document_reference=str(payment),
        amount_minor=-reversal.amount_minor,
        currency=payment.currency,
        occurred_at=clock.now(),
    )
    money = money_text(reversal.amount_minor, payment.currency)
    audit_record(
        agency=payment.agency,
        actor=None,
        verb=PaymentVerb.REINSTATED,
        subject=payment,
        client_id=client.pk,
        data={"amount": from_minor(reversal.amount_minor, payment.currency)},
    )
    finance_alert(
        agency=payment.agency,
        subject=f"Dispute won on appeal: {money} of {payment} is back",
        message=(
            f"Stripe decided the appeal on {payment} from {client.name} in your favour:"
            f" {money} is booked back; it pays the invoices it paid again, or becomes the"
            " client's credit."
        ),
        payment=payment,
    )
