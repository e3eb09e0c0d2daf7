"""The latest billing runs an agency sees and the schedules they could not bill."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import F, Max, Q, QuerySet

from clientledger.accounts.models import Agency
from clientledger.recurring.models import (
    BillingRun,
    BillingRunFailure,
    RecurringSchedule,
    ScheduleStatus,
)

RECENT_RUNS = 10


@dataclass(frozen=True)
class BillingRunRow:
    """A billing run as one agency sees it: its own failures, and the run's counts only when
    the run billed this agency alone (a run over every agency counts other agencies too)."""

    run: BillingRun
    failures: list[BillingRunFailure]

    @property
    def is_own(self) -> bool:
        return self.run.agency_id is not None


def billing_runs_recent(*, agency: Agency, limit: int = RECENT_RUNS) -> list[BillingRunRow]:
    """The agency's last `limit` billing runs (its own, and those over every agency), latest
    first, each with the schedules it could not bill and why: two queries."""
    runs = list(
        BillingRun.objects.filter(Q(agency=agency) | Q(agency__isnull=True)).order_by(
            "-started_at", "-id"
        )[:limit]
    )
    failures: dict[int, list[BillingRunFailure]] = {run.pk: [] for run in runs}
    for failure in (
        BillingRunFailure.objects.filter(agency=agency, run_id__in=list(failures))
        .select_related("schedule")
        .order_by("schedule__name", "id")
    ):
        assert failure.run_id is not None  # filtered on the runs above
        failures[failure.run_id].append(failure)
    return [BillingRunRow(run=run, failures=failures[run.pk]) for run in runs]


def _still_failing(agency: Agency) -> QuerySet[BillingRunFailure]:
    """Failures whose period is still not billed, of active schedules: a failing schedule
    (the run retries it every time and records each attempt)."""
    return BillingRunFailure.objects.filter(
        agency=agency,
        schedule__status=ScheduleStatus.ACTIVE,
        period_index__gte=F("schedule__next_period_index"),
    )


def schedule_failure(*, agency: Agency, schedule: RecurringSchedule) -> BillingRunFailure | None:
    """Why the billing run last failed to bill this schedule, while that period is still not
    billed; None once billed, paused or ended."""
    return _still_failing(agency).filter(schedule=schedule).order_by("-created_at", "-id").first()


def schedules_failing(*, agency: Agency, schedules: Iterable[RecurringSchedule]) -> dict[int, str]:
    """Which of these schedules are failing (as `schedule_failure`), each with the billing
    run's last reason: one query."""
    latest = (
        _still_failing(agency)
        .filter(schedule_id__in=[schedule.pk for schedule in schedules])
        .values("schedule_id")
        .annotate(latest=Max("id"))
        .values_list("latest", flat=True)
    )
    return dict(
        BillingRunFailure.objects.filter(agency=agency, pk__in=latest).values_list(
            "schedule_id", "reason"
        )
    )
