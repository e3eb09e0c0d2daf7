"""The response schemas of the recurring schedules API: schedules, invoices, billing runs."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ninja import Field

from clientledger.api.deals import DealLineOut, TaxBreakdownOut
from clientledger.api.outputs import DecimalStr, Output, minor_money_str, money_str
from clientledger.recurring.models import (
    BillingRunFailure,
    IntervalUnit,
    PeriodAction,
    ScheduleEnd,
    ScheduleStatus,
)
from clientledger.recurring.selectors import (
    BillingRunRow,
    PaymentState,
    PreviewRow,
    ScheduleInvoiceRow,
    ScheduleOverview,
    ScheduleSummary,
)


class ScheduleLineOut(DealLineOut):
    """A line billed every period."""


class ScheduleOut(Output):
    id: int
    name: str
    status: ScheduleStatus
    client_id: int
    client_name: str
    deal_id: int | None
    currency: str
    interval_unit: IntervalUnit
    interval_count: int
    start_date: dt.date = Field(description="The anchor of the current timing.")
    end_kind: ScheduleEnd
    end_date: dt.date | None
    end_after_count: int | None
    on_period: PeriodAction
    payment_terms_days: int | None
    notes: str
    terms: str
    recipients: list[str]
    next_invoice_date: dt.date | None = Field(
        description="The first day of the next period billed; null once it has none left."
    )
    next_invoice_total: DecimalStr | None
    monthly_recurring: DecimalStr | None = Field(
        description="Net per month while active (a quarterly schedule counts a third)."
    )
    pricing_problem: str | None = Field(
        description="Why the lines cannot be priced today; the amounts are then null."
    )
    failing_reason: str | None = Field(
        description="Why the billing run could not bill the next period (it retries each run)."
    )
    paused_at: dt.datetime | None
    ended_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime

    @classmethod
    def fields_of(cls, summary: ScheduleSummary, failing_reason: str | None) -> dict[str, Any]:
        schedule, currency = summary.schedule, summary.schedule.currency

        def amount(figure: Any) -> str | None:
            return None if figure is None else money_str(figure, currency)

        return {
            "id": schedule.pk,
            "name": schedule.name,
            "status": ScheduleStatus(schedule.status),
            "client_id": schedule.client_id,
            "client_name": schedule.client.name,
            "deal_id": schedule.deal_id,
            "currency": currency,
            "interval_unit": IntervalUnit(schedule.interval_unit),
            "interval_count": schedule.interval_count,
            "start_date": schedule.start_date,
            "end_kind": ScheduleEnd(schedule.end_kind),
            "end_date": schedule.end_date,
            "end_after_count": schedule.end_after_count,
            "on_period": PeriodAction(schedule.on_period),
            "payment_terms_days": schedule.payment_terms_days,
            "notes": schedule.notes,
            "terms": schedule.terms,
            "recipients": list(schedule.recipients),
            "next_invoice_date": summary.next_invoice_date,
            "next_invoice_total": amount(summary.next_amount),
            "monthly_recurring": amount(summary.monthly_recurring),
            "pricing_problem": summary.value.pricing_problem or None,
            "failing_reason": failing_reason,
            "paused_at": schedule.paused_at,
            "ended_at": schedule.ended_at,
            "created_at": schedule.created_at,
            "updated_at": schedule.updated_at,
        }

    @classmethod
    def of(cls, summary: ScheduleSummary, failing_reason: str | None) -> ScheduleOut:
        return cls(**cls.fields_of(summary, failing_reason))


class ScheduleDetailOut(ScheduleOut):
    lines: list[ScheduleLineOut]
    tax_breakdown: list[TaxBreakdownOut] = Field(description="Of one period's invoice.")

    @classmethod
    def of_overview(
        cls, overview: ScheduleOverview, failure: BillingRunFailure | None
    ) -> ScheduleDetailOut:
        summary, currency = overview.summary, overview.schedule.currency
        totals = summary.value.totals
        return cls(
            **cls.fields_of(summary, failure.reason if failure is not None else None),
            lines=[
                ScheduleLineOut.of(line, result, currency) for line, result in overview.priced_lines
            ],
            tax_breakdown=[
                TaxBreakdownOut.of(row, currency)
                for row in (totals.tax_breakdown if totals else ())
            ],
        )


class PreviewOut(Output):
    period_number: int = Field(description="1 for the schedule's first period.")
    period_start: dt.date
    period_end: dt.date
    invoice_date: dt.date
    due_date: dt.date
    total: DecimalStr | None = Field(description="Null when the lines cannot be priced.")

    @classmethod
    def of(cls, row: PreviewRow, currency: str) -> PreviewOut:
        return cls(
            period_number=row.period.index + 1,
            period_start=row.period.start,
            period_end=row.period.end,
            invoice_date=row.invoice_date,
            due_date=row.due_date,
            total=money_str(row.total, currency) if row.total is not None else None,
        )


class SchedulePreviewOut(Output):
    currency: str
    invoices: list[PreviewOut] = Field(description="The next 12, priced with today's taxes.")


class ScheduleInvoiceOut(Output):
    period_number: int
    period_start: dt.date
    period_end: dt.date
    invoice_id: int | None = Field(description="Null when its draft was deleted in review.")
    number: str | None
    issue_date: dt.date | None
    due_date: dt.date | None
    total: DecimalStr | None
    amount_due: DecimalStr | None
    payment_state: PaymentState

    @classmethod
    def of(cls, row: ScheduleInvoiceRow) -> ScheduleInvoiceOut:
        period, invoice = row.period, row.period.invoice
        currency = period.schedule.currency if invoice is None else invoice.currency
        return cls(
            period_number=period.period_index + 1,
            period_start=period.start_date,
            period_end=period.end_date,
            invoice_id=invoice.pk if invoice is not None else None,
            number=(invoice.number or None) if invoice is not None else None,
            issue_date=invoice.issue_date if invoice is not None else None,
            due_date=invoice.due_date if invoice is not None else None,
            total=minor_money_str(invoice.total_minor, currency) if invoice is not None else None,
            amount_due=minor_money_str(invoice.balance_due_minor, currency)
            if invoice is not None
            else None,
            payment_state=row.state,
        )


class BillingRunFailureOut(Output):
    schedule_id: int
    schedule_name: str
    period_number: int
    reason: str
    created_at: dt.datetime


class BillingRunOut(Output):
    id: int
    as_of: dt.datetime
    started_at: dt.datetime
    finished_at: dt.datetime | None = Field(description="Null while running, or if killed.")
    all_agencies: bool = Field(description="A run over every agency: its counts are not shown.")
    periods_due: int | None
    invoices_created: int | None
    schedules_failed: int = Field(description="Your schedules it could not bill.")
    failures: list[BillingRunFailureOut]

    @classmethod
    def of(cls, row: BillingRunRow) -> BillingRunOut:
        run = row.run
        return cls(
            id=run.pk,
            as_of=run.as_of,
            started_at=run.started_at,
            finished_at=run.finished_at,
            all_agencies=not row.is_own,
            periods_due=run.periods_due if row.is_own else None,
            invoices_created=run.invoices_created if row.is_own else None,
            schedules_failed=len(row.failures),
            failures=[
                BillingRunFailureOut(
                    schedule_id=failure.schedule_id,
                    schedule_name=failure.schedule.name,
                    period_number=failure.period_index + 1,
                    reason=failure.reason,
                    created_at=failure.created_at,
                )
                for failure in row.failures
            ],
        )
