"""The schedule pages: the list with the last billing runs, one schedule, its invoices."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from clientledger.accounts.roles import Perm
from clientledger.core.http import object_or_404
from clientledger.core.permissions import AgencyRequest, require_perm
from clientledger.recurring import selectors
from clientledger.recurring.models import RecurringSchedule, ScheduleStatus
from clientledger.recurring.states import SCHEDULE_TRANSITIONS

# The list page shows the last few billing runs; the API lists more.
RUNS_SHOWN = 5


@require_GET
@require_perm(Perm.VIEW)
def schedule_list(request: AgencyRequest) -> HttpResponse:
    search = request.GET.get("q", "").strip()
    status = request.GET.get("status", "")
    if status not in ScheduleStatus.values:
        status = ""
    listing = selectors.schedule_list_page(
        agency=request.agency,
        search=search,
        status=status,
        after=request.GET.get("after"),
        before=request.GET.get("before"),
    )
    return render(
        request,
        "recurring/schedule_list.html",
        {
            "listing": listing,
            "failing": selectors.schedules_failing(
                agency=request.agency, schedules=listing.page.items
            ),
            "runs": selectors.billing_runs_recent(agency=request.agency, limit=RUNS_SHOWN),
            "page": listing.page,
            "search": search,
            "status": status,
            "statuses": ScheduleStatus.choices,
        },
    )


def schedule_actions(schedule: RecurringSchedule) -> dict[str, bool]:
    """The lifecycle buttons the schedule's status allows (the table in `states.py`)."""
    allowed = SCHEDULE_TRANSITIONS[schedule.status]
    return {
        "can_pause": ScheduleStatus.PAUSED in allowed,
        "can_resume": ScheduleStatus.ACTIVE in allowed,
        "can_end": ScheduleStatus.ENDED in allowed,
        "can_edit": schedule.status != ScheduleStatus.ENDED,
    }


@require_GET
@require_perm(Perm.VIEW)
def schedule_detail(request: AgencyRequest, pk: int) -> HttpResponse:
    overview = object_or_404(selectors.schedule_overview, agency=request.agency, pk=pk)
    return render(
        request,
        "recurring/schedule_detail.html",
        {
            "overview": overview,
            "schedule": overview.schedule,
            "failure": selectors.schedule_failure(
                agency=request.agency, schedule=overview.schedule
            ),
            **schedule_actions(overview.schedule),
        },
    )


@require_GET
@require_perm(Perm.VIEW)
def schedule_invoices(request: AgencyRequest, pk: int) -> HttpResponse:
    schedule = object_or_404(selectors.schedule_get, agency=request.agency, pk=pk)
    listing = selectors.schedule_invoices_page(
        agency=request.agency,
        schedule=schedule,
        after=request.GET.get("after"),
        before=request.GET.get("before"),
    )
    return render(
        request,
        "recurring/schedule_invoices.html",
        {"schedule": schedule, "listing": listing, "page": listing.page},
    )
