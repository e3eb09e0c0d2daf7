"""An allocation changed after it was made (a refund taking the money back from the invoice,
more of the payment's credit spent on it) leaves what the invoice owed on earlier days as it
was: the aging report of a past day, invoice by invoice and in total, is what the dashboard
showed that day, and the rollups kept move by move equal their rebuild from the rows."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.apps import apps

from clientledger.accounts.models import Agency
from clientledger.billing.models import InvoiceStatus, OwedDay
from clientledger.billing.rollups_rebuild import rollups_rebuild
from clientledger.payments.models import Allocation, Payment, PaymentMethod
from clientledger.payments.services.credit import credit_apply
from clientledger.payments.services.manual import payment_record_manual
from clientledger.payments.services.refunds import payment_refund
from clientledger.reporting.selectors.aging import aging_invoices, aging_summary
from tests.factories import ClientFactory
from tests.reporting.conftest import Clock, invoice_issued, payment_made

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 4, 1)
DUE = dt.date(2026, 4, 30)


def owed_in_total(agency: Agency, day: dt.date) -> Decimal:
    summary = aging_summary(agency=agency, as_of=day, today=TODAY)
    return summary[0].total if summary else Decimal(0)


def owed_by_invoice(agency: Agency, day: dt.date) -> dict[int, int]:
    invoices = aging_invoices(agency=agency, as_of=day, today=TODAY, currency="USD")
    return {invoice.pk: invoice.owed for invoice in invoices}  # type: ignore[attr-defined]


def owed_days(agency: Agency) -> set[tuple[object, ...]]:
    return set(
        OwedDay.objects.filter(agency=agency)
        .exclude(owed_minor=0, open_count=0, paid_minor=0)
        .values_list("day", "due_date", "owed_minor", "open_count", "paid_minor")
    )


def test_a_refund_taking_money_back_from_a_paid_invoice_leaves_the_days_before_it_paid(
    agency: Agency, clock_at: Clock
) -> None:
    client = ClientFactory(agency=agency, currency="USD")
    clock_at.set(dt.date(2026, 3, 1))
    invoice = invoice_issued(client, "1000.00", on=dt.date(2026, 3, 1), due=DUE)
    clock_at.set(dt.date(2026, 3, 5))
    payment_made(client, "1000.00", on=dt.date(2026, 3, 5), to=invoice)
    clock_at.set(dt.date(2026, 3, 20))
    payment_refund(
        agency=agency,
        actor=None,
        payment=Payment.objects.get(client=client),
        amount=Decimal("400.00"),
        reason="Part of the work was redone for free.",
    )
    clock_at.set(TODAY)
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.OPEN

    assert owed_by_invoice(agency, dt.date(2026, 3, 3)) == {invoice.pk: 100_000}
    assert owed_by_invoice(agency, dt.date(2026, 3, 10)) == {}
    assert owed_by_invoice(agency, dt.date(2026, 3, 25)) == {invoice.pk: 40_000}
    assert owed_in_total(agency, dt.date(2026, 3, 10)) == Decimal(0)
    assert owed_in_total(agency, dt.date(2026, 3, 25)) == Decimal("400.00")
    kept = owed_days(agency)
    rollups_rebuild(apps, agency_ids=[agency.pk])
    assert owed_days(agency) == kept


def test_credit_added_to_an_allocation_counts_from_the_day_it_was_spent(
    agency: Agency, clock_at: Clock
) -> None:
    client = ClientFactory(agency=agency, currency="USD")
    clock_at.set(dt.date(2026, 3, 1))
    invoice = invoice_issued(client, "1000.00", on=dt.date(2026, 3, 1), due=DUE)
    clock_at.set(dt.date(2026, 3, 5))
    payment_record_manual(
        agency=agency,
        actor=None,
        client=client,
        amount=Decimal("1500.00"),
        currency="USD",
        received_on=dt.date(2026, 3, 5),
        method=PaymentMethod.BANK_TRANSFER,
        allocations=[(invoice, Decimal("600.00"))],
    )
    clock_at.set(dt.date(2026, 3, 15))
    # The credit comes from the same payment: its allocation to the invoice grows.
    credit_apply(
        agency=agency, actor=None, client=client, invoice=invoice, amount=Decimal("300.00")
    )
    clock_at.set(TODAY)
    (allocation,) = Allocation.objects.filter(invoice=invoice)
    assert allocation.amount_minor == 90_000

    assert owed_by_invoice(agency, dt.date(2026, 3, 3)) == {invoice.pk: 100_000}
    assert owed_by_invoice(agency, dt.date(2026, 3, 10)) == {invoice.pk: 40_000}
    assert owed_by_invoice(agency, dt.date(2026, 3, 20)) == {invoice.pk: 10_000}
    assert owed_in_total(agency, dt.date(2026, 3, 10)) == Decimal("400.00")
    kept = owed_days(agency)
    rollups_rebuild(apps, agency_ids=[agency.pk])
    assert owed_days(agency) == kept
