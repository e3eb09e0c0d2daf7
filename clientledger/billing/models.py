"""Estimates, invoices, their lines, portal links, number counters and the client ledger."""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.db.models import F, Q

from clientledger.core import clock
from clientledger.core.tenancy import AgencyScoped
from clientledger.lines.models import PricedLine


class LedgerEntryKind(models.TextChoices):
    INVOICE_ISSUED = "invoice_issued", "Invoice issued"
    INVOICE_VOIDED = "invoice_voided", "Invoice voided"
    PAYMENT_SUCCEEDED = "payment_succeeded", "Payment received"
    PAYMENT_REVERSED = "payment_reversed", "Payment reversed"
    CREDIT_NOTE_ISSUED = "credit_note_issued", "Credit note issued"
    CREDIT_APPLIED = "credit_applied", "Credit applied"
    REFUND = "refund", "Refund"
    REFUND_FAILED = "refund_failed", "Refund failed"
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

    class Meta:
        ordering = ["occurred_at", "id"]
        verbose_name_plural = "ledger entries"
        indexes = [models.Index(fields=["agency", "client", "occurred_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.document_reference}: {self.amount_minor}"


class LedgerDay(AgencyScoped):
    """The sum of one kind of ledger entry posted on one day (the agency's date of
    `occurred_at`) in one currency: kept in the transaction of each entry, so the revenue and
    credit-sales trends read a few hundred rows, never the ledger itself."""

    currency = models.CharField(max_length=3)
    day = models.DateField()
    kind = models.CharField(max_length=24, choices=LedgerEntryKind.choices)
    amount_minor = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "day", "currency", "kind"], name="ledgerday_unique_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.kind} {self.currency}: {self.amount_minor}"


class OwedDay(AgencyScoped):
    """How what the issued invoices owe moved on one day (the agency's date of the move), per
    currency and due date: issued (+ total), paid or credited (- amount), refunded or released
    (+ amount), voided (- total); how many invoices opened (+1) or stopped being open (-1);
    and what payments' allocations paid on them (+) or gave back (-), the part of the money
    collected that is not the clients' credit.

    Kept in the transaction of each move, so the sum of the rows up to a day is what the
    invoices owed at its end, by due date (the aging of any date, the receivables of DSO):
    a few thousand rows read, never the invoices."""

    currency = models.CharField(max_length=3)
    day = models.DateField()
    due_date = models.DateField()
    owed_minor = models.BigIntegerField(default=0)
    open_count = models.BigIntegerField(default=0)
    paid_minor = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "day", "currency", "due_date"], name="owedday_unique_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.currency} due {self.due_date}: {self.owed_minor}"


class OverdueAsOf(models.Model):
    """The date the agency's clients' and deals' `owed_overdue_minor` are valid for: what
    their open invoices due before it owe. Each balance move of an invoice due before it
    moves them; when the agency's day turns, `rollups.overdue_advance` adds the invoices
    that came due since and moves the date. No row: nothing counted overdue yet."""

    agency = models.OneToOneField(
        "accounts.Agency", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    as_of = models.DateField()

    def __str__(self) -> str:
        return f"overdue as of {self.as_of}"


class DocumentSeries(models.TextChoices):
    ESTIMATE = "estimate", "Estimate"
    INVOICE = "invoice", "Invoice"
    CREDIT_NOTE = "credit_note", "Credit note"


class DocumentCounter(AgencyScoped):
    """The last number handed out in one series and period, locked while a number is taken."""

    series = models.CharField(max_length=12, choices=DocumentSeries.choices)
    # "" for formats without a date, "2026" with {YYYY}/{YY}, "2026-11" with {MM}.
    period = models.CharField(max_length=7, blank=True)
    last_value = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "series", "period"], name="documentcounter_unique_period"
            )
        ]

    def __str__(self) -> str:
        return f"{self.series} {self.period}: {self.last_value}"


class EstimateStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SENT = "sent", "Sent"
    APPROVED = "approved", "Approved"
    DECLINED = "declined", "Declined"
    EXPIRED = "expired", "Expired"
    CONVERTED = "converted", "Converted"


class InvoiceStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    OPEN = "open", "Open"
    PAID = "paid", "Paid"
    VOID = "void", "Void"
    UNCOLLECTIBLE = "uncollectible", "Uncollectible"


class CreditNoteStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ISSUED = "issued", "Issued"


class CreditSettlement(models.TextChoices):
    """What an issued credit note's credit is for; changeable while it is unspent."""

    APPLY = "apply", "Reduce the invoice's balance"
    KEEP = "keep", "Keep as client credit"
    REFUND = "refund", "Refund to the client"


class BillingDocument(AgencyScoped):
    """What estimates, invoices and credit notes share: buyer, deal, currency, texts and
    frozen totals."""

    status: str  # each document declares its own lifecycle field

    client = models.ForeignKey("crm.Client", on_delete=models.PROTECT, related_name="+")
    deal = models.ForeignKey(
        "crm.Deal", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    number = models.CharField(max_length=64, blank=True)
    currency = models.CharField(max_length=3)
    issue_date = models.DateField(null=True, blank=True)
    notes = models.TextField(blank=True)
    terms = models.TextField(blank=True)
    # Totals in minor units, recomputed whenever a draft's lines change and frozen with it.
    subtotal_minor = models.BigIntegerField(default=0)
    discount_minor = models.BigIntegerField(default=0)
    tax_total_minor = models.BigIntegerField(default=0)
    total_minor = models.BigIntegerField(default=0)
    tax_breakdown = models.JSONField(default=list, blank=True)
    # What the totals were priced from (`services.common.stored_pricing_digest`): a draft is
    # priced again when issued or sent only if that changed (a rate, the rounding, the
    # exemption). Empty (also where raw loaders leave the column to its default): not known.
    priced_from = models.CharField(
        max_length=32, blank=True, default="", db_default="", editable=False
    )
    seller_snapshot = models.JSONField(default=dict, blank=True)
    buyer_snapshot = models.JSONField(default=dict, blank=True)
    pdf = models.FileField(upload_to="documents/%Y/%m/", blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=clock.now)
    updated_at = models.DateTimeField(default=clock.now)

    class Meta:
        abstract = True
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.number or f"Draft {self._meta.verbose_name} #{self.pk}"


class Estimate(BillingDocument):
    status = models.CharField(
        max_length=10, choices=EstimateStatus.choices, default=EstimateStatus.DRAFT
    )
    valid_until = models.DateField(null=True, blank=True)
    viewed_at = models.DateTimeField(null=True, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_name = models.CharField(max_length=150, blank=True)
    approved_ip = models.GenericIPAddressField(null=True, blank=True)
    approved_user_agent = models.CharField(max_length=500, blank=True)
    declined_at = models.DateTimeField(null=True, blank=True)
    decline_reason = models.TextField(blank=True)
    converted_at = models.DateTimeField(null=True, blank=True)

    class Meta(BillingDocument.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "number"],
                condition=~Q(number=""),
                name="estimate_unique_number",
            )
        ]
        indexes = [
            models.Index(fields=["agency", "status", "-created_at"]),
            models.Index(fields=["agency", "-created_at", "-id"]),
            # The PDF sweep reads only issued documents still without their PDF.
            models.Index(
                fields=["id"],
                name="estimate_pdf_pending_idx",
                condition=Q(pdf="") & ~Q(status="draft"),
            ),
            # The expiry sweep and the estimate reminders read sent estimates only.
            models.Index(
                fields=["agency", "valid_until"],
                name="estimate_sent_valid_idx",
                condition=Q(status="sent"),
            ),
        ]


# What an open invoice owes is read from these (`selectors.common.balance_minor`).
OPEN_BALANCE_COLUMNS = ("total_minor", "amount_paid_minor", "amount_credited_minor")


class Invoice(BillingDocument):
    status = models.CharField(
        max_length=14, choices=InvoiceStatus.choices, default=InvoiceStatus.DRAFT
    )
    # One invoice per estimate: converting twice is refused by the database itself.
    estimate = models.OneToOneField(
        Estimate, null=True, blank=True, on_delete=models.PROTECT, related_name="invoice"
    )
    due_date = models.DateField(null=True, blank=True)
    issued_at = models.DateTimeField(null=True, blank=True)
    # Kept current in the same transaction as each ledger entry (payments, credit notes).
    amount_paid_minor = models.BigIntegerField(default=0)
    amount_credited_minor = models.BigIntegerField(default=0)
    voided_at = models.DateTimeField(null=True, blank=True)
    void_reason = models.TextField(blank=True)

    class Meta(BillingDocument.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "number"],
                condition=~Q(number=""),
                name="invoice_unique_number",
            ),
            models.CheckConstraint(
                condition=Q(status="draft") | ~Q(number=""),
                name="invoice_issued_has_number",
            ),
        ]
        indexes = [
            models.Index(fields=["agency", "status", "-created_at"]),
            models.Index(fields=["agency", "-created_at", "-id"]),
            models.Index(fields=["agency", "number"]),
            models.Index(
                fields=["agency", "due_date"],
                name="invoice_open_due_idx",
                condition=Q(status="open"),
            ),
            # Open invoices only, each holding what it owes (`balance_minor`'s columns), so the
            # figures of open invoices read the index alone (PostgreSQL's INCLUDE): the
            # clients who owe most, by agency and currency; what a client or a deal still
            # owes (the client and deal lists' Outstanding and Overdue columns,
            # `selectors/owing.py`), by the key.
            models.Index(
                fields=["agency", "currency", "client", "due_date"],
                name="invoice_open_owing_idx",
                condition=Q(status="open"),
                include=OPEN_BALANCE_COLUMNS,
            ),
            models.Index(
                fields=["client", "due_date"],
                name="invoice_open_client_idx",
                condition=Q(status="open"),
                include=("agency", *OPEN_BALANCE_COLUMNS),
            ),
            models.Index(
                fields=["deal", "due_date"],
                name="invoice_open_deal_idx",
                condition=Q(status="open"),
                include=("agency", *OPEN_BALANCE_COLUMNS),
            ),
            # The PDF sweep reads only issued documents still without their PDF.
            models.Index(
                fields=["id"],
                name="invoice_pdf_pending_idx",
                condition=Q(pdf="") & ~Q(status="draft"),
            ),
        ]

    @property
    def balance_due_minor(self) -> int:
        """What the client still owes on this invoice; nothing once it is void."""
        return invoice_balance_due_minor(
            status=self.status,
            total_minor=self.total_minor,
            amount_paid_minor=self.amount_paid_minor,
            amount_credited_minor=self.amount_credited_minor,
        )

    @property
    def is_fully_credited(self) -> bool:
        """`invoice_is_fully_credited`, for templates."""
        return invoice_is_fully_credited(self)


def invoice_balance_due_minor(
    *, status: str, total_minor: int, amount_paid_minor: int, amount_credited_minor: int
) -> int:
    """`Invoice.balance_due_minor` of an invoice read as a plain row (the API's lists)."""
    if status == InvoiceStatus.VOID:
        return 0
    return total_minor - amount_paid_minor - amount_credited_minor


class CreditNote(BillingDocument):
    """A correction of an issued invoice: its total is the credit given, a positive amount.

    What is left of the credit is derived from its applications (`credit_remaining_minor`),
    never stored."""

    status = models.CharField(
        max_length=10, choices=CreditNoteStatus.choices, default=CreditNoteStatus.DRAFT
    )
    invoice = models.ForeignKey(Invoice, on_delete=models.PROTECT, related_name="credit_notes")
    reason = models.TextField()
    settlement = models.CharField(
        max_length=10, choices=CreditSettlement.choices, default=CreditSettlement.APPLY
    )
    issued_at = models.DateTimeField(null=True, blank=True)

    class Meta(BillingDocument.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "number"],
                condition=~Q(number=""),
                name="creditnote_unique_number",
            ),
            models.CheckConstraint(
                condition=Q(status="draft") | ~Q(number=""),
                name="creditnote_issued_has_number",
            ),
        ]
        indexes = [
            models.Index(fields=["agency", "status", "-created_at"]),
            models.Index(fields=["agency", "-created_at", "-id"]),
            # The PDF sweep reads only issued documents still without their PDF.
            models.Index(
                fields=["id"],
                name="creditnote_pdf_pending_idx",
                condition=Q(pdf="") & ~Q(status="draft"),
            ),
        ]


class CreditApplication(AgencyScoped):
    """Part of a credit note's credit spent on an invoice: on its own invoice or another open
    one of the client (`is_refund` False), or on its own invoice in exchange for money paid
    on it going back to the client (`is_refund` True, next to the payments' refund row).
    Only applications not released count."""

    credit_note = models.ForeignKey(
        CreditNote, on_delete=models.PROTECT, related_name="applications"
    )
    invoice = models.ForeignKey(
        Invoice, on_delete=models.PROTECT, related_name="credit_applications"
    )
    amount_minor = models.BigIntegerField()
    is_refund = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=clock.now)
    # Set when the refund it was spent for failed: the credit is the credit note's again.
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_minor__gt=0), name="creditapplication_amount_positive"
            )
        ]

    def __str__(self) -> str:
        return f"Credit of {self.credit_note} on invoice #{self.invoice_id}"


class DocumentLine(PricedLine):
    """A line of an estimate, invoice or credit note; amounts and taxes are frozen with the
    document."""

    net_minor = models.BigIntegerField(default=0)
    tax_minor = models.BigIntegerField(default=0)
    total_minor = models.BigIntegerField(default=0)
    # The taxes as they were when the document was issued: rates may change later.
    tax_snapshot = models.JSONField(default=list, blank=True)

    class Meta(PricedLine.Meta):
        abstract = True


class EstimateLine(DocumentLine):
    estimate = models.ForeignKey(Estimate, on_delete=models.CASCADE, related_name="lines")

    class Meta(DocumentLine.Meta):
        pass


class InvoiceLine(DocumentLine):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")

    class Meta(DocumentLine.Meta):
        pass


class CreditNoteLine(DocumentLine):
    credit_note = models.ForeignKey(CreditNote, on_delete=models.CASCADE, related_name="lines")
    # The invoice line it credits; none for a free adjustment ("Goodwill discount").
    invoice_line = models.ForeignKey(
        InvoiceLine, null=True, blank=True, on_delete=models.PROTECT, related_name="credit_lines"
    )

    class Meta(DocumentLine.Meta):
        pass


class PortalLink(AgencyScoped):
    """A client's link to one document.

    The token is HMAC(SECRET_KEY, nonce): staff and the API can show the link again, while
    the database alone (nonce and SHA-256 of the token) never reveals a working link."""

    # Blank on links made before tokens were derived: those cannot be shown again.
    nonce = models.CharField(max_length=64, blank=True)
    token_hash = models.CharField(max_length=64, unique=True)
    estimate = models.ForeignKey(
        Estimate, null=True, blank=True, on_delete=models.CASCADE, related_name="portal_links"
    )
    invoice = models.ForeignKey(
        Invoice, null=True, blank=True, on_delete=models.CASCADE, related_name="portal_links"
    )
    credit_note = models.ForeignKey(
        CreditNote, null=True, blank=True, on_delete=models.CASCADE, related_name="portal_links"
    )
    created_at = models.DateTimeField(default=clock.now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_viewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(estimate__isnull=True, invoice__isnull=False, credit_note__isnull=True)
                | Q(estimate__isnull=False, invoice__isnull=True, credit_note__isnull=True)
                | Q(estimate__isnull=True, invoice__isnull=True, credit_note__isnull=False),
                name="portallink_one_document",
            )
        ]

    def __str__(self) -> str:
        return f"Portal link to {self.estimate or self.invoice or self.credit_note}"


# Derived states, one home each (DESIGN: one rule, one home): a SQL condition for queries and,
# where a page holds the row already, the Python predicate next to it, which reads the same
# rule. `through` is the relation path when the query starts from another model, e.g.
# "invoice__" for a portal link. `today` is the agency's date (`clock.agency_today`).


def overdue_condition(today: dt.date, through: str = "") -> Q:
    """Open and past due: the partial index on open invoices' due dates serves it."""
    return Q(**{f"{through}status": InvoiceStatus.OPEN, f"{through}due_date__lt": today})


def invoice_is_overdue(invoice: Invoice, today: dt.date) -> bool:
    """`overdue_condition` for an invoice in hand."""
    return (
        invoice.status == InvoiceStatus.OPEN
        and invoice.due_date is not None
        and invoice.due_date < today
    )


def partially_paid_condition(through: str = "") -> Q:
    """Open, with part of the total paid or credited and the rest still owed."""
    settled = F(f"{through}amount_paid_minor") + F(f"{through}amount_credited_minor")
    return Q(**{f"{through}status": InvoiceStatus.OPEN, f"{through}total_minor__gt": settled}) & (
        Q(**{f"{through}amount_paid_minor__gt": 0})
        | Q(**{f"{through}amount_credited_minor__gt": 0})
    )


def credited_condition(through: str = "") -> Q:
    """An issued invoice a credit note gave credit to."""
    return Q(**{f"{through}amount_credited_minor__gt": 0})


def invoice_is_fully_credited(invoice: Invoice) -> bool:
    """What reads "Credited": credit notes settled the whole total."""
    return invoice.total_minor > 0 and invoice.amount_credited_minor >= invoice.total_minor


def lapsed_condition(today: dt.date, through: str = "") -> Q:
    """A sent estimate past its validity date: the client can no longer answer it, and the
    expiry sweep makes it expired."""
    return Q(**{f"{through}status": EstimateStatus.SENT, f"{through}valid_until__lt": today})


def estimate_is_lapsed(estimate: Estimate, today: dt.date) -> bool:
    """`lapsed_condition` for an estimate in hand."""
    return (
        estimate.status == EstimateStatus.SENT
        and estimate.valid_until is not None
        and estimate.valid_until < today
    )


def estimate_is_expired(estimate: Estimate, today: dt.date) -> bool:
    """Expired by the sweep, or lapsed before the sweep got to it: what the client sees."""
    return estimate.status == EstimateStatus.EXPIRED or estimate_is_lapsed(estimate, today)
