"""Catalog forms. Plain forms (not ModelForms): the services validate, save and audit, and a
ModelForm would change the instance before `service_update` can see what changed."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.db.models import Q

from clientledger.accounts.models import Agency
from clientledger.catalog.models import Service, TaxRate, UnitType
from clientledger.core.forms import AppForm, DecimalInputField, currency_choices
from clientledger.core.money import currency_digits, plain_decimal

PRICE_ERRORS = {
    "required": "Enter a default price (0 is allowed).",
    "invalid": "Enter the price as a number, such as 120 or 95.50.",
    "min_value": "The price cannot be negative.",
    "max_digits": "The price is too large.",
    "max_whole_digits": "The price is too large.",
    "max_decimal_places": "Use at most 4 decimal places.",
}
PERCENT_OUT_OF_RANGE = "Enter a percentage between 0 and 100."


class TaxRateChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: TaxRate) -> str:
        return str(obj) if obj.is_active else f"{obj} (archived)"


class ServiceForm(AppForm):
    name = forms.CharField(max_length=200, error_messages={"required": "Enter the service's name."})
    description = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What the service includes, so your team picks the right one.",
    )
    unit_type = forms.ChoiceField(label="Unit", choices=UnitType.choices)
    default_unit_price = DecimalInputField(
        label="Default unit price",
        max_digits=18,
        decimal_places=4,
        min_value=Decimal(0),
        error_messages=PRICE_ERRORS,
        help_text="Per unit, before tax. Deals can override it line by line.",
    )
    currency = forms.ChoiceField(
        choices=currency_choices,
        error_messages={"invalid_choice": "“%(value)s” is not a currency we know."},
    )
    default_tax_1 = TaxRateChoiceField(
        label="Default tax",
        queryset=TaxRate.objects.none(),
        required=False,
        empty_label="No tax",
    )
    default_tax_2 = TaxRateChoiceField(
        label="Second default tax",
        queryset=TaxRate.objects.none(),
        required=False,
        empty_label="No second tax",
        help_text="For example a compound tax on top of the first.",
    )

    def __init__(
        self, *args: Any, agency: Agency, service: Service | None = None, **kwargs: Any
    ) -> None:
        if service is not None:
            initial = {name: getattr(service, name) for name in self.base_fields}
            initial["default_unit_price"] = plain_decimal(
                service.default_unit_price, currency_digits(service.currency)
            )
            kwargs.setdefault("initial", initial)
        super().__init__(*args, **kwargs)
        self.fields["currency"].initial = agency.default_currency
        # Active rates only, plus the ones the service already has so that an archived
        # default shows up (and is refused by the service) instead of silently vanishing.
        current = [tax.pk for tax in service.default_taxes] if service else []
        rates = (
            TaxRate.objects.filter(agency=agency)
            .filter(Q(archived_at__isnull=True) | Q(pk__in=current))
            .order_by("name", "id")
        )
        for name in ("default_tax_1", "default_tax_2"):
            self.fields[name].queryset = rates  # type: ignore[attr-defined]


class TaxRateForm(AppForm):
    name = forms.CharField(
        max_length=100,
        error_messages={"required": "Enter the tax rate's name, such as “VAT” or “GST”."},
    )
    percent = DecimalInputField(
        label="Rate (%)",
        max_digits=7,
        decimal_places=4,
        min_value=Decimal(0),
        max_value=Decimal(100),
        error_messages={
            "required": PERCENT_OUT_OF_RANGE,
            "invalid": "Enter the rate as a number, such as 19 or 7.5.",
            "min_value": PERCENT_OUT_OF_RANGE,
            "max_value": PERCENT_OUT_OF_RANGE,
            "max_decimal_places": "Use at most 4 decimal places.",
            "max_digits": PERCENT_OUT_OF_RANGE,
            "max_whole_digits": PERCENT_OUT_OF_RANGE,
        },
    )
    is_compound = forms.BooleanField(
        label="Compound", required=False, help_text=TaxRate._meta.get_field("is_compound").help_text
    )
    is_inclusive = forms.BooleanField(
        label="Inclusive",
        required=False,
        help_text=TaxRate._meta.get_field("is_inclusive").help_text,
    )

    def __init__(self, *args: Any, tax_rate: TaxRate | None = None, **kwargs: Any) -> None:
        if tax_rate is not None:
            initial = {name: getattr(tax_rate, name) for name in self.base_fields}
            initial["percent"] = plain_decimal(tax_rate.percent)
            kwargs.setdefault("initial", initial)
        super().__init__(*args, **kwargs)
