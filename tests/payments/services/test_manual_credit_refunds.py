"""Manual payments, client credit and manual refunds through the services: balances,
ledger, emails, and bad input that changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from clientledger.accounts.models import Agency
from clientledger.billing.ledger import client_outstanding_balance, ledger_mismatches
from clientledger.billing.models import Invoice, InvoiceStatus, LedgerEntry, LedgerEntryKind
from clientledger.billing.services.invoices import invoice_void
from clientledger.core.models import AuditEvent
from clientledger.crm.models import Client
from clientledger.notifications.models import EmailMessage
from clientledger.notifications.services import email_render
from clientledger.payments.models import Allocation, Payment, PaymentStatus, Refund
from clientledger.payments.selectors import (
    client_credit_balance,
    invoice_payments,
    payment_list,
)
from clientledger.payments.services.credit import credit_apply
from clientledger.payments.services.manual import payment_record_manual
from clientledger.payments.services.refunds import payment_refund
from tests.factories import ClientFactory
from tests.payments.conftest import TODAY, OpenInvoice, issue_invoice

pytestmark = pytest.mark.django_db


def pay(client: Client, amount: str, **fields: Any) -> Payment:
    return payment_record_manual(
        agency=client.agency,
        actor=None,
        client=client,
        amount=Decimal(amount),
        currency=fields.pop("currency", client.currency),
        received_on=TODAY,
        method=fields.pop("method", "bank_transfer"),
        **fields,
    )


def refund(payment: Payment, amount: str) -> Refund:
    return payment_refund(
        agency=payment.agency, actor=None, payment=payment, amount=Decimal(amount), reason="Oops"
    )


def paid_state(invoice: Invoice) -> tuple[str, int]:
    invoice.refresh_from_db()
    return invoice.status, invoice.balance_due_minor


def credit(client: Client) -> Decimal:
    return client_credit_balance(agency=client.agency, client=client)


def everything(client: Client) -> dict[str, object]:
    """What any payment service could change, to prove that a refusal changed nothing."""
    client.refresh_from_db()
    return {
        "payments": list(Payment.objects.values_list("pk", "status")),
        "allocations": list(Allocation.objects.values_list("pk", "amount_minor")),
        "refunds": Refund.objects.count(),
        "invoices": list(Invoice.objects.values_list("pk", "status", "amount_paid_minor")),
        "ledger": LedgerEntry.objects.count(),
        "audit": AuditEvent.objects.count(),
        "emails": EmailMessage.objects.count(),
        "balance": client.balance_minor,
        "credit": credit(client),
    }


def assert_refused(client: Client, field: str, words: str, call: Callable[[], object]) -> None:
    before = everything(client)
    with pytest.raises(ValidationError) as refusal:
        call()
    assert words in " ".join(refusal.value.message_dict[field])
    assert everything(client) == before
    assert ledger_mismatches() == []


# --- happy paths -----------------------------------------------------------------------------


def test_a_full_payment_marks_the_invoice_paid_and_lowers_the_client_balance(
    payer: Client, open_invoice: OpenInvoice
) -> None:
    invoice = open_invoice("250.00")

    payment = pay(payer, "250.00", reference="Wire 889")

    assert payment.status == PaymentStatus.SUCCEEDED
    assert paid_state(invoice) == (InvoiceStatus.PAID, 0)
    assert client_outstanding_balance(agency=payer.agency, client=payer) == Decimal("0.00")
    entry = LedgerEntry.objects.get(kind=LedgerEntryKind.PAYMENT_SUCCEEDED)
    assert (entry.amount_minor, entry.document_id) == (-25000, payment.pk)
    assert ledger_mismatches() == []


def test_a_partial_payment_leaves_the_invoice_open_with_the_rest_due(
    payer: Client, open_invoice: OpenInvoice
) -> None:
    invoice = open_invoice("250.00")

    pay(payer, "100.00", allocations=[(invoice, Decimal("100.00"))])

    assert paid_state(invoice) == (InvoiceStatus.OPEN, 15000)
    assert client_outstanding_balance(agency=payer.agency, client=payer) == Decimal("150.00")
    assert ledger_mismatches() == []


def test_an_overpayment_leaves_the_rest_as_client_credit(
    payer: Client, open_invoice: OpenInvoice
) -> None:
    invoice = open_invoice("100.00")

    pay(payer, "130.00")

    assert paid_state(invoice) == (InvoiceStatus.PAID, 0)
    assert credit(payer) == Decimal("30.00")
    # The client's ledger goes below zero by the credit it holds.
    assert client_outstanding_balance(agency=payer.agency, client=payer) == Decimal("-30.00")
    assert ledger_mismatches() == []


def test_one_payment_can_pay_several_invoices_with_chosen_amounts(
    payer: Client, open_invoice: OpenInvoice
) -> None:
    first, second, third = open_invoice("100.00"), open_invoice("200.00"), open_invoice("50.00")

    payment = pay(
        payer,
        "260.00",
        allocations=[(second, Decimal("200.00")), (first, Decimal("40.00"))],
    )

    assert paid_state(first) == (InvoiceStatus.OPEN, 6000)
    assert paid_state(second) == (InvoiceStatus.PAID, 0)
    assert paid_state(third) == (InvoiceStatus.OPEN, 5000)
    assert credit(payer) == Decimal("20.00")
    assert [a.invoice_id for a in invoice_payments(invoice=second)] == [second.pk]
    assert payment.allocations.count() == 2
    assert ledger_mismatches() == []


def test_without_allocations_the_oldest_due_invoices_are_paid_first(
    payer: Client,
) -> None:
    later = issue_invoice(payer, "100.00", due_in_days=30)
    earliest = issue_invoice(payer, "100.00", due_in_days=7)
    middle = issue_invoice(payer, "100.00", due_in_days=14)

    pay(payer, "150.00")

    assert paid_state(earliest) == (InvoiceStatus.PAID, 0)
    assert paid_state(middle) == (InvoiceStatus.OPEN, 5000)
    assert paid_state(later) == (InvoiceStatus.OPEN, 10000)
    assert credit(payer) == Decimal("0.00")
    assert ledger_mismatches() == []


def test_a_receipt_is_queued_for_the_clients_billing_email(
    payer: Client, open_invoice: OpenInvoice
) -> None:
    open_invoice("100.00")

    pay(payer, "120.00", reference="Check 1021", method="check")

    email = EmailMessage.objects.get(subject__contains="payment received")
    assert email.to == ["ap@acme.example"]
    assert "$120.00" in email_render(email).text
    assert "Check 1021" in email_render(email).html
    assert "$20.00 is kept as credit" in email_render(email).text


def test_no_receipt_is_queued_for_a_client_without_a_billing_email(agency: Agency) -> None:
    client = ClientFactory(agency=agency, billing_email="")

    pay(client, "10.00")

    assert not EmailMessage.objects.exists()


def test_a_payment_is_audited(payer: Client, open_invoice: OpenInvoice) -> None:
    invoice = open_invoice("100.00")

    payment = pay(payer, "100.00")

    event = AuditEvent.objects.get(verb="payment.recorded")
    assert (event.subject_id, event.client_id) == (payment.pk, payer.pk)
    assert event.data["allocations"] == {str(invoice): "100.00"}


def test_the_same_idempotency_key_twice_gives_the_first_payment(
    payer: Client, open_invoice: OpenInvoice
) -> None:
    open_invoice("100.00")

    first = pay(payer, "100.00", idempotency_key="form-7f3a")
    second = pay(payer, "100.00", idempotency_key="form-7f3a")

    assert second.pk == first.pk
    assert Payment.objects.count() == 1
    assert LedgerEntry.objects.filter(kind=LedgerEntryKind.PAYMENT_SUCCEEDED).count() == 1
    assert ledger_mismatches() == []


def test_idempotency_keys_are_per_agency(payer: Client) -> None:
    other = ClientFactory(currency="USD")

    mine = pay(payer, "10.00", idempotency_key="same")
    theirs = pay(other, "10.00", idempotency_key="same")

    assert mine.pk != theirs.pk


@pytest.mark.parametrize(
    ("currency", "amount", "minor"),
    [("JPY", "15000", 15000), ("KWD", "12.345", 12345), ("USD", "12.34", 1234)],
)
def test_amounts_are_stored_in_the_currencys_minor_units(
    agency: Agency, currency: str, amount: str, minor: int
) -> None:
    client = ClientFactory(agency=agency, currency=currency)
    invoice = issue_invoice(client, amount)

    payment = pay(client, amount)

    assert payment.amount_minor == minor
    assert paid_state(invoice) == (InvoiceStatus.PAID, 0)
    assert ledger_mismatches() == []


@pytest.mark.parametrize(("currency", "amount"), [("JPY", "100.5"), ("KWD", "1.2345")])
def test_an_amount_with_more_decimals_than_the_currency_has_is_refused(
    agency: Agency, currency: str, amount: str
) -> None:
    client = ClientFactory(agency=agency, currency=currency)

    assert_refused(client, "amount", "cannot have more decimals", lambda: pay(client, amount))


# --- bad input changes nothing ---------------------------------------------------------------


@pytest.mark.parametrize("amount", ["0", "-5.00", "0.00"])
def test_a_zero_or_negative_payment_is_refused(payer: Client, amount: str) -> None:
    assert_refused(payer, "amount", "greater than zero", lambda: pay(payer, amount))


@pytest.mark.parametrize("amount", ["1000000000000.00", "99999999999999999999"])
def test_a_payment_at_or_above_the_amount_bound_is_refused(payer: Client, amount: str) -> None:
    assert_refused(
        payer, "amount", "must be less than $1,000,000,000,000.00", lambda: pay(payer, amount)
    )


def test_a_zero_allocation_is_refused(payer: Client, open_invoice: OpenInvoice) -> None:
    invoice = open_invoice("100.00")

    assert_refused(
        payer,
        "allocations",
        "greater than zero",
        lambda: pay(payer, "10.00", allocations=[(invoice, Decimal("0"))]),
    )


def test_an_allocation_above_the_invoice_balance_is_refused(
    payer: Client, open_invoice: OpenInvoice
) -> None:
    invoice = open_invoice("100.00")
    pay(payer, "60.00")

    assert_refused(
        payer,
        "allocations",
        "has only $40.00 left to pay",
        lambda: pay(payer, "50.00", allocations=[(invoice, Decimal("50.00"))]),
    )


def test_allocations_above_the_payment_are_refused(
    payer: Client, open_invoice: OpenInvoice
) -> None:
    first, second = open_invoice("100.00"), open_invoice("100.00")

    assert_refused(
        payer,
        "allocations",
        "more than the payment of $120.00",
        lambda: pay(
            payer,
            "120.00",
            allocations=[(first, Decimal("100.00")), (second, Decimal("30.00"))],
        ),
    )


def test_a_payment_in_another_currency_than_the_client_is_refused(payer: Client) -> None:
    assert_refused(
        payer, "currency", "pays in USD, not in EUR", lambda: pay(payer, "10.00", currency="EUR")
    )


def test_an_invoice_in_another_currency_than_the_payment_is_refused(
    payer: Client, open_invoice: OpenInvoice
) -> None:
    invoice = open_invoice("100.00")
    Invoice.objects.filter(pk=invoice.pk).update(currency="EUR")

    assert_refused(
        payer,
        "allocations",
        "is in EUR, not in USD",
        lambda: pay(payer, "10.00", allocations=[(invoice, Decimal("10.00"))]),
    )


def test_paying_a_void_invoice_is_refused(payer: Client, open_invoice: OpenInvoice) -> None:
    invoice = invoice_void(invoice=open_invoice("100.00"), actor=None, reason="Duplicate")

    assert_refused(
        payer,
        "allocations",
        "is void; only open invoices can be paid",
        lambda: pay(payer, "10.00", allocations=[(invoice, Decimal("10.00"))]),
    )


def test_paying_a_paid_invoice_is_refused(payer: Client, open_invoice: OpenInvoice) -> None:
    invoice = open_invoice("100.00")
    pay(payer, "100.00")

    assert_refused(
        payer,
        "allocations",
        "is paid; only open invoices can be paid",
        lambda: pay(payer, "10.00", allocations=[(invoice, Decimal("10.00"))]),
    )


def test_paying_another_clients_invoice_is_refused(payer: Client, agency: Agency) -> None:
    stranger = issue_invoice(ClientFactory(agency=agency, currency="USD"), "100.00")

    assert_refused(
        payer,
        "allocations",
        "does not belong to the client",
        lambda: pay(payer, "10.00", allocations=[(stranger, Decimal("10.00"))]),
    )


def test_an_unknown_method_is_refused(payer: Client) -> None:
    assert_refused(
        payer, "method", "Choose bank transfer", lambda: pay(payer, "1.00", method="gold")
    )


def test_a_client_of_another_agency_is_refused(payer: Client) -> None:
    stranger = ClientFactory(currency="USD")

    assert_refused(
        payer,
        "client",
        "does not belong to your agency",
        lambda: payment_record_manual(
            agency=payer.agency,
            actor=None,
            client=stranger,
            amount=Decimal("1.00"),
            currency="USD",
            received_on=TODAY,
            method="cash",
        ),
    )


# --- client credit ---------------------------------------------------------------------------


def test_credit_pays_an_open_invoice_from_the_oldest_payment_first(payer: Client) -> None:
    older = pay(payer, "30.00")
    newer = pay(payer, "50.00")
    invoice = issue_invoice(payer, "100.00")
    balance_before = LedgerEntry.objects.count()

    applied = credit_apply(
        agency=payer.agency, actor=None, client=payer, invoice=invoice, amount=Decimal("60.00")
    )

    assert [(a.payment_id, a.amount_minor) for a in applied] == [
        (older.pk, 3000),
        (newer.pk, 3000),
    ]
    assert paid_state(invoice) == (InvoiceStatus.OPEN, 4000)
    assert credit(payer) == Decimal("20.00")
    # The money reached the ledger with the payments; applying it moves nothing there.
    assert LedgerEntry.objects.count() == balance_before
    assert client_outstanding_balance(agency=payer.agency, client=payer) == Decimal("20.00")
    assert ledger_mismatches() == []


def test_credit_from_a_payment_that_already_pays_the_invoice_grows_that_allocation(
    payer: Client, open_invoice: OpenInvoice
) -> None:
    invoice = open_invoice("100.00")
    payment = pay(payer, "100.00", allocations=[(invoice, Decimal("70.00"))])

    credit_apply(
        agency=payer.agency, actor=None, client=payer, invoice=invoice, amount=Decimal("30.00")
    )

    assert list(payment.allocations.values_list("amount_minor", flat=True)) == [10000]
    assert paid_state(invoice) == (InvoiceStatus.PAID, 0)
    assert credit(payer) == Decimal("0.00")


def test_applying_more_than_the_credit_is_refused(payer: Client, open_invoice: OpenInvoice) -> None:
    pay(payer, "20.00")
    invoice = open_invoice("100.00")

    assert_refused(
        payer,
        "amount",
        "has only $20.00 of credit",
        lambda: credit_apply(
            agency=payer.agency,
            actor=None,
            client=payer,
            invoice=invoice,
            amount=Decimal("20.01"),
        ),
    )


def test_applying_more_credit_than_the_invoice_balance_is_refused(
    payer: Client, open_invoice: OpenInvoice
) -> None:
    pay(payer, "200.00")
    invoice = open_invoice("100.00")

    assert_refused(
        payer,
        "amount",
        "has only $100.00 left",
        lambda: credit_apply(
            agency=payer.agency,
            actor=None,
            client=payer,
            invoice=invoice,
            amount=Decimal("150.00"),
        ),
    )


def test_applying_credit_to_a_paid_invoice_is_refused(
    payer: Client, open_invoice: OpenInvoice
) -> None:
    invoice = open_invoice("100.00")
    pay(payer, "150.00")

    assert_refused(
        payer,
        "invoice",
        "is paid",
        lambda: credit_apply(
            agency=payer.agency, actor=None, client=payer, invoice=invoice, amount=Decimal("1")
        ),
    )


# --- refunds ---------------------------------------------------------------------------------


def test_a_refund_takes_the_unallocated_rest_first(
    payer: Client, open_invoice: OpenInvoice
) -> None:
    invoice = open_invoice("100.00")
    payment = pay(payer, "150.00")

    refund(payment, "30.00")

    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PARTIALLY_REFUNDED
    assert paid_state(invoice) == (InvoiceStatus.PAID, 0)
    assert credit(payer) == Decimal("20.00")
    entry = LedgerEntry.objects.get(kind=LedgerEntryKind.REFUND)
    assert entry.amount_minor == 3000
    assert client_outstanding_balance(agency=payer.agency, client=payer) == Decimal("-20.00")
    assert ledger_mismatches() == []


def test_a_refund_beyond_the_rest_reopens_the_newest_paid_invoice(payer: Client) -> None:
    older = issue_invoice(payer, "100.00", due_in_days=7)
    newer = issue_invoice(payer, "100.00", due_in_days=30)
    payment = pay(payer, "220.00")

    refund(payment, "70.00")

    assert paid_state(older) == (InvoiceStatus.PAID, 0)
    assert paid_state(newer) == (InvoiceStatus.OPEN, 5000)
    assert credit(payer) == Decimal("0.00")
    assert client_outstanding_balance(agency=payer.agency, client=payer) == Decimal("50.00")
    assert ledger_mismatches() == []


def test_a_full_refund_reopens_every_invoice_and_marks_the_payment_refunded(
    payer: Client, open_invoice: OpenInvoice
) -> None:
    first, second = open_invoice("100.00"), open_invoice("50.00")
    payment = pay(payer, "150.00")

    refund(payment, "100.00")
    refund(payment, "50.00")

    payment.refresh_from_db()
    assert payment.status == PaymentStatus.REFUNDED
    assert paid_state(first) == (InvoiceStatus.OPEN, 10000)
    assert paid_state(second) == (InvoiceStatus.OPEN, 5000)
    assert not payment.allocations.exists()
    assert client_outstanding_balance(agency=payer.agency, client=payer) == Decimal("150.00")
    assert ledger_mismatches() == []


def test_a_refund_above_the_refundable_amount_is_refused(payer: Client) -> None:
    payment = pay(payer, "100.00")
    refund(payment, "60.00")

    assert_refused(
        payer, "amount", "At most $40.00 can be refunded", lambda: refund(payment, "40.01")
    )


def test_a_zero_refund_is_refused(payer: Client) -> None:
    payment = pay(payer, "100.00")

    assert_refused(payer, "amount", "greater than zero", lambda: refund(payment, "0"))


def test_a_refund_needs_a_reason(payer: Client) -> None:
    payment = pay(payer, "100.00")

    assert_refused(
        payer,
        "reason",
        "Say why",
        lambda: payment_refund(
            agency=payer.agency, actor=None, payment=payment, amount=Decimal("1"), reason=" "
        ),
    )


def test_a_refunded_payment_cannot_be_refunded_again(payer: Client) -> None:
    payment = pay(payer, "10.00")
    refund(payment, "10.00")
    payment.refresh_from_db()

    assert_refused(payer, "payment", "refunded payment cannot", lambda: refund(payment, "1.00"))


# --- selectors -------------------------------------------------------------------------------


def test_the_payment_list_is_scoped_to_the_agency_and_optionally_a_client(
    payer: Client, agency: Agency
) -> None:
    other_client = ClientFactory(agency=agency, currency="USD")
    mine = pay(payer, "10.00")
    theirs = pay(other_client, "20.00")
    pay(ClientFactory(currency="USD"), "30.00")

    assert set(payment_list(agency=agency)) == {mine, theirs}
    assert list(payment_list(agency=agency, client_id=payer.pk)) == [mine]


def test_the_client_credit_balance_is_summed_in_one_query(
    payer: Client, django_assert_num_queries: Any
) -> None:
    pay(payer, "10.00")
    pay(payer, "5.55")

    with django_assert_num_queries(1):
        assert credit(payer) == Decimal("15.55")
