"""Stripe counts some currencies in another unit than ISO 4217 (ISK in hundredths, KWD in
thousandths ending in 0): payments, fees, refunds and disputes read back from Stripe and
refunds sent to it are converted in both directions."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from clientledger.accounts.models import Agency
from clientledger.billing.ledger import ledger_mismatches
from clientledger.billing.models import Invoice, InvoiceStatus
from clientledger.payments.models import Payment, Refund
from clientledger.payments.services.refunds import payment_refund
from clientledger.payments.stripe.sync import stripe_requests_send_due
from tests.factories import ClientFactory
from tests.payments.conftest import NOW, issue_invoice
from tests.payments.stripe_fake import FakeStripe, deliver

pytestmark = pytest.mark.django_db


def invoice_in(agency: Agency, currency: str, total: str) -> Invoice:
    return issue_invoice(ClientFactory.create(agency=agency, currency=currency), total)


def paid_through_stripe(fake: FakeStripe, invoice: Invoice, amount: int, fee: int) -> Payment:
    intent = fake.intent("pi_1", invoice=invoice, status="succeeded", amount=amount, fee=fee)
    assert deliver(fake.event("payment_intent.succeeded", intent)) == 200
    return Payment.objects.get()


def test_an_isk_payment_stripe_counts_in_hundredths_pays_the_invoice_exactly(
    fake_stripe: FakeStripe, agency: Agency, frozen_now: None
) -> None:
    invoice = invoice_in(agency, "ISK", "15000")

    payment = paid_through_stripe(fake_stripe, invoice, amount=1_500_000, fee=45_000)

    invoice.refresh_from_db()
    assert (payment.amount_minor, payment.fee_minor, payment.net_minor) == (15000, 450, 14550)
    assert (invoice.status, invoice.amount_paid_minor) == (InvoiceStatus.PAID, 15000)
    assert ledger_mismatches() == []


def test_an_isk_refund_is_sent_to_stripe_in_hundredths_and_read_back_in_kronur(
    fake_stripe: FakeStripe, agency: Agency, frozen_now: None
) -> None:
    invoice = invoice_in(agency, "ISK", "15000")
    payment = paid_through_stripe(fake_stripe, invoice, amount=1_500_000, fee=45_000)

    refund = payment_refund(
        agency=agency, actor=None, payment=payment, amount=Decimal("5000"), reason="Too much"
    )
    assert stripe_requests_send_due(as_of=NOW) == {"done": 1}

    assert fake_stripe.refund_requests[0]["form"]["amount"] == "500000"
    confirmed = fake_stripe.refund(
        "pi_1", 500_000, refund_id=str(Refund.objects.get().stripe_refund_id)
    )
    assert deliver(fake_stripe.event("refund.updated", confirmed)) == 200
    refund.refresh_from_db()
    assert (refund.status, refund.amount_minor) == ("succeeded", 5000)
    assert ledger_mismatches() == []


def test_a_lost_isk_dispute_reverses_the_payment_in_kronur(
    fake_stripe: FakeStripe, agency: Agency, frozen_now: None
) -> None:
    invoice = invoice_in(agency, "ISK", "15000")
    paid_through_stripe(fake_stripe, invoice, amount=1_500_000, fee=45_000)

    lost = fake_stripe.dispute("pi_1", status="lost")
    assert deliver(fake_stripe.event("charge.dispute.closed", lost)) == 200

    invoice.refresh_from_db()
    assert Refund.objects.get().amount_minor == 15000
    assert (invoice.status, invoice.balance_due_minor) == (InvoiceStatus.OPEN, 15000)
    assert ledger_mismatches() == []


def test_a_kwd_refund_stripe_cannot_take_is_refused_before_anything_is_held(
    fake_stripe: FakeStripe, agency: Agency, frozen_now: None
) -> None:
    invoice = invoice_in(agency, "KWD", "20.000")
    payment = paid_through_stripe(fake_stripe, invoice, amount=20_000, fee=600)

    with pytest.raises(ValidationError) as error:
        payment_refund(
            agency=agency, actor=None, payment=payment, amount=Decimal("1.235"), reason="Oops"
        )

    [message] = error.value.message_dict["amount"]
    assert "steps of KWD" in message
    assert not Refund.objects.exists()


def test_a_fee_settled_in_another_currency_is_not_recorded_as_ours(
    fake_stripe: FakeStripe, agency: Agency, frozen_now: None
) -> None:
    invoice = invoice_in(agency, "EUR", "100.00")
    intent = fake_stripe.intent("pi_1", invoice=invoice, status="succeeded", fee=320)
    fake_stripe.balance_transactions["txn_pi_1"]["currency"] = "usd"

    assert deliver(fake_stripe.event("payment_intent.succeeded", intent)) == 200

    payment = Payment.objects.get()
    assert (payment.amount_minor, payment.fee_minor, payment.net_minor) == (10000, None, None)
