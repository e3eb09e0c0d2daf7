"""Document numbers: formats, one counter per agency, series and period, taken only when a
document is sent or issued, and only inside the transaction that uses them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.db import transaction

from clientledger.accounts.models import Agency
from clientledger.accounts.number_formats import format_number
from clientledger.billing.models import DocumentCounter, DocumentSeries, Estimate, Invoice
from clientledger.billing.services.invoices import invoice_issue
from clientledger.billing.services.numbering import number_take
from clientledger.billing.services.sending import estimate_send
from tests.billing.conftest import RECIPIENTS
from tests.factories import AgencyFactory

pytestmark = pytest.mark.django_db


def take(agency: Agency, on: dt.date, series: str = DocumentSeries.INVOICE) -> str:
    with transaction.atomic():
        return number_take(agency=agency, series=series, on=on)


@pytest.mark.parametrize(
    ("fmt", "on", "sequence", "expected"),
    [
        ("INV-{YYYY}-{SEQ:05}", dt.date(2026, 11, 24), 7, "INV-2026-00007"),
        ("EST/{YY}/{MM}/{SEQ:03}", dt.date(2027, 3, 5), 42, "EST/27/03/042"),
        ("{YY}{MM}-{SEQ}", dt.date(2026, 1, 31), 9, "2601-9"),
        ("CN-{SEQ}", dt.date(2026, 11, 24), 123456, "CN-123456"),
    ],
)
def test_format_number_fills_every_placeholder(
    fmt: str, on: dt.date, sequence: int, expected: str
) -> None:
    assert format_number(fmt, on=on, sequence=sequence) == expected


def test_a_sequence_wider_than_its_padding_is_never_truncated() -> None:
    assert format_number("INV-{SEQ:05}", on=dt.date(2026, 1, 1), sequence=1234567) == "INV-1234567"


def test_numbers_follow_each_other_without_gaps(agency: Agency) -> None:
    on = dt.date(2026, 11, 24)
    assert [take(agency, on) for _ in range(3)] == [
        "INV-2026-00001",
        "INV-2026-00002",
        "INV-2026-00003",
    ]


def test_each_series_has_its_own_counter(agency: Agency) -> None:
    on = dt.date(2026, 11, 24)
    take(agency, on, DocumentSeries.INVOICE)
    take(agency, on, DocumentSeries.INVOICE)
    assert take(agency, on, DocumentSeries.ESTIMATE) == "EST-2026-00001"
    assert take(agency, on, DocumentSeries.CREDIT_NOTE) == "CN-2026-00001"
    assert take(agency, on, DocumentSeries.INVOICE) == "INV-2026-00003"


def test_each_agency_has_its_own_counter(agency: Agency) -> None:
    on = dt.date(2026, 11, 24)
    take(agency, on)
    assert take(AgencyFactory(), on) == "INV-2026-00001"


def test_a_new_year_restarts_a_yearly_series(agency: Agency) -> None:
    assert take(agency, dt.date(2026, 12, 31)) == "INV-2026-00001"
    assert take(agency, dt.date(2026, 12, 31)) == "INV-2026-00002"
    assert take(agency, dt.date(2027, 1, 1)) == "INV-2027-00001"
    # A document dated back into last year continues last year's count.
    assert take(agency, dt.date(2026, 12, 30)) == "INV-2026-00003"


def test_a_two_digit_year_format_restarts_yearly_too(agency: Agency) -> None:
    agency.invoice_number_format = "{YY}-{SEQ:04}"
    agency.save()
    take(agency, dt.date(2026, 6, 1))
    assert take(agency, dt.date(2026, 12, 1)) == "26-0002"
    assert take(agency, dt.date(2027, 1, 1)) == "27-0001"


def test_a_monthly_format_restarts_every_month(agency: Agency) -> None:
    agency.invoice_number_format = "INV-{YY}{MM}-{SEQ:03}"
    agency.save()
    assert take(agency, dt.date(2026, 1, 31)) == "INV-2601-001"
    assert take(agency, dt.date(2026, 1, 31)) == "INV-2601-002"
    assert take(agency, dt.date(2026, 2, 1)) == "INV-2602-001"
    assert take(agency, dt.date(2027, 1, 5)) == "INV-2701-001"


def test_a_format_without_a_date_never_restarts(agency: Agency) -> None:
    agency.invoice_number_format = "INV-{SEQ}"
    agency.save()
    assert take(agency, dt.date(2026, 12, 31)) == "INV-1"
    assert take(agency, dt.date(2027, 1, 1)) == "INV-2"


@pytest.mark.django_db(transaction=True)
def test_taking_a_number_outside_a_transaction_is_refused(agency: Agency) -> None:
    with pytest.raises(RuntimeError, match="inside the issuing transaction"):
        number_take(agency=agency, series=DocumentSeries.INVOICE, on=dt.date(2026, 11, 24))
    assert not DocumentCounter.objects.exists()


@pytest.mark.usefixtures("frozen_now")
def test_drafts_carry_no_number_until_they_are_sent_or_issued(
    draft_estimate: Callable[..., Estimate], draft_invoice: Callable[..., Invoice]
) -> None:
    estimate, invoice = draft_estimate(), draft_invoice()
    assert (estimate.number, invoice.number) == ("", "")
    assert not DocumentCounter.objects.exists()

    estimate = estimate_send(estimate=estimate, actor=None, recipients=RECIPIENTS)
    invoice = invoice_issue(invoice=invoice, actor=None)

    assert (estimate.number, invoice.number) == ("EST-2026-00001", "INV-2026-00001")
    # A second draft still has no number and has not moved the counter.
    assert draft_invoice().number == ""
    assert DocumentCounter.objects.get(series=DocumentSeries.INVOICE).last_value == 1
