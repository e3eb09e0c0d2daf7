"""What every schedule writer shares: the lock, the input rules, the billing run's cursor."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from clientledger.accounts.models import Agency
from clientledger.billing.services.sending import MAX_RECIPIENTS
from clientledger.core.dates import dates_check
from clientledger.core.error_codes import ErrorCode
from clientledger.crm.models import Client, Deal
from clientledger.lines.data import LineData, LinesInvalid
from clientledger.lines.models import PricedLine
from clientledger.lines.validation import lines_validate
from clientledger.recurring.calculations import period_at, schedule_timing
from clientledger.recurring.models import (
    MAX_INTERVAL_COUNT,
    IntervalUnit,
    PeriodAction,
    RecurringSchedule,
    ScheduleEnd,
    ScheduleStatus,
)


def schedule_lock(schedule: RecurringSchedule) -> RecurringSchedule:
    """The schedule's row only, with its agency and client read alongside."""
    return (
        RecurringSchedule.objects.select_for_update(of=("self",))
        .select_related("agency", "client")
        .get(pk=schedule.pk, agency_id=schedule.agency_id)
    )


def not_ended_require(schedule: RecurringSchedule) -> None:
    if schedule.status == ScheduleStatus.ENDED:
        raise ValidationError(
            "This schedule has ended and can no longer be changed.", code=ErrorCode.ENDED
        )


def buyer_check(*, agency: Agency, client: Client, deal: Deal | None, currency: str | None) -> None:
    """The client is the agency's, the deal the client's, the currency the client's."""
    if client.agency_id != agency.pk:
        raise ValidationError({"client": "Choose a client of your agency."})
    if deal is not None and (deal.agency_id != agency.pk or deal.client_id != client.pk):
        raise ValidationError({"deal": "Choose a deal of this client."})
    if currency is not None and currency != client.currency:
        raise ValidationError(
            {
                "currency": f"{client.name} is billed in {client.currency}; a schedule for "
                f"this client bills in {client.currency} too, not {currency}."
            }
        )


def schedule_lines_check(
    *, agency: Agency, client: Client, lines: list[LineData], existing: Iterable[PricedLine]
) -> None:
    """At least one valid line within the posting bound. Each line's price is in the
    client's currency, as on the deal and its invoices: a catalog service sold in another
    currency names the work, its own price never applies."""
    if not lines:
        raise LinesInvalid([], ["Add at least one line: a schedule bills its lines."])
    lines_validate(agency=agency, client=client, lines=lines, existing=existing)


def timing_check(schedule: RecurringSchedule) -> None:
    """The frequency, dates and end of a schedule about to be saved, each error on its field."""
    errors: dict[str, str] = {}
    if schedule.interval_unit not in IntervalUnit.values:
        errors["interval_unit"] = "Choose days, weeks or months."
    elif schedule.interval_count is None or schedule.interval_count < 1:
        errors["interval_count"] = "The interval must be at least 1."
    elif schedule.interval_count > MAX_INTERVAL_COUNT[schedule.interval_unit]:
        limit = MAX_INTERVAL_COUNT[schedule.interval_unit]
        errors["interval_count"] = f"Enter at most {limit} {schedule.interval_unit}s."
    if schedule.on_period not in PeriodAction.values:
        errors["on_period"] = "Choose a draft, issue, or issue and send."
    if schedule.end_kind == ScheduleEnd.ON_DATE:
        if schedule.end_date is None:
            errors["end_date"] = "Enter the date the schedule ends."
        elif schedule.start_date is not None and schedule.end_date < schedule.start_date:
            errors["end_date"] = "The end date must be on or after the start date."
    elif schedule.end_kind == ScheduleEnd.AFTER_COUNT:
        if schedule.end_after_count is None or schedule.end_after_count < 1:
            errors["end_after_count"] = "Enter a number of invoices of at least 1."
        elif schedule.end_after_count < schedule.next_period_index:
            billed = schedule.next_period_index
            errors["end_after_count"] = (
                f"This schedule has billed {billed} periods already: enter {billed} or more."
            )
    elif schedule.end_kind != ScheduleEnd.NEVER:
        errors["end_kind"] = "Choose never, on a date, or after a number of invoices."
    if errors:
        raise ValidationError(errors)
    dates_check(start_date=schedule.start_date, end_date=schedule.end_date)


def end_fields_normalize(schedule: RecurringSchedule) -> None:
    """Only the end kind's own value is kept: a date for ON_DATE, a count for AFTER_COUNT."""
    if schedule.end_kind != ScheduleEnd.ON_DATE:
        schedule.end_date = None
    if schedule.end_kind != ScheduleEnd.AFTER_COUNT:
        schedule.end_after_count = None


def recipients_clean(recipients: Iterable[str]) -> list[str]:
    """Valid, distinct, lower-case addresses; none means the client's billing addresses."""
    cleaned: list[str] = []
    for address in recipients:
        address = address.strip().lower()
        if not address:
            continue
        try:
            validate_email(address)
        except ValidationError as exc:
            raise ValidationError(
                {"recipients": f"“{address}” is not a valid email address."}
            ) from exc
        if address not in cleaned:
            cleaned.append(address)
    if len(cleaned) > MAX_RECIPIENTS:
        raise ValidationError({"recipients": f"Send to at most {MAX_RECIPIENTS} people at once."})
    return cleaned


def cursor_set(schedule: RecurringSchedule) -> None:
    """Point the billing run's cursor at the start of the schedule's next unbilled period
    (None when it has none left or has ended)."""
    if schedule.status == ScheduleStatus.ENDED:
        schedule.next_period_start = None
        return
    period = period_at(schedule_timing(schedule), schedule.next_period_index)
    schedule.next_period_start = period.start if period is not None else None
