from __future__ import annotations

from django.db import models

from clientledger.core import clock
from clientledger.core.tenancy import AgencyQuerySet, AgencyScoped


class LedgerEntryKind(models.TextChoices):
    INVOICE_ISSUED = "invoice_issued", "Invoice issued"
    INVOICE_VOIDED = "invoice_voided", "Invoice voided"
    PAYMENT_SUCCEEDED = "payment_succeeded", "Payment received"
    PAYMENT_REVERSED = "payment_reversed", "Payment reversed"
    CREDIT_NOTE_ISSUED = "credit_note_issued", "Credit note issued"
    CREDIT_APPLIED = "credit_applied", "Credit applied"
    REFUND = "refund", "Refund"
    ADJUSTMENT = "adjustment", "Adjustment"


class LedgerEntry(AgencyScoped):
    """One financial event for a client, append-only.

    A positive amount increases what the client owes (an issued invoice), a negative one
    decreases it (a payment, a credit note). Amounts are integers in the currency's minor
    unit so SQL sums are exact on every database.
    """

    client = models.ForeignKey("crm.Client", on_delete=models.PROTECT, related_name="ledger")
    kind = models.CharField(max_length=24, choices=LedgerEntryKind.choices)
    document_type = models.CharField(max_length=40)
    document_id = models.BigIntegerField()
    document_reference = models.CharField(max_length=64)
    amount_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    occurred_at = models.DateTimeField()
    created_at = models.DateTimeField(default=clock.now)

    objects = AgencyQuerySet.as_manager()

    class Meta:
        ordering = ["occurred_at", "id"]
        verbose_name_plural = "ledger entries"
        indexes = [models.Index(fields=["agency", "client", "occurred_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.document_reference}: {self.amount_minor}"
