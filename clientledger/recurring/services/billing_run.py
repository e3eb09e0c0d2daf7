"""The billing run: every period due up to a moment, for every active schedule, billed once.

Due schedules are streamed in chunks of ids (`billing_run_due_chunks`, one agency per chunk,
so memory stays flat whatever their number) and each chunk is billed in one transaction
(`billing_run_chunk`): its schedules locked with SKIP LOCKED (two runs at once share the work
instead of waiting), every due period of each, missed ones included, priced and built in
memory, then numbers taken in blocks and invoices, lines, periods, ledger entries, audit events
and outbox rows written in multi-row inserts (`billing.services.batches`). The schedules'
cursors move in the same transaction, so a run killed at any point leaves each schedule either
billed and moved on, or untouched; the unique (schedule, period index) of `RecurringPeriod` is
the final guard against a second invoice for a period. A schedule that cannot be billed (e.g.
no billing email to send to) is recorded as a `BillingRunFailure` and the others go on.

Only active schedules are billed. A paused schedule is not, and the periods that start while
it is paused are skipped, not caught up: resuming moves its cursor to the first period that
starts on or after the day it resumes (`lifecycle.schedule_resume`).
Celery fans the same two functions out over workers (`jobs`); `billing_run` calls them in
turn."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import QuerySet

from clientledger.accounts.models import Agency
from clientledger.core import clock
from clientledger.core.bulk import collector_paused
from clientledger.recurring.models import (
    BillingRun,
    RecurringSchedule,
    ScheduleStatus,
)
from clientledger.recurring.services.billing_chunks import (
    chunk_bill,
    chunk_counts,
    failure_reason,
    failure_record,
)

logger = logging.getLogger(__name__)

CHUNK_SIZE = 1000
# No agency's date is more than 14 hours ahead of UTC (Pacific/Kiritimati).
LATEST_OFFSET = dt.timedelta(hours=14)


@dataclass
class BillingRunResult:
    """What a run did: `periods_due` found, `invoices_created`, `schedules_failed` (recorded
    as `BillingRunFailure`s), `schedules_skipped` (billed by another run at the same time).
    `run` is its record."""

    run: BillingRun
    schedules_due: int = 0
    periods_due: int = 0
    invoices_created: int = 0
    schedules_failed: int = 0
    schedules_skipped: int = 0
    schedules_done: int = 0
    started: float = field(default_factory=time.monotonic)

    @property
    def seconds(self) -> float:
        return time.monotonic() - self.started

    @property
    def rate(self) -> float:
        """Invoices created per second so far."""
        return self.invoices_created / self.seconds if self.seconds > 0 else 0.0

    def add(self, counts: dict[str, int]) -> None:
        self.schedules_done += counts["schedules"]
        self.periods_due += counts["due"]
        self.invoices_created += counts["created"]
        self.schedules_failed += counts["failed"]
        self.schedules_skipped += counts["skipped"]


def billing_run(
    *,
    as_of: dt.datetime,
    agency: Agency | None = None,
    progress: Callable[[BillingRunResult], None] | None = None,
    chunk_size: int = CHUNK_SIZE,
) -> BillingRunResult:
    """Bill every period due by `as_of` (each agency's own date) of every active schedule,
    of one agency or all, recorded as one `BillingRun`; `progress` is called after each
    chunk."""
    due = billing_run_due_count(as_of=as_of, agency=agency)
    run = billing_run_start(as_of=as_of, agency=agency)
    result = BillingRunResult(run=run, schedules_due=due)
    for schedule_ids in billing_run_due_chunks(as_of=as_of, size=chunk_size, agency=agency):
        result.add(billing_run_chunk(schedule_ids=schedule_ids, as_of=as_of, run=run))
        if progress is not None:
            progress(result)
    billing_run_finish(run=run)
    return result


def billing_run_start(*, as_of: dt.datetime, agency: Agency | None = None) -> BillingRun:
    return BillingRun.objects.create(agency=agency, as_of=as_of)


def billing_run_finish(*, run: BillingRun) -> BillingRun:
    """Stamp the run finished; its counts were added by each chunk as it committed."""
    run.finished_at = clock.now()
    BillingRun.objects.filter(pk=run.pk).update(finished_at=run.finished_at)
    run.refresh_from_db()
    return run


def _due(as_of: dt.datetime, agency: Agency | None) -> list[tuple[Agency, dt.date]]:
    """The agencies with a schedule due by `as_of`, each with its own date then."""
    candidates = RecurringSchedule.objects.filter(
        status=ScheduleStatus.ACTIVE, next_period_start__lte=(as_of + LATEST_OFFSET).date()
    )
    agencies = [agency] if agency is not None else []
    if agency is None:
        # The due schedules first (their partial index), then their few agencies: as a
        # subquery, PostgreSQL may read every schedule of every agency instead.
        due_agency_ids = set(candidates.values_list("agency_id", flat=True).distinct())
        agencies = list(Agency.objects.filter(pk__in=due_agency_ids).order_by("pk"))
    return [(each, clock.agency_today(each, as_of=as_of)) for each in agencies]


def _due_schedules(agency: Agency, today: dt.date) -> QuerySet[RecurringSchedule]:
    return RecurringSchedule.objects.filter(
        agency=agency, status=ScheduleStatus.ACTIVE, next_period_start__lte=today
    )


def billing_run_due_count(*, as_of: dt.datetime, agency: Agency | None = None) -> int:
    """How many schedules have a period due by `as_of` (for the progress display)."""
    return sum(_due_schedules(each, today).count() for each, today in _due(as_of, agency))


def billing_run_due_chunks(
    *, as_of: dt.datetime, size: int, agency: Agency | None = None
) -> Iterator[list[int]]:
    """The ids of the schedules with a period due by `as_of`, `size` at a time, in id order,
    one agency per chunk; read one chunk at a time (keyset), so memory stays flat."""
    for each, today in _due(as_of, agency):
        after = 0
        while True:
            ids = list(
                _due_schedules(each, today)
                .filter(pk__gt=after)
                .order_by("pk")
                .values_list("pk", flat=True)[:size]
            )
            if not ids:
                break
            yield ids
            after = ids[-1]


def billing_run_chunk(
    *, schedule_ids: Sequence[int], as_of: dt.datetime, run: BillingRun | None = None
) -> dict[str, int]:
    """Bill the due periods of these schedules in one transaction. Counts: `schedules` asked,
    periods `due`, invoices `created`, schedules `failed` and `skipped` (locked by another
    run or no longer due). If the chunk fails as a whole (a balance past its bound, a period
    billed meanwhile), each schedule is billed alone so that only the bad one fails."""
    try:
        with collector_paused(), transaction.atomic():
            return chunk_bill(schedule_ids, as_of, run)
    except Exception as error:  # isolated below: one schedule's failure must not stop others
        if len(schedule_ids) > 1:
            counts: Counter[str] = Counter()
            for schedule_id in schedule_ids:
                counts.update(billing_run_chunk(schedule_ids=[schedule_id], as_of=as_of, run=run))
            return {**chunk_counts(), **counts, "schedules": len(schedule_ids)}
        logger.exception("billing run: schedule %s failed", schedule_ids[0])
        return failure_record(schedule_ids[0], failure_reason(error), run)


def billing_run_sweep_chunk(*, ids: list[int], as_of: dt.datetime) -> dict[str, int]:
    """One chunk of the background billing run (the `billing_run` sweep: the embedded
    runner's chunks in turn, or one Celery task each), recorded as a `BillingRun` of its own
    so staff see when retainers were last billed and what failed. A chunk holds one agency's
    schedules, so its run is that agency's (staff see its counts). Counts what happened."""
    first = RecurringSchedule.objects.select_related("agency").filter(pk__in=ids).first()
    run = billing_run_start(as_of=as_of, agency=first.agency if first is not None else None)
    counts = billing_run_chunk(schedule_ids=ids, as_of=as_of, run=run)
    billing_run_finish(run=run)
    return {name: counts[name] for name in ("created", "failed") if counts[name]}
