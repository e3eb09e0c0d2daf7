"""A credit note's credit in the client's money: spent by staff through client credit,
refunded by hand or through Stripe (pending until Stripe confirms, restored on failure)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from clientledger.billing.ledger import credit_mismatches, ledger_mismatches
from clientledger.billing.models import (
    CreditApplication,
    CreditNote,
    CreditSettlement,
    Invoice,
    InvoiceStatus,
    LedgerEntry,
    LedgerEntryKind,
)
from clientledger.billing.selectors.credits import (
    CreditNoteCredit,
    credit_note_credit,
    credit_note_remaining_minor,
)
from clientledger.billing.services.credit_notes import (
    CreditLine,
    credit_note_create,
    credit_note_issue,
)
from clientledger.crm.models import Client
from clientledger.lines.data import LineData
from clientledger.payments.models import Payment, PaymentStatus, Refund, RefundStatus
from clientledger.payments.selectors import client_credit_minor
from clientledger.payments.services.credit import credit_apply
from clientledger.payments.services.credit_note_refunds import credit_note_refund
from clientledger.payments.services.manual import payment_record_manual
from clientledger.payments.stripe.sync import stripe_requests_send_due
from tests.payments.conftest import NOW, TODAY, OpenInvoice
from tests.payments.stripe_fake import FakeStripe, deliver

pytestmark = pytest.mark.django_db


def credit_note(invoice: Invoice, amount: str, settlement: str) -> CreditNote:
    """An issued credit note of `amount` as one free adjustment line (no tax)."""
    line = LineData(description="Adjustment", quantity=Decimal(1), unit_price=Decimal(amount))
    draft = credit_note_create(
        invoice=invoice,
        actor=None,
        reason="Adjustment",
        settlement=settlement,
        lines=[CreditLine(data=line)],
    )
    return credit_note_issue(credit_note=draft, actor=None)


def pay_by_hand(client: Client, amount: str) -> Payment:
    return payment_record_manual(
        agency=client.agency,
        actor=None,
        client=client,
        amount=Decimal(amount),
        currency=client.currency,
        received_on=TODAY,
        method="bank_transfer",
    )


def pay_by_card(fake: FakeStripe, invoice: Invoice, intent_id: str = "pi_card") -> Payment:
    intent = fake.intent(intent_id, invoice=invoice, status="succeeded", fee=320)
    assert deliver(fake.event("payment_intent.succeeded", intent)) == 200
    return Payment.objects.get(stripe_payment_intent_id=intent_id)


def refund(note: CreditNote, amount: str) -> list[Refund]:
    return credit_note_refund(
        agency=note.agency, actor=None, credit_note=note, amount=Decimal(amount), reason="Goodwill"
    )


def money_of(invoice: Invoice) -> tuple[str, int, int, int]:
    invoice.refresh_from_db()
    return (
        invoice.status,
        invoice.amount_paid_minor,
        invoice.amount_credited_minor,
        invoice.balance_due_minor,
    )


def balance(client: Client) -> int:
    client.refresh_from_db()
    return client.balance_minor


def test_credit_kept_from_a_credit_note_is_client_credit_staff_apply_to_any_open_invoice(
    payer: Client, open_invoice: OpenInvoice
) -> None:
    credited, later = open_invoice("100.00"), open_invoice("80.00")
    kept = credit_note(credited, "30.00", CreditSettlement.KEEP)
    assert client_credit_minor(agency=payer.agency, client=payer) == 3000

    credit_apply(
        agency=payer.agency, actor=None, client=payer, invoice=later, amount=Decimal("30.00")
    )

    assert money_of(later) == (InvoiceStatus.OPEN, 0, 3000, 5000)
    assert credit_note_remaining_minor(kept) == 0
    assert client_credit_minor(agency=payer.agency, client=payer) == 0
    assert balance(payer) == 10000 + 8000 - 3000


def test_client_credit_is_spent_from_payments_first_then_credit_notes(
    payer: Client, open_invoice: OpenInvoice
) -> None:
    credited, later = open_invoice("100.00"), open_invoice("50.00")
    pay_by_hand(payer, "20.00")  # pays 20.00 of the oldest invoice, nothing left over
    pay_by_hand(payer, "110.00")  # the rest of it (80.00) and 30.00 of the later one
    kept = credit_note(credited, "15.00", CreditSettlement.KEEP)
    assert client_credit_minor(agency=payer.agency, client=payer) == 1500

    with pytest.raises(ValidationError) as refused:
        credit_apply(
            agency=payer.agency, actor=None, client=payer, invoice=later, amount=Decimal("15.01")
        )
    assert refused.value.message_dict == {"amount": ["The client has only $15.00 of credit."]}

    credit_apply(
        agency=payer.agency, actor=None, client=payer, invoice=later, amount=Decimal("15.00")
    )
    assert money_of(later) == (InvoiceStatus.OPEN, 3000, 1500, 500)
    assert CreditApplication.objects.get().credit_note_id == kept.pk


def test_a_manual_refund_of_a_credit_note_pays_the_money_back_and_the_credit_settles_the_invoice(
    payer: Client, open_invoice: OpenInvoice
) -> None:
    invoice = open_invoice("100.00")
    pay_by_hand(payer, "100.00")
    note = credit_note(invoice, "30.00", CreditSettlement.REFUND)
    assert money_of(invoice) == (InvoiceStatus.PAID, 10000, 0, 0)
    assert balance(payer) == -3000

    [made] = refund(note, "30.00")

    assert (made.status, made.via_stripe, made.amount_minor) == (
        RefundStatus.SUCCEEDED,
        False,
        3000,
    )
    assert money_of(invoice) == (InvoiceStatus.PAID, 7000, 3000, 0)
    assert balance(payer) == 0
    assert credit_note_credit(note) == CreditNoteCredit(
        applied_minor=0,
        refunded_minor=3000,
        remaining_minor=0,
    )
    assert LedgerEntry.objects.filter(kind=LedgerEntryKind.REFUND).get().amount_minor == 3000
    assert ledger_mismatches() == [] and credit_mismatches() == []


def test_a_refund_above_what_the_invoice_received_is_refused_and_changes_nothing(
    payer: Client, open_invoice: OpenInvoice
) -> None:
    invoice = open_invoice("100.00")
    pay_by_hand(payer, "20.00")
    note = credit_note(invoice, "50.00", CreditSettlement.REFUND)
    before = (money_of(invoice), balance(payer), Refund.objects.count())

    with pytest.raises(ValidationError) as refused:
        refund(note, "20.01")

    assert refused.value.message_dict == {
        "amount": [f"Invoice {invoice.number} received only $20.00 that can be refunded."]
    }
    assert (money_of(invoice), balance(payer), Refund.objects.count()) == before
    assert credit_note_remaining_minor(note) == 5000


def test_a_refund_above_the_remaining_credit_is_refused(
    payer: Client, open_invoice: OpenInvoice
) -> None:
    invoice = open_invoice("100.00")
    pay_by_hand(payer, "100.00")
    note = credit_note(invoice, "10.00", CreditSettlement.REFUND)

    with pytest.raises(ValidationError) as refused:
        refund(note, "10.01")

    assert refused.value.message_dict == {
        "amount": [f"Credit note {note.number} has only $10.00 of credit left."]
    }
    assert not Refund.objects.exists()


def test_a_stripe_refund_of_a_credit_note_is_pending_until_stripe_confirms(
    fake_stripe: FakeStripe, payer: Client, open_invoice: OpenInvoice
) -> None:
    invoice = open_invoice("100.00")
    payment = pay_by_card(fake_stripe, invoice)
    note = credit_note(invoice, "40.00", CreditSettlement.REFUND)

    [made] = refund(note, "40.00")

    assert (made.status, made.via_stripe, made.payment_id) == (
        RefundStatus.PENDING,
        True,
        payment.pk,
    )
    assert money_of(invoice) == (InvoiceStatus.PAID, 6000, 4000, 0)
    assert stripe_requests_send_due(as_of=NOW) == {"done": 1}
    made.refresh_from_db()
    confirmed = fake_stripe.refund("pi_card", 4000, refund_id=str(made.stripe_refund_id))
    assert deliver(fake_stripe.event("refund.updated", confirmed)) == 200

    made.refresh_from_db()
    payment.refresh_from_db()
    assert made.status == RefundStatus.SUCCEEDED
    assert payment.status == PaymentStatus.PARTIALLY_REFUNDED
    assert balance(payer) == 0
    assert credit_note_remaining_minor(note) == 0


def test_a_failed_stripe_refund_gives_the_credit_back_to_the_credit_note(
    fake_stripe: FakeStripe, payer: Client, open_invoice: OpenInvoice
) -> None:
    invoice = open_invoice("100.00")
    pay_by_card(fake_stripe, invoice)
    note = credit_note(invoice, "40.00", CreditSettlement.REFUND)
    [made] = refund(note, "40.00")
    stripe_requests_send_due(as_of=NOW)
    made.refresh_from_db()

    failed = fake_stripe.refund(
        "pi_card", 4000, status="failed", refund_id=str(made.stripe_refund_id)
    )
    assert deliver(fake_stripe.event("refund.failed", failed)) == 200

    made.refresh_from_db()
    assert made.status == RefundStatus.FAILED
    assert money_of(invoice) == (InvoiceStatus.PAID, 10000, 0, 0)
    assert credit_note_remaining_minor(note) == 4000
    assert client_credit_minor(agency=payer.agency, client=payer) == 4000
    assert balance(payer) == -4000
    assert ledger_mismatches() == [] and credit_mismatches() == []
