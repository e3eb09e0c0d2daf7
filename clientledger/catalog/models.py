"""Services and tax rates."""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from clientledger.accounts.models import validate_currency
from clientledger.core import clock
from clientledger.core.tenancy import AgencyScoped


class UnitType(models.TextChoices):
    HOUR = "hour", "Hour"
    DAY = "day", "Day"
    FIXED = "fixed", "Fixed"
    MONTH = "month", "Month"
    ITEM = "item", "Item"


PERCENT_VALIDATORS = [MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))]


class TaxRate(AgencyScoped):
    name = models.CharField(max_length=100)
    percent = models.DecimalField(max_digits=7, decimal_places=4, validators=PERCENT_VALIDATORS)
    is_compound = models.BooleanField(
        "compound", default=False, help_text="Applied on top of the line's first tax."
    )
    is_inclusive = models.BooleanField(
        "inclusive", default=False, help_text="Prices already include this tax."
    )
    archived_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "name"],
                name="taxrate_unique_name",
                violation_error_message="A tax rate with this name already exists.",
            ),
            models.CheckConstraint(
                condition=Q(percent__gte=0) & Q(percent__lte=100),
                name="taxrate_percent_0_100",
                violation_error_message="The percentage must be between 0 and 100.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.percent.normalize():f}%)"

    @property
    def is_active(self) -> bool:
        return self.archived_at is None


class Service(AgencyScoped):
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    unit_type = models.CharField(max_length=10, choices=UnitType.choices, default=UnitType.HOUR)
    default_unit_price = models.DecimalField(
        max_digits=18, decimal_places=4, validators=[MinValueValidator(Decimal(0))]
    )
    currency = models.CharField(max_length=3, validators=[validate_currency])
    default_tax_1 = models.ForeignKey(
        TaxRate, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    default_tax_2 = models.ForeignKey(
        TaxRate, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    archived_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=clock.now)
    updated_at = models.DateTimeField(default=clock.now)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "name"],
                name="service_unique_name",
                violation_error_message="A service with this name already exists.",
            ),
            models.CheckConstraint(
                condition=Q(default_unit_price__gte=0),
                name="service_price_not_negative",
                violation_error_message="The default price must not be negative.",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.archived_at is None

    @property
    def default_taxes(self) -> list[TaxRate]:
        return [tax for tax in (self.default_tax_1, self.default_tax_2) if tax is not None]
