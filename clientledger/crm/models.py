"""Clients, contacts, deals and deal lines."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from clientledger.accounts.models import PAYMENT_TERMS_VALIDATORS, validate_currency
from clientledger.core import clock
from clientledger.core.money import from_minor
from clientledger.core.tenancy import AgencyScoped
from clientledger.lines.models import PricedLine


class Client(AgencyScoped):
    name = models.CharField("company name", max_length=200)
    billing_email = models.EmailField(blank=True)
    address_line1 = models.CharField("address", max_length=200, blank=True)
    address_line2 = models.CharField("address (line 2)", max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    region = models.CharField("state / region", max_length=100, blank=True)
    country = models.CharField(max_length=100, blank=True)
    currency = models.CharField(max_length=3, validators=[validate_currency])
    tax_id = models.CharField("tax ID", max_length=64, blank=True)
    tax_exempt = models.BooleanField(default=False)
    payment_terms_days = models.PositiveSmallIntegerField(
        "payment terms (days)",
        null=True,
        blank=True,
        validators=PAYMENT_TERMS_VALIDATORS,
        help_text="Leave empty to use the agency's default terms.",
    )
    notes = models.TextField(blank=True)
    # Kept equal to the sum of the client's ledger entries, in the same transaction as each
    # entry (DESIGN.md section 4); `clientledger reconcile` proves it.
    balance_minor = models.BigIntegerField(default=0)
    # What its open invoices owe, and the part past due on its agency's `OverdueAsOf` date:
    # kept by billing in the transaction of each balance move, so the list sorts and filters
    # by indexed columns (see OWED_FIELDS).
    owed_open_minor = models.BigIntegerField(default=0, db_default=0)
    owed_overdue_minor = models.BigIntegerField(default=0, db_default=0)
    created_at = models.DateTimeField(default=clock.now)
    updated_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["name", "id"]
        indexes = [
            models.Index(fields=["agency", "name", "id"]),
            models.Index(fields=["agency", "currency", "name", "id"]),
            # The list by what is owed, most first, and its "has overdue" filter by name.
            models.Index(fields=["agency", "-owed_open_minor", "id"], name="client_owed_open_idx"),
            models.Index(
                fields=["agency", "-owed_overdue_minor", "id"], name="client_owed_overdue_idx"
            ),
            models.Index(
                fields=["agency", "name", "id"],
                name="client_overdue_name_idx",
                condition=Q(owed_overdue_minor__gt=0),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def audit_client_id(self) -> int | None:
        """The client whose timeline shows a change of this row (`core.services`): itself."""
        return self.pk

    def save(self, *args: Any, **kwargs: Any) -> None:
        # The cached balance and what is owed move only in SQL, with each ledger entry and
        # balance move: saving an instance loaded before must not write them back stale.
        if not self._state.adding and kwargs.get("update_fields") is None:
            kwargs["update_fields"] = [
                field.name
                for field in self._meta.concrete_fields
                if not field.primary_key
                and field.name != "balance_minor"
                and field.name not in OWED_FIELDS
            ]
        super().save(*args, **kwargs)

    @property
    def effective_payment_terms_days(self) -> int:
        """The client's own terms, or the agency's default when it has none."""
        if self.payment_terms_days is None:
            return self.agency.default_payment_terms_days
        return self.payment_terms_days

    @property
    def address_lines(self) -> list[str]:
        city_line = " ".join(part for part in (self.postal_code, self.city) if part)
        parts = [self.address_line1, self.address_line2, city_line, self.region, self.country]
        return [part for part in parts if part]


class Contact(AgencyScoped):
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(max_length=150)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    job_title = models.CharField(max_length=100, blank=True)
    is_billing_contact = models.BooleanField("billing contact", default=False)
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["-is_billing_contact", "name", "id"]

    def __str__(self) -> str:
        return self.name


class DealStage(models.TextChoices):
    LEAD = "lead", "Lead"
    QUALIFIED = "qualified", "Qualified"
    PROPOSAL = "proposal", "Proposal"
    WON = "won", "Won"
    LOST = "lost", "Lost"


# What a client's or a deal's open invoices owe, kept by billing (`rollups.owed_moves_add`,
# `rollups.overdue_advance`): never written by a save of the row.
OWED_FIELDS = ("owed_open_minor", "owed_overdue_minor")

STORED_VALUE_FIELDS = (
    "subtotal_minor",
    "total_minor",
    "monthly_recurring_minor",
    "pricing_problem",
)


@dataclass(frozen=True)
class DealValue:
    """A deal's stored value (see Deal): what lists and the pipeline show without its lines.
    The amounts are None when the lines cannot be priced, and `pricing_problem` says why."""

    currency: str
    subtotal: Decimal | None
    total: Decimal | None
    monthly_recurring: Decimal | None
    pricing_problem: str


class Deal(AgencyScoped):
    title = models.CharField(max_length=200)
    client = models.ForeignKey(Client, on_delete=models.PROTECT, related_name="deals")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    stage = models.CharField(max_length=10, choices=DealStage.choices, default=DealStage.LEAD)
    expected_close_date = models.DateField(null=True, blank=True)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(default=clock.now)
    updated_at = models.DateTimeField(default=clock.now)
    # The lines priced by the money engine, in the client's minor units: written with the lines
    # and again when a rate, exemption or rounding they depend on changes (`crm.deal_values`),
    # so that lists and the pipeline read and sum them in SQL. None (all three) when the lines
    # cannot be priced, with the reason in `pricing_problem`.
    subtotal_minor = models.BigIntegerField(null=True, default=0)
    total_minor = models.BigIntegerField(null=True, default=0)
    monthly_recurring_minor = models.BigIntegerField(null=True, default=0)
    pricing_problem = models.CharField(max_length=500, blank=True, default="")
    # What its open invoices owe, in the client's currency, as on Client.
    owed_open_minor = models.BigIntegerField(default=0, db_default=0)
    owed_overdue_minor = models.BigIntegerField(default=0, db_default=0)

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [
            models.Index(fields=["agency", "stage", "-updated_at"]),
            models.Index(fields=["agency", "-updated_at", "-id"]),
            models.Index(fields=["agency", "-owed_open_minor", "id"], name="deal_owed_open_idx"),
            models.Index(
                fields=["agency", "-owed_overdue_minor", "id"], name="deal_owed_overdue_idx"
            ),
            models.Index(
                fields=["agency", "-updated_at", "-id"],
                name="deal_overdue_recent_idx",
                condition=Q(owed_overdue_minor__gt=0),
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def save(self, *args: Any, **kwargs: Any) -> None:
        # The stored value moves only with the lines and their re-pricing (`crm.deal_values`):
        # saving an instance loaded before a re-pricing must not write its stale value back.
        if not self._state.adding and kwargs.get("update_fields") is None:
            kwargs["update_fields"] = [
                field.name
                for field in self._meta.concrete_fields
                if not field.primary_key
                and field.name not in STORED_VALUE_FIELDS
                and field.name not in OWED_FIELDS
            ]
        super().save(*args, **kwargs)

    @property
    def currency(self) -> str:
        return self.client.currency

    @property
    def value(self) -> DealValue:
        """The stored value in the client's currency (the client should be selected with it)."""
        currency = self.client.currency

        def amount(minor: int | None) -> Decimal | None:
            return None if minor is None else from_minor(minor, currency)

        return DealValue(
            currency=currency,
            subtotal=amount(self.subtotal_minor),
            total=amount(self.total_minor),
            monthly_recurring=amount(self.monthly_recurring_minor),
            pricing_problem=self.pricing_problem,
        )


class DealLine(PricedLine):
    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="lines")

    class Meta(PricedLine.Meta):
        pass
