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
    US_BANK_ACCOUNT = "us_bank_account", "US bank account (ACH)"


# What staff record by hand; card and ACH payments only ever come from Stripe.
MANUAL_METHODS = (
    PaymentMethod.BANK_TRANSFER,
    PaymentMethod.CHECK,
    PaymentMethod.CASH,
    PaymentMethod.OTHER,
)
STRIPE_METHODS = (PaymentMethod.CARD, PaymentMethod.US_BANK_ACCOUNT)


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
    # The invoice a Stripe payment was made for: a pending ACH payment is not allocated yet,
    # but the invoice shows it as "payment pending".
    invoice = models.ForeignKey(
        "billing.Invoice",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="stripe_payments",
    )
    # Stripe's fee and what reaches the agency, once Stripe's balance transaction exists.
    fee_minor = models.BigIntegerField(null=True, blank=True)
    net_minor = models.BigIntegerField(null=True, blank=True)
    failure_message = models.TextField(blank=True)
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
        indexes = [
            models.Index(fields=["agency", "client", "received_on"]),
            # The dashboard's ACH payments still pending: a few rows of a large table.
            models.Index(
                fields=["agency", "currency"],
                name="payment_pending_idx",
                condition=Q(status="pending"),
            ),
        ]

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


class AllocationChange(AgencyScoped):
    """A change of an allocation after it was made: grown by more of its payment's credit
    (`amount_minor` > 0), or taken back by a refund or a lost dispute (< 0; taken back whole,
    the allocation is deleted). An allocation row holds its amount now; with its changes, what
    it had paid at any moment: until `created_at` the allocation made at `allocated_at` had
    paid `amount_minor` less. So what an invoice owed on a past day stays what it was."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="+")
    invoice = models.ForeignKey("billing.Invoice", on_delete=models.PROTECT, related_name="+")
    allocated_at = models.DateTimeField()
    amount_minor = models.BigIntegerField()
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["invoice", "created_at"], name="allocation_change_invoice_idx")
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(amount_minor=0), name="allocation_change_not_zero"),
        ]

    def __str__(self) -> str:
        return f"Change of payment #{self.payment_id}'s allocation to invoice #{self.invoice_id}"


class RefundStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


# A refund in these states holds its amount: it is not refundable again, nor client credit.
HOLDING_REFUND_STATUSES = (RefundStatus.PENDING, RefundStatus.SUCCEEDED)


class DisputeStatus(models.TextChoices):
    """Stripe's dispute statuses, every one its API describes."""

    WARNING_NEEDS_RESPONSE = "warning_needs_response", "Inquiry: needs response"
    WARNING_UNDER_REVIEW = "warning_under_review", "Inquiry: under review"
    WARNING_CLOSED = "warning_closed", "Inquiry closed"
    NEEDS_RESPONSE = "needs_response", "Needs response"
    UNDER_REVIEW = "under_review", "Under review"
    # A lost dispute appealed: the money stays taken back until the appeal is won.
    APPEAL_NEEDS_RESPONSE = "appeal_needs_response", "Appeal: needs response"
    APPEAL_UNDER_REVIEW = "appeal_under_review", "Appeal: under review"
    WON = "won", "Won"
    LOST = "lost", "Lost"
    PREVENTED = "prevented", "Prevented"


# A dispute in these states flags its invoice: no reminders, staff must answer.
OPEN_DISPUTE_STATUSES = (
    DisputeStatus.WARNING_NEEDS_RESPONSE,
    DisputeStatus.WARNING_UNDER_REVIEW,
    DisputeStatus.NEEDS_RESPONSE,
    DisputeStatus.UNDER_REVIEW,
    DisputeStatus.APPEAL_NEEDS_RESPONSE,
    DisputeStatus.APPEAL_UNDER_REVIEW,
)


class Dispute(AgencyScoped):
    """A chargeback (or an ACH return) Stripe reports on a payment."""

    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="disputes")
    invoice = models.ForeignKey(
        "billing.Invoice", null=True, blank=True, on_delete=models.PROTECT, related_name="disputes"
    )
    stripe_dispute_id = models.CharField(max_length=255, unique=True)
    amount_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    reason = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=30, choices=DisputeStatus.choices)
    created_at = models.DateTimeField(default=clock.now)
    updated_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Dispute #{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_DISPUTE_STATUSES


class Refund(AgencyScoped):
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount_minor = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    reason = models.TextField()
    status = models.CharField(
        max_length=10, choices=RefundStatus.choices, default=RefundStatus.PENDING
    )
    # A refund through Stripe is pending until Stripe confirms it; one row per Stripe refund.
    via_stripe = models.BooleanField(default=False)
    stripe_refund_id = models.CharField(max_length=255, null=True, blank=True, unique=True)
    # The money a lost dispute took back is recorded as a refund of the disputed payment.
    dispute = models.OneToOneField(
        Dispute, null=True, blank=True, on_delete=models.PROTECT, related_name="reversal"
    )
    # A refund of a credit note's credit: the credit it spent on the credit note's invoice,
    # given back if the refund fails.
    credit_application = models.OneToOneField(
        "billing.CreditApplication",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="refund",
    )
    # {invoice id: minor units} the refund took from the payment's allocations: a refund that
    # fails gives it back to the same invoices.
    taken_from = models.JSONField(default=dict, blank=True)
    failure_message = models.TextField(blank=True)
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
    # Clients may pay less than the balance online (an instalment) when the agency allows it.
    allow_partial_payments = models.BooleanField(default=False)
    updated_at = models.DateTimeField(default=clock.now)

    def __str__(self) -> str:
        return f"Stripe account of agency #{self.agency_id}"


class StripeRequestStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class StripeRequest(models.Model):
    """The outbox of calls to Stripe decided in a transaction (a refund), made after commit."""

    agency = models.ForeignKey("accounts.Agency", on_delete=models.CASCADE, related_name="+")
    refund = models.OneToOneField(Refund, on_delete=models.CASCADE, related_name="stripe_request")
    status = models.CharField(
        max_length=10, choices=StripeRequestStatus.choices, default=StripeRequestStatus.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=clock.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=clock.now)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        # The sweep reads queued and sending requests only, however many are done, in id
        # order (`core.outbox.due_chunks`).
        indexes = [
            models.Index(
                fields=["id"],
                name="stripe_request_due_idx",
                condition=Q(status__in=["queued", "sending"]),
            )
        ]

    def __str__(self) -> str:
        return f"Stripe request for refund #{self.refund_id}"


class StripeEventStatus(models.TextChoices):
    RECEIVED = "received", "Received"
    PROCESSED = "processed", "Processed"
    FAILED = "failed", "Failed"
    # About a payment ClientLedger did not create (the agency's web shop, a Payment Link).
    IGNORED = "ignored", "Ignored"


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
    # Why processing failed, or why the event was ignored.
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    received_at = models.DateTimeField(default=clock.now)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["agency", "status", "received_at"])]

    def __str__(self) -> str:
        return f"Stripe event {self.stripe_id}"
