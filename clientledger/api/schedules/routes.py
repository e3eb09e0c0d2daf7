"""The recurring schedules and billing runs endpoints, with their service error mapping."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import ValidationError
from ninja import Query, Router

from clientledger.accounts.models import Agency
from clientledger.accounts.roles import Perm
from clientledger.api.access import agency_client, agency_deal, require
from clientledger.api.inputs import (
    RowId,
    StrictSchema,
)
from clientledger.api.lines import LinesIn, api_line_errors, lines_data
from clientledger.api.outputs import responses
from clientledger.api.pagination import Page, PageParams, paginate
from clientledger.api.schedules.inputs import (
    EndIn,
    RunParams,
    ScheduleFilters,
    ScheduleIn,
    SchedulePatch,
)
from clientledger.api.schedules.outputs import (
    BillingRunOut,
    PreviewOut,
    ScheduleDetailOut,
    ScheduleInvoiceOut,
    ScheduleOut,
    SchedulePreviewOut,
)
from clientledger.api.service_errors import api_field_names, state_conflicts
from clientledger.core.permissions import AgencyRequest
from clientledger.recurring.models import (
    RecurringPeriod,
    RecurringSchedule,
)
from clientledger.recurring.selectors import (
    PERIOD_ORDERING,
    SCHEDULE_ORDERING,
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
def list_schedules(request: AgencyRequest, filters: Query[ScheduleFilters]) -> Page[ScheduleOut]:
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

    return paginate(
        rows, ordering=SCHEDULE_ORDERING, params=filters, item=ScheduleOut, render=render
    )


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
) -> Page[ScheduleInvoiceOut]:
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
        item=ScheduleInvoiceOut,
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
