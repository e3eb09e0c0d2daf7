"""The audit trail's rows."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class AuditEvent(models.Model):
    """An append-only record of who did what to which record, written by every service."""

    agency = models.ForeignKey("accounts.Agency", on_delete=models.CASCADE, related_name="+")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    verb = models.CharField(max_length=64)
    subject_type = models.CharField(max_length=64)
    subject_id = models.BigIntegerField()
    subject_repr = models.CharField(max_length=255)
    # The client a record belongs to, so the client timeline is one indexed query.
    client = models.ForeignKey(
        "crm.Client", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    data = models.JSONField(default=dict, blank=True)
    at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["agency", "subject_type", "subject_id", "-at"]),
            models.Index(fields=["agency", "client", "-at"]),
        ]

    def __str__(self) -> str:
        return f"{self.verb} {self.subject_repr}"
