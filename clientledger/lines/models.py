"""The abstract priced line that deal, estimate and invoice lines share, and its defaults."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q

from clientledger.catalog.models import UnitType
from clientledger.core.tenancy import AgencyScoped
from clientledger.lines.choices import RECURRENCE_PERIODS, DiscountKind, Recurrence

if TYPE_CHECKING:
    from clientledger.catalog.models import TaxRate


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
