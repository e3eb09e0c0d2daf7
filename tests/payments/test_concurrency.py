"""Payments under real concurrency: threads with their own PostgreSQL connections submit
the same payment at once and race to spend one client credit."""

from __future__ import annotations

from decimal import Decimal
from functools import partial

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from clientledger.billing.ledger import ledger_mismatches
from clientledger.billing.models import InvoiceStatus, LedgerEntry, LedgerEntryKind
from clientledger.crm.models import Client
from clientledger.notifications.models import EmailMessage
from clientledger.payments.models import Allocation, Payment
from clientledger.payments.selectors import client_credit_balance
from clientledger.payments.services.credit import credit_apply
from clientledger.payments.services.manual import payment_record_manual
from tests.billing.test_concurrency import run_concurrently
from tests.payments.conftest import TODAY, OpenInvoice

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL row locks: SQLite runs one write transaction at a time, so "
        "it cannot race; CI runs these with DATABASE_URL=postgres://...",
    ),
    pytest.mark.django_db(transaction=True),
]


def test_fifty_concurrent_submissions_with_one_idempotency_key_record_one_payment(
    payer: Client, open_invoice: OpenInvoice
) -> None:
    invoice = open_invoice("100.00")
    submit = partial(
        payment_record_manual,
        agency=payer.agency,
        actor=None,
        client=payer,
        amount=Decimal("120.00"),
        currency="USD",
        received_on=TODAY,
        method="bank_transfer",
        idempotency_key="checkout-form-42",
    )

    outcomes = run_concurrently([submit] * 50, threads=25)

    assert [outcome for outcome in outcomes if not isinstance(outcome, Payment)] == []
    payment = Payment.objects.get()
    assert {outcome.pk for outcome in outcomes if isinstance(outcome, Payment)} == {payment.pk}
    invoice.refresh_from_db()
    assert (invoice.status, invoice.amount_paid_minor) == (InvoiceStatus.PAID, 10000)
    assert LedgerEntry.objects.filter(kind=LedgerEntryKind.PAYMENT_SUCCEEDED).count() == 1
    assert EmailMessage.objects.count() == 1
    assert client_credit_balance(agency=payer.agency, client=payer) == Decimal("20.00")
    assert ledger_mismatches() == []


def test_a_hundred_concurrent_applications_never_overspend_one_client_credit(
    payer: Client, open_invoice: OpenInvoice
) -> None:
    payment_record_manual(
        agency=payer.agency,
        actor=None,
        client=payer,
        amount=Decimal("50.00"),
        currency="USD",
        received_on=TODAY,
        method="check",
    )
    invoices = [open_invoice("1.00") for _ in range(100)]
    ledger_before = LedgerEntry.objects.count()

    outcomes = run_concurrently(
        [
            partial(
                credit_apply,
                agency=payer.agency,
                actor=None,
                client=payer,
                invoice=invoice,
                amount=Decimal("0.70"),
            )
            for invoice in invoices
        ],
        threads=20,
    )

    applied = [outcome for outcome in outcomes if isinstance(outcome, list)]
    refused = [outcome for outcome in outcomes if isinstance(outcome, ValidationError)]
    # 71 x 0.70 = 49.70 fits in 50.00; a 72nd would overspend it.
    assert (len(applied), len(refused)) == (71, 29)
    assert sum(Allocation.objects.values_list("amount_minor", flat=True)) == 4970
    assert client_credit_balance(agency=payer.agency, client=payer) == Decimal("0.30")
    assert LedgerEntry.objects.count() == ledger_before
    assert ledger_mismatches() == []
