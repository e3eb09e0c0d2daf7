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
    """The email outbox: written in the transaction that decides to send, sent after commit."""

    agency = models.ForeignKey(
        "accounts.Agency", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    to = models.JSONField(default=list)
    subject = models.CharField(max_length=255)
    body_text = models.TextField()
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
