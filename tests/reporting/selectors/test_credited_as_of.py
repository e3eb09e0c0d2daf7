"""A past balance counts a credit note's credit from the moment it was spent on the invoice
until the moment it was released (the refund it was spent for failed)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import transaction

from clientledger.accounts.models import Agency
from clientledger.billing.models import CreditApplication
from clientledger.billing.services.credit_spending import credit_application_release
from clientledger.billing.services.settlement import invoices_lock
from clientledger.reporting.selectors.aging import aging_summary
from tests.factories import ClientFactory
from tests.reporting.conftest import Clock, credit_note_issued, invoice_issued

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 4, 1)


def owed_on(agency: Agency, day: dt.date) -> Decimal:
    (usd,) = aging_summary(agency=agency, as_of=day, today=TODAY)
    return usd.total


def test_released_credit_counts_only_between_its_spending_and_its_release(
    agency: Agency, clock_at: Clock
) -> None:
    client = ClientFactory(agency=agency, currency="USD")
    clock_at.set(dt.date(2026, 3, 1))
    invoice = invoice_issued(client, "1000.00", on=dt.date(2026, 3, 1), due=dt.date(2026, 3, 31))
    clock_at.set(dt.date(2026, 3, 10))
    credit_note_issued(invoice, "400.00")
    clock_at.set(dt.date(2026, 3, 20))
    with transaction.atomic():
        locked = invoices_lock(agency=agency, ids=[invoice.pk])
        credit_application_release(
            application=CreditApplication.objects.get(invoice=invoice), invoices=locked
        )
    clock_at.set(TODAY)

    assert owed_on(agency, dt.date(2026, 3, 5)) == Decimal("1000.00")
    assert owed_on(agency, dt.date(2026, 3, 15)) == Decimal("600.00")
    assert owed_on(agency, dt.date(2026, 3, 25)) == Decimal("1000.00")
    assert owed_on(agency, TODAY) == Decimal("1000.00")
