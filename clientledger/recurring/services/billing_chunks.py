"""Billing one chunk of due schedules: lock them, build every due period's invoice in memory,
write them all in multi-row inserts, apply client credit; or record why a schedule failed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import groupby
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F

from clientledger.accounts.models import Agency
from clientledger.billing.services.batches import (
    BuiltInvoice,
    InvoiceOrder,
    invoice_build,
    invoices_send_many,
    invoices_write,
)
from clientledger.billing.services.common import PriceMemo
from clientledger.billing.services.snapshots import billing_contacts, seller_snapshot
from clientledger.catalog.models import Service, TaxRate
from clientledger.core import clock
from clientledger.core.bulk import rows_update, rows_write
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


def chunk_counts(**counts: int) -> dict[str, int]:
    return {"schedules": 0, "due": 0, "created": 0, "failed": 0, "skipped": 0, **counts}


def failure_reason(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return f"{type(error).__name__}: {error}"


def failure_record(schedule_id: int, reason: str, run: BillingRun | None) -> dict[str, int]:
    with transaction.atomic():
        schedule = RecurringSchedule.objects.filter(pk=schedule_id).first()
        if schedule is None:
            return chunk_counts(schedules=1, skipped=1)
        _failure(schedule, reason, run).save(force_insert=True)
        if run is not None:
            BillingRun.objects.filter(pk=run.pk).update(schedules_failed=F("schedules_failed") + 1)
    return chunk_counts(schedules=1, failed=1)


# The first invoice built from each list of lines (`_schedule_lines` shares one between
# schedules billing the same lines) for each agency, currency and tax exemption: what
# `InvoiceOrder.priced_like` copies.
_PricedLike = dict[tuple[int, int, str, bool], BuiltInvoice]


@dataclass(frozen=True)
class _Batch:
    """What the invoices built for one agency in a chunk share: the amounts priced so far,
    the moment they are created at and the agency's seller snapshot (the same for all)."""

    prices: PriceMemo
    priced: _PricedLike
    at: dt.datetime
    seller: dict[str, Any]


@dataclass
class _Billed:
    """A schedule's due periods and their built invoices, while a chunk is billed."""

    schedule: RecurringSchedule
    periods: list[Period]
    built: list[BuiltInvoice]


def chunk_bill(
    schedule_ids: Sequence[int], as_of: dt.datetime, run: BillingRun | None
) -> dict[str, int]:
    schedules = list(
        RecurringSchedule.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(pk__in=schedule_ids, status=ScheduleStatus.ACTIVE, next_period_start__isnull=False)
        .select_related("client", "deal")
        .order_by("agency_id", "pk")
    )
    # Each agency's row read once (a chunk of the run holds one agency's schedules), not
    # joined to every schedule and made into an instance per schedule.
    agencies = Agency.objects.in_bulk({schedule.agency_id for schedule in schedules})
    for schedule in schedules:
        schedule.agency = schedule.client.agency = agencies[schedule.agency_id]
    lines = _schedule_lines(schedules)
    contacts = billing_contacts(schedule.client_id for schedule in schedules)
    counts = chunk_counts(schedules=len(schedule_ids), skipped=len(schedule_ids) - len(schedules))
    failures: list[BillingRunFailure] = []
    prices: PriceMemo = {}
    priced: _PricedLike = {}
    # The chunk's invoices are written in one transaction: created at one moment.
    now = clock.now()
    for agency_id, of_agency in groupby(schedules, key=lambda schedule: schedule.agency_id):
        billed: list[_Billed] = []
        batch = _Batch(
            prices=prices, priced=priced, at=now, seller=seller_snapshot(agencies[agency_id])
        )
        for schedule in of_agency:
            today = clock.agency_today(schedule.agency, as_of=as_of)
            timing = schedule_timing(schedule)
            periods = list(periods_due(timing, first_index=schedule.next_period_index, today=today))
            counts["due"] += len(periods)
            if not periods:
                continue
            try:
                built = _schedule_build(
                    schedule,
                    periods,
                    lines.get(schedule.pk, []),
                    contacts,
                    batch,
                )
            except ValidationError as error:
                failures.append(_failure(schedule, failure_reason(error), run))
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


def _schedule_lines(schedules: list[RecurringSchedule]) -> dict[int, list[LineData]]:
    """Each schedule's lines, as the data its invoices are made of (`LineData.from_line` of
    each stored line), read as values: no model instance per line."""
    stored = list(
        RecurringScheduleLine.objects.filter(schedule_id__in=[s.pk for s in schedules])
        .order_by("schedule_id", "position", "id")
        .values_list("schedule_id", *_LINE_VALUES)
    )
    # Each service and tax rate read once for the chunk, not once per line that uses it.
    taxes = TaxRate.objects.in_bulk(
        {tax_id for row in stored for tax_id in (row[-2], row[-1]) if tax_id}
    )
    services = Service.objects.in_bulk({row[5] for row in stored if row[5]})
    lines: dict[int, list[LineData]] = {}
    # Retainers bill the same few lines to many clients: lines stored alike share one
    # LineData (nothing changes them while the chunk is billed).
    alike: dict[tuple[object, ...], LineData] = {}
    for schedule_id, *values in stored:
        key = tuple(values)
        data = alike.get(key)
        if data is None:
            fields = dict(zip(_LINE_VALUES, values, strict=True))
            tax_ids = (fields.pop("tax_1_id"), fields.pop("tax_2_id"))
            service_id = fields.pop("service_id")
            data = alike[key] = LineData(
                **fields,
                service=services[service_id] if service_id else None,
                taxes=[taxes[tax_id] for tax_id in tax_ids if tax_id],
            )
        lines.setdefault(schedule_id, []).append(data)
    # Schedules billing the same lines share one list: their invoices are priced once
    # (`InvoiceOrder.priced_like`).
    shared: dict[tuple[int, ...], list[LineData]] = {}
    return {
        schedule_id: shared.setdefault(tuple(map(id, each)), each)
        for schedule_id, each in lines.items()
    }


# What `LineData.from_line` reads of a stored line, as columns (the taxes and service last).
_LINE_VALUES = (
    "description",
    "quantity",
    "unit_price",
    "unit",
    "service_id",
    "discount_kind",
    "discount_value",
    "recurrence",
    "tax_1_id",
    "tax_2_id",
)


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
    lines: list[LineData],
    contacts: dict[int, Contact],
    batch: _Batch,
) -> list[BuiltInvoice]:
    """The invoices of a schedule's due periods, built and priced (no query; lines priced
    alike for another schedule of the chunk are not priced again); refused as a whole, as
    the schedule's cursor moves past all of them or none."""
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
    built: list[BuiltInvoice] = []
    client = schedule.client
    alike = (id(lines), schedule.agency_id, client.currency, client.tax_exempt)
    for period in periods:
        due_on = period.start + terms if issue else None
        order = InvoiceOrder(
            client=schedule.client,
            deal=schedule.deal,
            lines=lines,
            notes=schedule.notes,
            terms=schedule.terms,
            issue=issue,
            issue_date=period.start if issue else None,
            due_date=due_on,
            send_to=recipients,
            lines_checked=True,
            priced_like=built[0] if built else batch.priced.get(alike),
        )
        built.append(
            invoice_build(
                agency=schedule.agency,
                actor=None,
                order=order,
                billing_contact=contacts.get(schedule.client_id),
                prices=batch.prices,
                at=batch.at,
                seller=batch.seller,
            )
        )
    batch.priced.setdefault(alike, built[0])
    return built


def _agency_write(billed: list[_Billed]) -> int:
    """Write one agency's built invoices, their periods and the schedules' new cursors;
    apply client credit when the agency says so; send. Returns the invoices written."""
    if not billed:
        return 0
    agency = billed[0].schedule.agency
    built = [item for entry in billed for item in entry.built]
    invoices_write(agency=agency, actor=None, built=built, sending=True)
    rows_write(
        RecurringPeriod,
        ("agency_id", "schedule_id", "period_index", "start_date", "end_date", "invoice_id"),
        [
            (agency.pk, entry.schedule.pk, period.index, period.start, period.end, item.invoice.pk)
            for entry in billed
            for period, item in zip(entry.periods, entry.built, strict=True)
        ],
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
