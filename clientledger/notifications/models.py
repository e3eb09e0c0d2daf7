"""The email outbox's rows and their attachments."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from clientledger.core import clock


class EmailStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class EmailMessage(models.Model):
    """The email outbox: written in the transaction that decides to send, rendered and sent
    after commit."""

    agency = models.ForeignKey(
        "accounts.Agency", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    to = models.JSONField(default=list)
    subject = models.CharField(max_length=255)
    # What the worker renders when it delivers: the template's name and its context
    # (`email_context`). Rows queued before rendering moved to delivery have none: their
    # bodies were rendered when queued. A delivered message keeps the bodies it was sent with.
    template = models.CharField(max_length=60, blank=True)
    context = models.JSONField(default=dict, blank=True)
    body_text = models.TextField(blank=True)
    body_html = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=EmailStatus.choices, default="queued")
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=clock.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    # The PDF of this document ("billing.invoice" / "billing.estimate") is attached when sent.
    attach_document_type = models.CharField(max_length=40, blank=True)
    attach_document_id = models.BigIntegerField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="email_due_idx",
                condition=Q(status__in=["queued", "sending"]),
            )
        ]

    def __str__(self) -> str:
        return f"{self.subject} → {', '.join(self.to)}"
