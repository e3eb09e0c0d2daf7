"""The invoices a schedule made, each period read with its invoice's payment state."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import BooleanField, ExpressionWrapper, QuerySet
from django.db.models.enums import TextChoices

from clientledger.accounts.models import Agency
from clientledger.billing.models import overdue_condition, partially_paid_condition
from clientledger.core import clock
from clientledger.core.pagination import Page, keyset_page_or_first
from clientledger.recurring.models import (
    RecurringPeriod,
    RecurringSchedule,
)

PERIOD_ORDERING = ("-period_index", "-id")
# A client or deal page, and a schedule's page, show its most recent invoices; the page
# of a schedule's invoices shows all, a page at a time.
RECENT_INVOICES = 12


class PaymentState(TextChoices):
    """What an invoice a schedule made looks like to the staff following its payment."""

    DRAFT = "draft", "Draft"
    OPEN = "open", "Open"
    OVERDUE = "overdue", "Overdue"
    PARTIALLY_PAID = "partially_paid", "Partially paid"
    PAID = "paid", "Paid"
    VOID = "void", "Void"
    UNCOLLECTIBLE = "uncollectible", "Uncollectible"
    # The period's draft was deleted in review: the period is not billed.
    NOT_BILLED = "not_billed", "Not billed"


@dataclass(frozen=True)
class ScheduleInvoiceRow:
    period: RecurringPeriod
    state: PaymentState


def period_payment_state(period: RecurringPeriod) -> PaymentState:
    invoice = period.invoice
    if invoice is None:
        return PaymentState.NOT_BILLED
    if period.invoice_is_overdue:  # type: ignore[attr-defined]
        return PaymentState.OVERDUE
    if period.invoice_is_partially_paid:  # type: ignore[attr-defined]
        return PaymentState.PARTIALLY_PAID
    return PaymentState(invoice.status)


def periods_with_states(agency: Agency, schedule: RecurringSchedule) -> QuerySet[RecurringPeriod]:
    today = clock.agency_today(agency)
    return (
        RecurringPeriod.objects.filter(agency=agency, schedule=schedule)
        .select_related("invoice")
        .annotate(
            invoice_is_overdue=ExpressionWrapper(
                overdue_condition(today, through="invoice__"), output_field=BooleanField()
            ),
            invoice_is_partially_paid=ExpressionWrapper(
                partially_paid_condition(through="invoice__"), output_field=BooleanField()
            ),
        )
    )


@dataclass(frozen=True)
class ScheduleInvoicesPage:
    page: Page[RecurringPeriod]
    rows: list[ScheduleInvoiceRow]


def schedule_invoices_page(
    *,
    agency: Agency,
    schedule: RecurringSchedule,
    after: str | None = None,
    before: str | None = None,
) -> ScheduleInvoicesPage:
    """The periods the schedule billed, latest first, each with its invoice's payment state
    (paid, open, overdue, partially paid...) decided in SQL by billing's rules: one query."""
    page = keyset_page_or_first(
        periods_with_states(agency, schedule), ordering=PERIOD_ORDERING, after=after, before=before
    )
    return ScheduleInvoicesPage(
        page=page,
        rows=[ScheduleInvoiceRow(period, period_payment_state(period)) for period in page],
    )


def schedule_periods(*, agency: Agency, schedule: RecurringSchedule) -> QuerySet[RecurringPeriod]:
    """The periods a schedule billed, each read with its invoice's payment state (for a
    paginated list of its own; `schedule_invoice_row` turns each into a row)."""
    return periods_with_states(agency, schedule)


def schedule_invoice_row(period: RecurringPeriod) -> ScheduleInvoiceRow:
    """A period of `schedule_periods` with its payment state."""
    return ScheduleInvoiceRow(period, period_payment_state(period))
