"""Reminder policies and their steps, a client's override, an invoice's pause and the log of
every reminder decided: sent once, or skipped with the reason."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from clientledger.core import clock
from clientledger.core.tenancy import AgencyScoped


class ReminderPolicy(AgencyScoped):
    """How and when an agency reminds clients. One policy per agency is its default; a client
    may follow another one or none (`ClientReminderSetting`)."""

    name = models.CharField(max_length=100)
    is_default = models.BooleanField(default=False)
    enabled = models.BooleanField("reminders on", default=True)
    # Reminders go out from this hour of the agency's day (its timezone), on business days
    # (Monday to Friday) unless every day is allowed.
    send_hour = models.PositiveSmallIntegerField(
        default=9, validators=[MinValueValidator(0), MaxValueValidator(23)]
    )
    business_days_only = models.BooleanField("business days only", default=True)
    # The agency's last date the sweep went through for this policy: the next pass looks at
    # step days from then on only (None: never swept, every open document is looked at).
    swept_through = models.DateField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=clock.now)
    updated_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["-is_default", "name", "id"]
        verbose_name_plural = "reminder policies"
        constraints = [
            models.UniqueConstraint(
                fields=["agency"], condition=Q(is_default=True), name="reminderpolicy_one_default"
            ),
            models.UniqueConstraint(fields=["agency", "name"], name="reminderpolicy_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


class ReminderTrigger(models.TextChoices):
    """What a step's day counts from."""

    INVOICE_DUE = "invoice_due", "Invoice due date"
    ESTIMATE_SENT = "estimate_sent", "Estimate sent, not answered"
    ESTIMATE_EXPIRY = "estimate_expiry", "Estimate expiry date"


class ReminderStep(AgencyScoped):
    """One reminder of a policy: `offset_days` after (negative: before) its trigger's date,
    with its own subject and body, in which `{placeholders}` are filled in when it is sent."""

    policy = models.ForeignKey(ReminderPolicy, on_delete=models.CASCADE, related_name="steps")
    trigger = models.CharField(
        max_length=16, choices=ReminderTrigger.choices, default=ReminderTrigger.INVOICE_DUE
    )
    offset_days = models.SmallIntegerField(
        validators=[MinValueValidator(-365), MaxValueValidator(365)]
    )
    enabled = models.BooleanField(default=True)
    subject = models.CharField(max_length=200)
    body = models.TextField(max_length=5000)

    class Meta:
        ordering = ["trigger", "offset_days", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["policy", "trigger", "offset_days"], name="reminderstep_unique_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_trigger_display()} {self.offset_days:+d} days"


class ClientReminderSetting(AgencyScoped):
    """A client's override of the agency's default policy: another policy, or none (no
    reminders at all). Without this row the client follows the default."""

    client = models.OneToOneField(
        "crm.Client", on_delete=models.CASCADE, related_name="reminder_setting"
    )
    policy = models.ForeignKey(
        ReminderPolicy, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(default=clock.now)

    def __str__(self) -> str:
        return f"Reminders of {self.client_id}: {self.policy or 'none'}"


class InvoiceReminderStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"


class InvoiceReminderState(AgencyScoped):
    """Whether an invoice's reminders are paused, and why. Without this row they are active."""

    invoice = models.OneToOneField(
        "billing.Invoice", on_delete=models.CASCADE, related_name="reminder_state"
    )
    status = models.CharField(
        max_length=8, choices=InvoiceReminderStatus.choices, default=InvoiceReminderStatus.ACTIVE
    )
    reason = models.CharField(max_length=300, blank=True)
    changed_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField(default=clock.now)

    def __str__(self) -> str:
        return f"Reminders of invoice {self.invoice_id}: {self.status}"


class ReminderOutcome(models.TextChoices):
    SENT = "sent", "Sent"
    SKIPPED = "skipped", "Skipped"


class SkipReason(models.TextChoices):
    """Why a step that came due sent nothing."""

    SUPERSEDED = "superseded", "A later reminder was due (missed while not running)"
    PAID = "paid", "Paid"
    CREDITED = "credited", "Fully credited"
    VOID = "void", "Void"
    CLOSED = "closed", "No longer open"
    PAUSED = "paused", "Reminders paused"
    DISPUTED = "disputed", "Payment disputed"
    PAYMENT_PENDING = "payment_pending", "Bank payment pending"
    NO_RECIPIENT = "no_recipient", "No email address"
    ANSWERED = "answered", "Answered"


class Reminder(AgencyScoped):
    """A step decided for one document, once: the unique constraints make a second sweep
    (concurrent, or rerun after a crash) unable to send or skip the same step again."""

    step = models.ForeignKey(ReminderStep, on_delete=models.PROTECT, related_name="reminders")
    client = models.ForeignKey("crm.Client", on_delete=models.CASCADE, related_name="+")
    invoice = models.ForeignKey(
        "billing.Invoice", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    estimate = models.ForeignKey(
        "billing.Estimate", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    outcome = models.CharField(max_length=8, choices=ReminderOutcome.choices)
    skip_reason = models.CharField(max_length=16, choices=SkipReason.choices, blank=True)
    # The day the step was due (its trigger's date plus its offset, as it was then).
    due_on = models.DateField()
    # What the email said: the balance at send time, and to whom it went.
    balance_minor = models.BigIntegerField(null=True, blank=True)
    currency = models.CharField(max_length=3)
    recipients = models.JSONField(default=list, blank=True)
    email = models.ForeignKey(
        "notifications.EmailMessage",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["due_on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["invoice", "step"],
                condition=Q(invoice__isnull=False),
                name="reminder_once_per_invoice_step",
            ),
            models.UniqueConstraint(
                fields=["estimate", "step"],
                condition=Q(estimate__isnull=False),
                name="reminder_once_per_estimate_step",
            ),
            models.CheckConstraint(
                condition=Q(estimate__isnull=True, invoice__isnull=False)
                | Q(estimate__isnull=False, invoice__isnull=True),
                name="reminder_one_document",
            ),
            models.CheckConstraint(
                condition=Q(outcome="sent", skip_reason="")
                | Q(outcome="skipped") & ~Q(skip_reason=""),
                name="reminder_skip_has_reason",
            ),
        ]
        indexes = [models.Index(fields=["agency", "client", "-decided_at"])]

    def __str__(self) -> str:
        return f"Reminder {self.step} of {self.invoice_id or self.estimate_id}: {self.outcome}"


class StatementDelivery(AgencyScoped):
    """A statement of account emailed to a client: the period it covers, so the outbox
    renders the PDF it attaches (`attachment_renderer_register`) for that period."""

    client = models.ForeignKey("crm.Client", on_delete=models.CASCADE, related_name="+")
    start = models.DateField()
    end = models.DateField()
    recipients = models.JSONField(default=list)
    sent_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "statement deliveries"

    def __str__(self) -> str:
        return f"Statement {self.start} to {self.end}"
