from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q

from clientledger.accounts.models import PAYMENT_TERMS_VALIDATORS, validate_currency
from clientledger.catalog.models import UnitType
from clientledger.core import clock
from clientledger.core.tenancy import AgencyScoped

if TYPE_CHECKING:
    from clientledger.catalog.models import TaxRate


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
    created_at = models.DateTimeField(default=clock.now)
    updated_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["name", "id"]
        indexes = [
            models.Index(fields=["agency", "name", "id"]),
            models.Index(fields=["agency", "currency", "name", "id"]),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def audit_client_id(self) -> int | None:
        """The client whose timeline shows a change of this row (`core.services`): itself."""
        return self.pk

    def save(self, *args: Any, **kwargs: Any) -> None:
        # The cached balance moves only in SQL, with each ledger entry: saving an instance
        # loaded before an entry was appended must not write its stale balance back.
        if not self._state.adding and kwargs.get("update_fields") is None:
            kwargs["update_fields"] = [
                field.name
                for field in self._meta.concrete_fields
                if not field.primary_key and field.name != "balance_minor"
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

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [
            models.Index(fields=["agency", "stage", "-updated_at"]),
            models.Index(fields=["agency", "-updated_at", "-id"]),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def currency(self) -> str:
        return self.client.currency


class DiscountKind(models.TextChoices):
    PERCENT = "percent", "%"
    AMOUNT = "amount", "Amount"


class Recurrence(models.TextChoices):
    ONE_OFF = "one_off", "One-off"
    MONTHLY = "monthly", "Monthly"
    QUARTERLY = "quarterly", "Quarterly"
    YEARLY = "yearly", "Yearly"


# What a recurring line's amount is per, as documents print it: "$650.00 / month".
RECURRENCE_PERIODS: dict[str, str] = {
    Recurrence.MONTHLY: "month",
    Recurrence.QUARTERLY: "quarter",
    Recurrence.YEARLY: "year",
}


def recurrence_for_unit(unit: str) -> Recurrence:
    """How a line is billed unless someone says otherwise: a service sold by the month
    recurs monthly, everything else is billed once."""
    return Recurrence.MONTHLY if unit == UnitType.MONTH else Recurrence.ONE_OFF


class PricedLine(AgencyScoped):
    """A line priced through the money engine: deal, estimate and invoice lines share it."""

    position = models.PositiveIntegerField(default=0)
    service = models.ForeignKey(
        "catalog.Service", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    description = models.CharField(max_length=500)
    quantity = models.DecimalField(
        max_digits=14, decimal_places=4, validators=[MinValueValidator(Decimal("0.0001"))]
    )
    unit = models.CharField(max_length=10, choices=UnitType.choices, default=UnitType.HOUR)
    unit_price = models.DecimalField(
        max_digits=18, decimal_places=4, validators=[MinValueValidator(Decimal(0))]
    )
    discount_kind = models.CharField(
        max_length=10, choices=DiscountKind.choices, blank=True, default=""
    )
    discount_value = models.DecimalField(
        max_digits=18, decimal_places=4, default=Decimal(0), validators=[MinValueValidator(0)]
    )
    tax_1 = models.ForeignKey(
        "catalog.TaxRate", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    tax_2 = models.ForeignKey(
        "catalog.TaxRate", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    recurrence = models.CharField(
        max_length=10, choices=Recurrence.choices, default=Recurrence.ONE_OFF
    )

    class Meta:
        abstract = True
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0),
                name="%(class)s_quantity_positive",
                violation_error_message="Quantity must be greater than zero.",
            ),
            models.CheckConstraint(
                condition=Q(unit_price__gte=0),
                name="%(class)s_price_not_negative",
                violation_error_message="Unit price must not be negative.",
            ),
            models.CheckConstraint(
                condition=Q(discount_value__gte=0),
                name="%(class)s_discount_not_negative",
                violation_error_message="Discount must not be negative.",
            ),
            models.CheckConstraint(
                condition=~Q(discount_kind="percent") | Q(discount_value__lte=100),
                name="%(class)s_percent_discount_max_100",
                violation_error_message="A percentage discount must be between 0 and 100.",
            ),
        ]

    def __str__(self) -> str:
        return self.description

    @property
    def taxes(self) -> list[TaxRate]:
        return [tax for tax in (self.tax_1, self.tax_2) if tax is not None]

    @property
    def period(self) -> str:
        """ "month" for a monthly line...; "" for a one-off line."""
        return RECURRENCE_PERIODS.get(self.recurrence, "")


class DealLine(PricedLine):
    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="lines")

    class Meta(PricedLine.Meta):
        pass
