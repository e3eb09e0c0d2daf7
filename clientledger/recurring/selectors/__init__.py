"""Reads of recurring schedules: `lists` (filtered pages, summaries, a client's or a deal's
schedules), `overview` (one schedule, its next invoices' preview and its page), `invoices` (the
invoices it made with their payment states), `billing_runs` (the latest runs and the schedules
they could not bill). Every read takes the agency; query counts are tested. The names other
apps read are exported here.

Amounts are the schedule's lines priced through the money engine (`lines.pricing`) as the
billing run prices them: in the client's currency, with the agency's rounding, the tax rates
as they stand today and the client's tax exemption. The MRR contribution is the net of one
period (before tax) per month (`calculations.monthly_amount`: quarterly /3, yearly /12, every
N weeks x 52/12/N, every N days x 365/12/N), rounded to the currency's digits.
"""

from clientledger.recurring.selectors.billing_runs import (
    BillingRunRow,
    billing_runs_recent,
    schedule_failure,
    schedules_failing,
)
from clientledger.recurring.selectors.invoices import (
    PERIOD_ORDERING,
    PaymentState,
    ScheduleInvoiceRow,
    schedule_invoice_row,
    schedule_invoices_page,
    schedule_periods,
)
from clientledger.recurring.selectors.lists import (
    SCHEDULE_ORDERING,
    RecordSchedules,
    ScheduleSummary,
    client_schedules,
    deal_schedules,
    schedule_list,
    schedule_list_page,
    schedule_summaries,
)
from clientledger.recurring.selectors.overview import (
    PreviewRow,
    ScheduleOverview,
    payment_terms_days,
    schedule_get,
    schedule_lines_data,
    schedule_overview,
    schedule_preview,
)

__all__ = [
    "PERIOD_ORDERING",
    "SCHEDULE_ORDERING",
    "BillingRunRow",
    "PaymentState",
    "PreviewRow",
    "RecordSchedules",
    "ScheduleInvoiceRow",
    "ScheduleOverview",
    "ScheduleSummary",
    "billing_runs_recent",
    "client_schedules",
    "deal_schedules",
    "payment_terms_days",
    "schedule_failure",
    "schedule_get",
    "schedule_invoice_row",
    "schedule_invoices_page",
    "schedule_lines_data",
    "schedule_list",
    "schedule_list_page",
    "schedule_overview",
    "schedule_periods",
    "schedule_preview",
    "schedule_summaries",
    "schedules_failing",
]
