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
from itertools import groupby

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, QuerySet

from clientledger.accounts.models import Agency
from clientledger.billing.services.batches import (
    BuiltInvoice,
    InvoiceOrder,
    invoice_build,
    invoices_send_many,
    invoices_write,
)
from clientledger.billing.services.snapshots import billing_contacts
from clientledger.core import clock
from clientledger.core.bulk import rows_insert, rows_update
from clientledger.core.money import from_minor
from clientledger.crm.models import Contact
from clientledger.lines.data import LineData
from clientledger.payments.selectors import clients_credit_minor
from clientledger.payments.services.credit import credit_apply
from clientledger.recurring.calculations import Period, periods_due, schedule_timing
from clientledger.recurring.models import (
    BillingRun,
    BillingRunFailure,
    PeriodAction,
    RecurringPeriod,
    RecurringSchedule,
    RecurringScheduleLine,
    ScheduleStatus,
)
from clientledger.recurring.selectors import payment_terms_days
from clientledger.recurring.services.common import cursor_set

logger = logging.getLogger(__name__)

CHUNK_SIZE = 250
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
        agencies = list(Agency.objects.filter(pk__in=candidates.values("agency_id")).order_by("pk"))
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
        with transaction.atomic():
            return _chunk_bill(schedule_ids, as_of, run)
    except Exception as error:  # isolated below: one schedule's failure must not stop others
        if len(schedule_ids) > 1:
            counts: Counter[str] = Counter()
            for schedule_id in schedule_ids:
                counts.update(billing_run_chunk(schedule_ids=[schedule_id], as_of=as_of, run=run))
            return {**_counts(), **counts, "schedules": len(schedule_ids)}
        logger.exception("billing run: schedule %s failed", schedule_ids[0])
        return _failure_record(schedule_ids[0], _reason(error), run)


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


def _counts(**counts: int) -> dict[str, int]:
    return {"schedules": 0, "due": 0, "created": 0, "failed": 0, "skipped": 0, **counts}


def _reason(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return f"{type(error).__name__}: {error}"


def _failure_record(schedule_id: int, reason: str, run: BillingRun | None) -> dict[str, int]:
    with transaction.atomic():
        schedule = RecurringSchedule.objects.filter(pk=schedule_id).first()
        if schedule is None:
            return _counts(schedules=1, skipped=1)
        _failure(schedule, reason, run).save(force_insert=True)
        if run is not None:
            BillingRun.objects.filter(pk=run.pk).update(schedules_failed=F("schedules_failed") + 1)
    return _counts(schedules=1, failed=1)


@dataclass
class _Billed:
    """A schedule's due periods and their built invoices, while a chunk is billed."""

    schedule: RecurringSchedule
    periods: list[Period]
    built: list[BuiltInvoice]


def _chunk_bill(
    schedule_ids: Sequence[int], as_of: dt.datetime, run: BillingRun | None
) -> dict[str, int]:
    schedules = list(
        RecurringSchedule.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(pk__in=schedule_ids, status=ScheduleStatus.ACTIVE, next_period_start__isnull=False)
        .select_related("agency", "client", "deal")
        .order_by("agency_id", "pk")
    )
    lines = _schedule_lines(schedules)
    contacts = billing_contacts(schedule.client_id for schedule in schedules)
    counts = _counts(schedules=len(schedule_ids), skipped=len(schedule_ids) - len(schedules))
    failures: list[BillingRunFailure] = []
    for _, of_agency in groupby(schedules, key=lambda schedule: schedule.agency_id):
        billed: list[_Billed] = []
        for schedule in of_agency:
            schedule.client.agency = schedule.agency  # one agency row, read once
            today = clock.agency_today(schedule.agency, as_of=as_of)
            timing = schedule_timing(schedule)
            periods = list(periods_due(timing, first_index=schedule.next_period_index, today=today))
            counts["due"] += len(periods)
            if not periods:
                continue
            try:
                built = _schedule_build(schedule, periods, lines.get(schedule.pk, []), contacts)
            except ValidationError as error:
                failures.append(_failure(schedule, _reason(error), run))
                continue
            billed.append(_Billed(schedule=schedule, periods=periods, built=built))
        counts["created"] += _agency_write(billed)
    counts["failed"] = len(failures)
    BillingRunFailure.objects.bulk_create(failures)
    if run is not None:
        BillingRun.objects.filter(pk=run.pk).update(
            periods_due=F("periods_due") + counts["due"],
            invoices_created=F("invoices_created") + counts["created"],
            schedules_failed=F("schedules_failed") + counts["failed"],
        )
    return counts


def _schedule_lines(
    schedules: list[RecurringSchedule],
) -> dict[int, list[RecurringScheduleLine]]:
    lines: dict[int, list[RecurringScheduleLine]] = {}
    stored = (
        RecurringScheduleLine.objects.filter(schedule__in=schedules)
        .select_related("service", "tax_1", "tax_2")
        .order_by("schedule_id", "position", "id")
    )
    for line in stored:
        lines.setdefault(line.schedule_id, []).append(line)
    return lines


def _failure(schedule: RecurringSchedule, reason: str, run: BillingRun | None) -> BillingRunFailure:
    return BillingRunFailure(
        agency_id=schedule.agency_id,
        run=run,
        schedule=schedule,
        period_index=schedule.next_period_index,
        reason=reason,
    )


def _recipients(schedule: RecurringSchedule) -> list[str]:
    if schedule.on_period != PeriodAction.ISSUE_AND_SEND:
        return []
    recipients = list(schedule.recipients) or (
        [schedule.client.billing_email] if schedule.client.billing_email else []
    )
    if not recipients:
        raise ValidationError(
            f"{schedule.client.name} has no billing email to send the invoice to: add one to "
            "the client or recipients to the schedule."
        )
    return recipients


def _schedule_build(
    schedule: RecurringSchedule,
    periods: list[Period],
    lines: list[RecurringScheduleLine],
    contacts: dict[int, Contact],
) -> list[BuiltInvoice]:
    """The invoices of a schedule's due periods, built and priced (no query); refused as a
    whole, as the schedule's cursor moves past all of them or none."""
    if not lines:
        raise ValidationError("The schedule has no lines to bill.")
    if schedule.currency != schedule.client.currency:
        raise ValidationError(
            f"The schedule is in {schedule.currency} but {schedule.client.name} is billed in "
            f"{schedule.client.currency}."
        )
    recipients = _recipients(schedule)
    issue = schedule.on_period != PeriodAction.DRAFT
    terms = dt.timedelta(days=payment_terms_days(schedule))
    built = []
    for period in periods:
        due_on = period.start + terms if issue else None
        order = InvoiceOrder(
            client=schedule.client,
            deal=schedule.deal,
            lines=[LineData.from_line(line) for line in lines],
            notes=schedule.notes,
            terms=schedule.terms,
            issue=issue,
            issue_date=period.start if issue else None,
            due_date=due_on,
            send_to=recipients,
            kept_from=lines,
            lines_checked=True,
        )
        built.append(
            invoice_build(
                agency=schedule.agency,
                actor=None,
                order=order,
                billing_contact=contacts.get(schedule.client_id),
            )
        )
    return built


def _agency_write(billed: list[_Billed]) -> int:
    """Write one agency's built invoices, their periods and the schedules' new cursors;
    apply client credit when the agency says so; send. Returns the invoices written."""
    if not billed:
        return 0
    agency = billed[0].schedule.agency
    built = [item for entry in billed for item in entry.built]
    invoices_write(agency=agency, actor=None, built=built)
    rows_insert(
        [
            RecurringPeriod(
                agency=agency,
                schedule=entry.schedule,
                period_index=period.index,
                start_date=period.start,
                end_date=period.end,
                invoice=item.invoice,
            )
            for entry in billed
            for period, item in zip(entry.periods, entry.built, strict=True)
        ]
    )
    now = clock.now()
    for entry in billed:
        schedule = entry.schedule
        schedule.next_period_index = entry.periods[-1].index + 1
        cursor_set(schedule)
        schedule.updated_at = now
    rows_update(
        [entry.schedule for entry in billed],
        ["next_period_index", "next_period_start", "updated_at"],
    )
    if agency.apply_credit_to_retainers:
        _credit_apply(agency, built)
    invoices_send_many(actor=None, written=built)
    return len(built)


def _credit_apply(agency: Agency, built: list[BuiltInvoice]) -> None:
    """Pay the new open invoices with their clients' credit, oldest period first, before
    they are sent (the email states what is left to pay)."""
    issued = [item for item in built if item.invoice.issued_at is not None]
    credit = clients_credit_minor(agency=agency, client_ids={i.invoice.client_id for i in issued})
    for item in sorted(issued, key=lambda item: (item.invoice.issue_date, item.invoice.pk)):
        invoice = item.invoice
        available = credit.get(invoice.client_id, 0)
        amount_minor = min(available, invoice.balance_due_minor)
        if amount_minor <= 0:
            continue
        credit_apply(
            agency=agency,
            actor=None,
            client=invoice.client,
            invoice=invoice,
            amount=from_minor(amount_minor, invoice.currency),
        )
        credit[invoice.client_id] = available - amount_minor
        invoice.refresh_from_db(fields=["status", "amount_paid_minor", "amount_credited_minor"])
