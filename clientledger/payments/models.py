"""Payments, their allocations to invoices and their refunds (DESIGN.md section 4).

Amounts are integers in the currency's minor unit next to the currency. A client's credit is
not stored: it is the unallocated, unrefunded rest of its succeeded payments
(`selectors.client_credit_balance`)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from clientledger.core import clock
from clientledger.core.tenancy import AgencyScoped


class PaymentMethod(models.TextChoices):
    BANK_TRANSFER = "bank_transfer", "Bank transfer"
    CHECK = "check", "Check"
    CASH = "cash", "Cash"
    OTHER = "other", "Other"
    CARD = "card", "Card"


# What staff record by hand; card payments only ever come from Stripe.
MANUAL_METHODS = (
    PaymentMethod.BANK_TRANSFER,
    PaymentMethod.CHECK,
    PaymentMethod.CASH,
    PaymentMethod.OTHER,
)


class PaymentStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    PARTIALLY_REFUNDED = "partially_refunded", "Partially refunded"
    REFUNDED = "refunded", "Refunded"


# The money of a payment in these states reached the client's ledger, so its unallocated
# rest is the client's credit.
CREDITED_STATUSES = (
    PaymentStatus.SUCCEEDED,
    PaymentStatus.PARTIALLY_REFUNDED,
    PaymentStatus.REFUNDED,
)


class Payment(AgencyScoped):
    client = models.ForeignKey("crm.Client", on_delete=models.PROTECT, related_name="payments")
    method = models.CharField(max_length=20, choices=PaymentMethod.choices)
    status = models.CharField(
        max_length=18, choices=PaymentStatus.choices, default=PaymentStatus.PENDING
    )
    amount_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    received_on = models.DateField()
    reference = models.CharField(max_length=200, blank=True)
    notes = models.TextField(blank=True)
    # A retried or double-clicked submission carries the same key and gets the same payment.
    idempotency_key = models.CharField(max_length=200, null=True, blank=True)
    # One payment per Stripe PaymentIntent, whichever of its events arrives first or twice.
    stripe_payment_intent_id = models.CharField(max_length=255, null=True, blank=True, unique=True)
    created_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["-received_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_minor__gt=0), name="payment_amount_positive"),
            models.UniqueConstraint(
                fields=["agency", "idempotency_key"], name="payment_unique_idempotency_key"
            ),
        ]
        indexes = [models.Index(fields=["agency", "client", "received_on"])]

    def __str__(self) -> str:
        return f"Payment #{self.pk}"


class Allocation(AgencyScoped):
    """The part of a payment that pays one invoice."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="allocations")
    invoice = models.ForeignKey(
        "billing.Invoice", on_delete=models.PROTECT, related_name="allocations"
    )
    amount_minor = models.BigIntegerField()
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_minor__gt=0), name="allocation_amount_positive"
            ),
            models.UniqueConstraint(
                fields=["payment", "invoice"], name="allocation_unique_payment_invoice"
            ),
        ]

    def __str__(self) -> str:
        return f"Allocation of payment #{self.payment_id} to invoice #{self.invoice_id}"


class RefundStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class Refund(AgencyScoped):
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    reason = models.TextField()
    status = models.CharField(
        max_length=10, choices=RefundStatus.choices, default=RefundStatus.PENDING
    )
    created_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_minor__gt=0), name="refund_amount_positive")
        ]

    def __str__(self) -> str:
        return f"Refund #{self.pk}"


class StripeAccount(models.Model):
    """An agency's own Stripe keys; an empty field falls back to the STRIPE_* environment."""

    agency = models.OneToOneField(
        "accounts.Agency", on_delete=models.CASCADE, related_name="stripe_account"
    )
    secret_key = models.CharField(max_length=255, blank=True)
    publishable_key = models.CharField(max_length=255, blank=True)
    webhook_secret = models.CharField(max_length=255, blank=True)

    def __str__(self) -> str:
        return f"Stripe account of agency #{self.agency_id}"


class StripeEventStatus(models.TextChoices):
    RECEIVED = "received", "Received"
    PROCESSED = "processed", "Processed"
    FAILED = "failed", "Failed"


class StripeEvent(models.Model):
    """The webhook inbox: every verified event once, with what processing it did."""

    stripe_id = models.CharField(max_length=255, unique=True)
    # Null for events that name no agency of ours in their metadata.
    agency = models.ForeignKey(
        "accounts.Agency", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    type = models.CharField(max_length=100)
    payload = models.JSONField()
    status = models.CharField(
        max_length=10, choices=StripeEventStatus.choices, default=StripeEventStatus.RECEIVED
    )
    error = models.TextField(blank=True)
    received_at = models.DateTimeField(default=clock.now)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"Stripe event {self.stripe_id}"
