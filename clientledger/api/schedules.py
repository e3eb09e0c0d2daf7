"""Recurring schedules (retainers): list, create from a won deal or from lines, edit, pause,
resume, end, the next invoices they make and the invoices they made; the last billing runs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any, Literal

from django.core.exceptions import ValidationError
from ninja import Field, Query, Router, Schema

from clientledger.accounts.models import Agency
from clientledger.accounts.roles import Perm
from clientledger.api.access import agency_client, agency_deal, require
from clientledger.api.deals import DealLineOut, TaxBreakdownOut
from clientledger.api.inputs import (
    ChoiceValue,
    Email,
    IsoDate,
    LongText,
    RowId,
    SearchText,
    StrictSchema,
    Text,
    partial_update,
)
from clientledger.api.lines import MAX_LINES, LineIn, LinesIn, api_line_errors, lines_data
from clientledger.api.outputs import DecimalStr, minor_money_str, money_str, responses
from clientledger.api.pagination import Page, PageParams, paginate
from clientledger.api.service_errors import api_field_names, state_conflicts
from clientledger.billing.services.sending import MAX_RECIPIENTS
from clientledger.core.permissions import AgencyRequest
from clientledger.recurring.models import (
    MAX_INTERVAL_COUNT,
    BillingRunFailure,
    IntervalUnit,
    PeriodAction,
    RecurringPeriod,
    RecurringSchedule,
    ScheduleEnd,
    ScheduleStatus,
)
from clientledger.recurring.selectors import (
    PERIOD_ORDERING,
    SCHEDULE_ORDERING,
    BillingRunRow,
    PaymentState,
    PreviewRow,
    ScheduleInvoiceRow,
    ScheduleOverview,
    ScheduleSummary,
    billing_runs_recent,
    schedule_failure,
    schedule_get,
    schedule_invoice_row,
    schedule_list,
    schedule_overview,
    schedule_periods,
    schedule_preview,
    schedule_summaries,
    schedules_failing,
)
from clientledger.recurring.services.lifecycle import schedule_end, schedule_pause, schedule_resume
from clientledger.recurring.services.schedules import (
    schedule_create,
    schedule_create_from_deal,
    schedule_lines_replace,
    schedule_update,
)

router = Router(tags=["recurring schedules"])
billing_runs_router = Router(tags=["billing runs"])

SCHEDULE_FIELD_NAMES = {"client": "client_id", "deal": "deal_id"}
FROM_DEAL_FIELD_NAMES = {"deal": "from_deal_id"}
FROM_DEAL_EXCLUDES = ("client_id", "deal_id", "lines")
MAX_PERIODS = 100_000
CREATE_DESCRIPTION = (
    "Send `from_deal_id` (a won deal) and `start_date`: the schedule bills the deal's recurring "
    "lines of one `recurrence` (the deal's only one by default) at that frequency, named after "
    "the deal unless `name` is given. Or send `client_id`, `name`, `start_date` and `lines`. "
    "A start in the past is caught up by the next billing run, one invoice per period."
)


def operation_id(name: str) -> str:
    return f"clientledger_api_schedules_{name}"


@contextmanager
def service_errors(names: dict[str, str] = SCHEDULE_FIELD_NAMES) -> Iterator[None]:
    """Service errors under the API's field names; a change an ended schedule or the
    lifecycle refuses is a 409."""
    with api_field_names(names), api_line_errors(), state_conflicts():
        yield


# --- inputs ---------------------------------------------------------------------------------


class ScheduleSettings(StrictSchema):
    interval_unit: Annotated[IntervalUnit, ChoiceValue] = Field(
        IntervalUnit.MONTH, description="Monthly is 1 month, quarterly 3, yearly 12."
    )
    interval_count: int = Field(
        1, ge=1, le=max(MAX_INTERVAL_COUNT.values()), description="Bill every N units."
    )
    end_kind: Annotated[ScheduleEnd, ChoiceValue] = ScheduleEnd.NEVER
    end_date: IsoDate | None = Field(
        None, description="With `on_date`: no period starts after this day."
    )
    end_after_count: int | None = Field(
        None, ge=1, le=MAX_PERIODS, description="With `after_count`: how many invoices in all."
    )
    on_period: Annotated[PeriodAction, ChoiceValue] = Field(
        PeriodAction.DRAFT, description="What the billing run does with each period's invoice."
    )
    payment_terms_days: int | None = Field(
        None, ge=0, le=365, description="Left out or null: the client's terms."
    )
    notes: LongText = ""
    terms: LongText = ""
    recipients: list[Email] = Field(
        default_factory=list,
        max_length=MAX_RECIPIENTS,
        description="Where each invoice is emailed; empty: the client's billing addresses.",
    )


class ScheduleIn(ScheduleSettings):
    start_date: IsoDate = Field(description="The first day billed: every period counts from it.")
    name: Annotated[str, Text(200)] = Field(
        "", description="Required with `client_id`; from a deal, the deal's title by default."
    )
    from_deal_id: RowId | None = Field(None, description="A won deal of your agency.")
    recurrence: Literal["monthly", "quarterly", "yearly"] | None = Field(
        None, description="With `from_deal_id`: which of the deal's recurring lines to bill."
    )
    client_id: RowId | None = None
    deal_id: RowId | None = Field(None, description="A deal of the client the schedule is for.")
    lines: list[LineIn] = Field(default_factory=list, max_length=MAX_LINES)


class ScheduleFields(ScheduleSettings):
    name: Annotated[str, Text(200, required=True)]
    start_date: IsoDate
    deal_id: RowId | None = None


@partial_update
class SchedulePatch(ScheduleFields):
    """Only the fields sent are changed, for the periods not billed yet; a change of frequency
    or start begins a new timing at the first unbilled period. The client never changes."""


class EndIn(StrictSchema):
    reason: Annotated[str, Text(2000, multiline=True)] = ""


class ScheduleFilters(PageParams):
    q: SearchText = Field("", description="Schedule name or client name.")
    status: ScheduleStatus | None = None
    client_id: RowId | None = None
    deal_id: RowId | None = None


class RunParams(Schema):
    limit: int = Field(10, ge=1, le=50, description="How many runs, latest first.")


# --- outputs --------------------------------------------------------------------------------


class ScheduleLineOut(DealLineOut):
    """A line billed every period."""


class ScheduleOut(Schema):
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


class PreviewOut(Schema):
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


class SchedulePreviewOut(Schema):
    currency: str
    invoices: list[PreviewOut] = Field(description="The next 12, priced with today's taxes.")


class ScheduleInvoiceOut(Schema):
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


class BillingRunFailureOut(Schema):
    schedule_id: int
    schedule_name: str
    period_number: int
    reason: str
    created_at: dt.datetime


class BillingRunOut(Schema):
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


# --- handlers -------------------------------------------------------------------------------


def _schedule_out(agency: Agency, schedule_id: int) -> ScheduleDetailOut:
    overview = schedule_overview(agency=agency, pk=schedule_id)
    failure = schedule_failure(agency=agency, schedule=overview.schedule)
    return ScheduleDetailOut.of_overview(overview, failure)


def _settings(payload: StrictSchema, exclude: set[str]) -> dict[str, Any]:
    return payload.model_dump(exclude_unset=True, exclude=exclude)


def _from_deal(request: AgencyRequest, agency: Agency, payload: ScheduleIn) -> RecurringSchedule:
    assert payload.from_deal_id is not None
    sent = payload.model_dump(exclude_unset=True)
    refused = {name for name in FROM_DEAL_EXCLUDES if name in sent}
    if refused:
        raise ValidationError(
            {name: "Leave this out when creating from a deal (from_deal_id)." for name in refused}
        )
    deal = agency_deal(agency=agency, pk=payload.from_deal_id, field="from_deal_id")
    settings = _settings(payload, {"from_deal_id", "recurrence", "name", "start_date"})
    with service_errors(FROM_DEAL_FIELD_NAMES):
        return schedule_create_from_deal(
            deal=deal,
            actor=request.user,
            start_date=payload.start_date,
            recurrence=payload.recurrence,
            name=payload.name or None,
            **settings,
        )


def _from_lines(request: AgencyRequest, agency: Agency, payload: ScheduleIn) -> RecurringSchedule:
    errors = {}
    if payload.client_id is None:
        errors["client_id"] = "Choose a client, or send from_deal_id."
    if not payload.name:
        errors["name"] = "Name the schedule."
    if payload.recurrence is not None:
        errors["recurrence"] = "Only with from_deal_id; set interval_unit and interval_count."
    if errors:
        raise ValidationError(errors)
    assert payload.client_id is not None
    client = agency_client(agency=agency, pk=payload.client_id)
    deal = agency_deal(agency=agency, pk=payload.deal_id) if payload.deal_id is not None else None
    lines = lines_data(agency=agency, lines=payload.lines)
    settings = _settings(
        payload,
        {"from_deal_id", "recurrence", "name", "start_date", "client_id", "deal_id", "lines"},
    )
    with service_errors():
        return schedule_create(
            agency=agency,
            actor=request.user,
            client=client,
            name=payload.name,
            lines=lines,
            start_date=payload.start_date,
            deal=deal,
            **settings,
        )


@router.get(
    "",
    response=responses({200: Page[ScheduleOut]}),
    summary="List recurring schedules",
    operation_id=operation_id("list_schedules"),
)
def list_schedules(request: AgencyRequest, filters: Query[ScheduleFilters]) -> dict[str, Any]:
    agency = require(request, Perm.VIEW)
    rows = schedule_list(
        agency=agency,
        search=filters.q,
        status=filters.status or "",
        client_id=filters.client_id,
        deal_id=filters.deal_id,
    )

    def render(page: list[RecurringSchedule]) -> list[ScheduleOut]:
        summaries = schedule_summaries(agency=agency, schedules=page)
        failing = schedules_failing(agency=agency, schedules=page)
        return [ScheduleOut.of(summary, failing.get(summary.schedule.pk)) for summary in summaries]

    return paginate(rows, ordering=SCHEDULE_ORDERING, params=filters, render=render)


@router.post(
    "",
    response=responses({201: ScheduleDetailOut}),
    summary="Create a recurring schedule",
    description=CREATE_DESCRIPTION,
    operation_id=operation_id("create_schedule"),
)
def create_schedule(request: AgencyRequest, payload: ScheduleIn) -> tuple[int, ScheduleDetailOut]:
    agency = require(request, Perm.INVOICE_EDIT)
    if payload.from_deal_id is not None:
        schedule = _from_deal(request, agency, payload)
    else:
        schedule = _from_lines(request, agency, payload)
    return 201, _schedule_out(agency, schedule.pk)


@router.get(
    "/{schedule_id}",
    response=responses({200: ScheduleDetailOut}),
    summary="Get a recurring schedule",
    operation_id=operation_id("get_schedule"),
)
def get_schedule(request: AgencyRequest, schedule_id: RowId) -> ScheduleDetailOut:
    agency = require(request, Perm.VIEW)
    return _schedule_out(agency, schedule_id)


@router.patch(
    "/{schedule_id}",
    response=responses({200: ScheduleDetailOut}),
    summary="Update a recurring schedule",
    description="Applies to the periods not billed yet; an ended schedule cannot change (409).",
    operation_id=operation_id("update_schedule"),
)
def update_schedule(
    request: AgencyRequest, schedule_id: RowId, payload: SchedulePatch
) -> ScheduleDetailOut:
    agency = require(request, Perm.INVOICE_EDIT)
    schedule = schedule_get(agency=agency, pk=schedule_id)
    data = _settings(payload, {"deal_id"})
    if "deal_id" in payload.model_fields_set:
        deal_id = payload.deal_id
        data["deal"] = agency_deal(agency=agency, pk=deal_id) if deal_id is not None else None
    with service_errors():
        schedule_update(schedule=schedule, actor=request.user, **data)
    return _schedule_out(agency, schedule_id)


@router.put(
    "/{schedule_id}/lines",
    response=responses({200: ScheduleDetailOut}),
    summary="Replace a recurring schedule's lines",
    description="From the next period billed on; every line is valid, or nothing changes.",
    operation_id=operation_id("replace_schedule_lines"),
)
def replace_schedule_lines(
    request: AgencyRequest, schedule_id: RowId, payload: LinesIn
) -> ScheduleDetailOut:
    agency = require(request, Perm.INVOICE_EDIT)
    schedule = schedule_get(agency=agency, pk=schedule_id)
    lines = lines_data(agency=agency, lines=payload.lines)
    with service_errors():
        schedule_lines_replace(schedule=schedule, actor=request.user, lines=lines)
    return _schedule_out(agency, schedule_id)


@router.post(
    "/{schedule_id}/pause",
    response=responses({200: ScheduleDetailOut}),
    summary="Pause a recurring schedule",
    description="The periods that start while paused are not billed, nor caught up.",
    operation_id=operation_id("pause_schedule"),
)
def pause_schedule(request: AgencyRequest, schedule_id: RowId) -> ScheduleDetailOut:
    agency = require(request, Perm.INVOICE_EDIT)
    with service_errors():
        schedule_pause(schedule=schedule_get(agency=agency, pk=schedule_id), actor=request.user)
    return _schedule_out(agency, schedule_id)


@router.post(
    "/{schedule_id}/resume",
    response=responses({200: ScheduleDetailOut}),
    summary="Resume a paused recurring schedule",
    description="Billing resumes with the first period starting today or later.",
    operation_id=operation_id("resume_schedule"),
)
def resume_schedule(request: AgencyRequest, schedule_id: RowId) -> ScheduleDetailOut:
    agency = require(request, Perm.INVOICE_EDIT)
    with service_errors():
        schedule_resume(schedule=schedule_get(agency=agency, pk=schedule_id), actor=request.user)
    return _schedule_out(agency, schedule_id)


@router.post(
    "/{schedule_id}/end",
    response=responses({200: ScheduleDetailOut}),
    summary="End a recurring schedule",
    description="For good: nothing is billed after this; the invoices made stay.",
    operation_id=operation_id("end_schedule"),
)
def end_schedule(request: AgencyRequest, schedule_id: RowId, payload: EndIn) -> ScheduleDetailOut:
    agency = require(request, Perm.INVOICE_EDIT)
    schedule = schedule_get(agency=agency, pk=schedule_id)
    with service_errors():
        schedule_end(schedule=schedule, actor=request.user, reason=payload.reason)
    return _schedule_out(agency, schedule_id)


@router.get(
    "/{schedule_id}/preview",
    response=responses({200: SchedulePreviewOut}),
    summary="The next invoices of a recurring schedule",
    description="The next 12 invoice dates and amounts; none for an ended schedule.",
    operation_id=operation_id("preview_schedule"),
)
def preview_schedule(request: AgencyRequest, schedule_id: RowId) -> SchedulePreviewOut:
    agency = require(request, Perm.VIEW)
    schedule = schedule_get(agency=agency, pk=schedule_id)
    return SchedulePreviewOut(
        currency=schedule.currency,
        invoices=[
            PreviewOut.of(row, schedule.currency) for row in schedule_preview(schedule=schedule)
        ],
    )


@router.get(
    "/{schedule_id}/invoices",
    response=responses({200: Page[ScheduleInvoiceOut]}),
    summary="The invoices a recurring schedule made",
    description="Latest period first, each with its payment state (overdue, partially paid...).",
    operation_id=operation_id("list_schedule_invoices"),
)
def list_schedule_invoices(
    request: AgencyRequest, schedule_id: RowId, params: Query[PageParams]
) -> dict[str, Any]:
    agency = require(request, Perm.VIEW)
    schedule = schedule_get(agency=agency, pk=schedule_id)

    def render(page: list[RecurringPeriod]) -> list[ScheduleInvoiceOut]:
        for period in page:
            period.schedule = schedule
        return [ScheduleInvoiceOut.of(schedule_invoice_row(period)) for period in page]

    return paginate(
        schedule_periods(agency=agency, schedule=schedule),
        ordering=PERIOD_ORDERING,
        params=params,
        render=render,
    )


@billing_runs_router.get(
    "",
    response=responses({200: list[BillingRunOut]}),
    summary="The last billing runs",
    description=(
        "Latest first: when retainers were billed, and which of your schedules a run could "
        "not bill and why (the next run tries again). A run over every agency shows no counts."
    ),
    operation_id=operation_id("list_billing_runs"),
)
def list_billing_runs(request: AgencyRequest, params: Query[RunParams]) -> list[BillingRunOut]:
    agency = require(request, Perm.VIEW)
    return [BillingRunOut.of(row) for row in billing_runs_recent(agency=agency, limit=params.limit)]
