"""What a line's discount and billing period can be: the money engine and the models share these."""

from __future__ import annotations

from django.db import models


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
