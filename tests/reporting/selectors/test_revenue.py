"""Invoiced revenue is net of credit notes, in the month each credit note was issued."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from clientledger.accounts.models import Agency
from clientledger.reporting.selectors.revenue import revenue_by_month
from tests.factories import ClientFactory
from tests.reporting.conftest import Clock, credit_note_issued, invoice_issued

pytestmark = pytest.mark.django_db


def test_a_credit_note_lowers_the_invoiced_revenue_of_the_month_it_was_issued_in(
    agency: Agency, clock_at: Clock
) -> None:
    client = ClientFactory(agency=agency, currency="USD")
    clock_at.set(dt.date(2026, 3, 10))
    invoice = invoice_issued(client, "1000.00", on=dt.date(2026, 3, 10), due=dt.date(2026, 4, 9))
    clock_at.set(dt.date(2026, 4, 20))
    credit_note_issued(invoice, "150.00")
    clock_at.set(dt.date(2026, 5, 5))

    (usd,) = revenue_by_month(agency=agency, today=dt.date(2026, 5, 5))

    invoiced = {month.month: month.invoiced for month in usd.months}
    assert invoiced[dt.date(2026, 3, 1)] == Decimal("1000.00")
    assert invoiced[dt.date(2026, 4, 1)] == Decimal("-150.00")
    assert invoiced[dt.date(2026, 5, 1)] == Decimal("0.00")
    assert usd.invoiced == Decimal("850.00")
