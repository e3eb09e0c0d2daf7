"""Recurring retainer schedules: what a client is billed every period, and the periods billed.

A schedule's period k starts at its anchor plus k intervals (`calculations.py`), whatever day
the billing run happens to execute. Each billed period is one `RecurringPeriod` row, unique
per (schedule, period index) and written in the same transaction as its invoice: billing the
same period twice is refused by the database itself.
"""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

from clientledger.accounts.models import PAYMENT_TERMS_VALIDATORS, validate_currency
from clientledger.core import clock
from clientledger.core.tenancy import AgencyScoped
from clientledger.lines.models import PricedLine


class IntervalUnit(models.TextChoices):
    DAY = "day", "Day"
    WEEK = "week", "Week"
    MONTH = "month", "Month"


# Every 1 to 366 days, 1 to 104 weeks, 1 to 120 months: longer is a typo, not a retainer.
MAX_INTERVAL_COUNT: dict[str, int] = {
    IntervalUnit.DAY: 366,
    IntervalUnit.WEEK: 104,
    IntervalUnit.MONTH: 120,
}


class ScheduleStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"
    ENDED = "ended", "Ended"


class ScheduleEnd(models.TextChoices):
    NEVER = "never", "Never"
    ON_DATE = "on_date", "On a date"
    AFTER_COUNT = "after_count", "After a number of invoices"


class PeriodAction(models.TextChoices):
    """What the billing run does with each period's invoice."""

    DRAFT = "draft", "Create a draft for review"
    ISSUE = "issue", "Issue the invoice"
    ISSUE_AND_SEND = "issue_and_send", "Issue and email the invoice"


class RecurringSchedule(AgencyScoped):
    client = models.ForeignKey("crm.Client", on_delete=models.PROTECT, related_name="+")
    deal = models.ForeignKey(
        "crm.Deal", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Always the client's currency (checked by the services): a client's money has one currency.
    currency = models.CharField(max_length=3, validators=[validate_currency])
    name = models.CharField(max_length=200)
    status = models.CharField(
        max_length=10, choices=ScheduleStatus.choices, default=ScheduleStatus.ACTIVE
    )
    # Frequency: every `interval_count` `interval_unit`s (monthly is 1 month, quarterly 3
    # months, yearly 12 months).
    interval_unit = models.CharField(
        max_length=5, choices=IntervalUnit.choices, default=IntervalUnit.MONTH
    )
    interval_count = models.PositiveSmallIntegerField(
        default=1, validators=[MinValueValidator(1), MaxValueValidator(366)]
    )
    # The first day billed; the anchor of every period from `anchor_period_index` on. A change
    # of frequency or anchor re-anchors at the first unbilled period, so periods already billed
    # keep their dates (they are stored on `RecurringPeriod`) and the numbering continues.
    start_date = models.DateField()
    anchor_period_index = models.PositiveIntegerField(default=0)
    end_kind = models.CharField(
        max_length=11, choices=ScheduleEnd.choices, default=ScheduleEnd.NEVER
    )
    # With ON_DATE: no period starts after this day.
    end_date = models.DateField(null=True, blank=True)
    # With AFTER_COUNT: periods 0 to N-1 are billed, then the schedule ends.
    end_after_count = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1)]
    )
    on_period = models.CharField(
        max_length=14, choices=PeriodAction.choices, default=PeriodAction.DRAFT
    )
    payment_terms_days = models.PositiveSmallIntegerField(
        "payment terms (days)",
        null=True,
        blank=True,
        validators=PAYMENT_TERMS_VALIDATORS,
        help_text="Leave empty to use the client's terms.",
    )
    notes = models.TextField("invoice notes", blank=True)
    terms = models.TextField("invoice terms", blank=True)
    # Email addresses the invoice goes to; empty means the client's billing addresses.
    recipients = models.JSONField(default=list, blank=True)
    # The billing run's cursor: the first period not billed yet and the day it starts (None
    # once the schedule has no period left). Kept in the transaction that writes the period
    # rows; it finds due schedules with one indexed query, while the unique constraint on
    # `RecurringPeriod` is what guarantees one invoice per period.
    next_period_index = models.PositiveIntegerField(default=0)
    next_period_start = models.DateField(null=True, blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=clock.now)
    updated_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(interval_count__gte=1),
                name="recurringschedule_interval_positive",
                violation_error_message="The interval must be at least 1.",
            ),
            models.CheckConstraint(
                condition=Q(end_kind="never", end_date__isnull=True, end_after_count__isnull=True)
                | Q(
                    end_kind="on_date",
                    end_date__isnull=False,
                    end_date__gte=F("start_date"),
                    end_after_count__isnull=True,
                )
                | Q(end_kind="after_count", end_date__isnull=True, end_after_count__gte=1),
                name="recurringschedule_end_consistent",
                violation_error_message="The end must be never, a date on or after the start, "
                "or a number of invoices of at least 1.",
            ),
            models.CheckConstraint(
                condition=Q(anchor_period_index__lte=F("next_period_index")),
                name="recurringschedule_anchor_not_ahead",
                violation_error_message="The anchor cannot be after the next period.",
            ),
        ]
        indexes = [
            models.Index(fields=["agency", "name", "id"]),
            models.Index(fields=["agency", "client", "name"]),
            models.Index(fields=["agency", "deal"]),
            # The billing run: active schedules whose next period has started.
            models.Index(
                fields=["next_period_start", "id"],
                name="recurring_due_idx",
                condition=Q(status="active"),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def audit_client_id(self) -> int | None:
        """The client whose timeline shows a change of this schedule (`core.services`)."""
        return self.client_id


class RecurringScheduleLine(PricedLine):
    """A line billed every period; a change applies from the next period billed."""

    schedule = models.ForeignKey(RecurringSchedule, on_delete=models.CASCADE, related_name="lines")

    class Meta(PricedLine.Meta):
        pass


class RecurringPeriod(AgencyScoped):
    """One billed period of a schedule and the invoice made for it.

    Written in the transaction that creates the invoice; the unique constraint on (schedule,
    period_index) makes a second invoice for the same period impossible, whatever runs twice.
    A draft invoice deleted in review leaves the period billed (`invoice` empty): staff decided
    not to bill it, and the run does not make it again.
    """

    schedule = models.ForeignKey(
        RecurringSchedule, on_delete=models.PROTECT, related_name="periods"
    )
    period_index = models.PositiveIntegerField()
    start_date = models.DateField()
    end_date = models.DateField()
    invoice = models.OneToOneField(
        "billing.Invoice",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="recurring_period",
    )
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["schedule", "period_index"]
        constraints = [
            models.UniqueConstraint(
                fields=["schedule", "period_index"], name="recurringperiod_one_per_index"
            ),
            models.CheckConstraint(
                condition=Q(end_date__gte=F("start_date")),
                name="recurringperiod_end_not_before_start",
                violation_error_message="A period cannot end before it starts.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.schedule} #{self.period_index + 1} ({self.start_date} to {self.end_date})"


class BillingRun(models.Model):
    """One execution of the billing run (`services.billing_run`), for one agency or all:
    what it found due, made and could not make, and when it started and finished (never
    finished: it was killed, and the next run picks up what it left)."""

    agency = models.ForeignKey(
        "accounts.Agency", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    as_of = models.DateTimeField()
    started_at = models.DateTimeField(default=clock.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    periods_due = models.PositiveIntegerField(default=0)
    invoices_created = models.PositiveIntegerField(default=0)
    schedules_failed = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"Billing run of {self.as_of:%Y-%m-%d %H:%M}"


class BillingRunFailure(AgencyScoped):
    """A schedule the run could not bill, and why (e.g. no billing email to send to): its
    periods stay due, and the next run tries again."""

    # Empty when a chunk was billed outside a recorded run.
    run = models.ForeignKey(
        BillingRun, null=True, blank=True, on_delete=models.CASCADE, related_name="failures"
    )
    schedule = models.ForeignKey(RecurringSchedule, on_delete=models.CASCADE, related_name="+")
    period_index = models.PositiveIntegerField()
    reason = models.TextField()
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["agency", "schedule", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.schedule} #{self.period_index + 1}: {self.reason}"
