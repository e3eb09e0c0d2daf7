"""The line editor's row: one line of a deal, an estimate or an invoice, validated by the
same rules as the services apply (see editor.py for the editor of all rows)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, ClassVar, Generic, TypeVar

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.http import QueryDict

from clientledger.catalog.models import Service, UnitType
from clientledger.core.error_codes import ErrorCode
from clientledger.core.forms import AppForm, DecimalInputField
from clientledger.lines.calculations.rules import discount_validate, line_validate
from clientledger.lines.calculations.values import CalculationError, Problem
from clientledger.lines.choices import DiscountKind, Recurrence
from clientledger.lines.data import LineData
from clientledger.lines.pricing import line_input
from clientledger.lines.selectors import LineCatalog

M = TypeVar("M", bound=models.Model)


class CatalogSelect(forms.Select):
    """A select whose options carry data attributes, e.g. a service's defaults."""

    def __init__(self, option_data: Mapping[str, Mapping[str, str]], label: str) -> None:
        super().__init__(attrs={"aria-label": label})
        self.option_data = option_data

    def create_option(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        option = super().create_option(*args, **kwargs)
        option["attrs"].update(self.option_data.get(str(option["value"]), {}))
        return option


class CatalogChoiceField(forms.ChoiceField, Generic[M]):
    """One of the agency's `items` by id; the select lists only `offered` (see LineCatalog)."""

    def __init__(
        self,
        *,
        items: Mapping[int, M],
        offered: Sequence[M],
        label_of: Any,
        invalid: str,
        label: str,
        empty_label: str,
        option_data: Mapping[str, Mapping[str, str]] | None = None,
    ) -> None:
        self.options = [("", empty_label), *((str(item.pk), label_of(item)) for item in offered)]
        super().__init__(
            required=False,
            label=label,
            choices=self.options,
            widget=CatalogSelect(option_data or {}, label),
            error_messages={"invalid_choice": invalid},
        )
        self.items = items
        self.label_of = label_of

    def to_python(self, value: Any) -> M | None:
        if value in self.empty_values:
            return None
        try:
            return self.items[int(value)]
        except (TypeError, ValueError, KeyError):
            raise ValidationError(
                self.error_messages["invalid_choice"], code=ErrorCode.INVALID_CHOICE
            ) from None

    def validate(self, value: M | None) -> None:
        # to_python already accepted only the agency's rows; the service refuses archived
        # ones on new lines with a message naming them.
        return None

    def show(self, value: Any) -> None:
        """Add the chosen item to the options when the select does not offer it."""
        item = self.items.get(int(value)) if str(value).isdigit() else None
        if item is not None and all(str(item.pk) != key for key, _ in self.options):
            self.options = [*self.options, (str(item.pk), self.label_of(item))]
            self.choices = self.options


def _number_input(label: str) -> forms.TextInput:
    # A text input, not type=number, so that what was typed reaches the server and its
    # message rather than being silently emptied by the browser.
    return forms.TextInput(
        attrs={"inputmode": "decimal", "autocomplete": "off", "aria-label": label}
    )


def _labelled(widget: type[forms.Widget], label: str) -> forms.Widget:
    return widget(attrs={"aria-label": label})


def _archived(label: str, active: bool) -> str:
    return label if active else f"{label} · archived"


class LineForm(AppForm):
    """One row of the line editor (deal, estimate and invoice lines alike)."""

    description = forms.CharField(
        required=False,
        widget=_labelled(forms.TextInput, "Description"),
        max_length=500,
        error_messages={"max_length": "Keep the description under 500 characters."},
    )
    quantity = DecimalInputField(
        initial=Decimal(1),
        widget=_number_input("Quantity"),
        max_digits=14,
        decimal_places=4,
        min_value=Decimal("0.0001"),
        error_messages={
            "required": "Enter the quantity.",
            "invalid": "Enter the quantity as a number, e.g. 1.5.",
            "min_value": "The quantity must be greater than zero.",
            "max_digits": "The quantity is too large.",
            "max_whole_digits": "The quantity is too large.",
            "max_decimal_places": "Use at most 4 decimals for the quantity.",
        },
    )
    unit = forms.ChoiceField(
        choices=UnitType.choices,
        widget=_labelled(forms.Select, "Unit"),
        initial=UnitType.HOUR,
        error_messages={
            "required": "Choose a unit.",
            "invalid_choice": "Choose a unit from the list.",
        },
    )
    unit_price = DecimalInputField(
        required=False,
        widget=_number_input("Unit price"),
        max_digits=18,
        decimal_places=4,
        min_value=Decimal(0),
        error_messages={
            "invalid": "Enter the unit price as a number, e.g. 120.00.",
            "min_value": "The unit price cannot be negative.",
            "max_digits": "The unit price is too large.",
            "max_whole_digits": "The unit price is too large.",
            "max_decimal_places": "Use at most 4 decimals for the unit price.",
        },
    )
    discount_kind = forms.ChoiceField(
        required=False,
        widget=_labelled(forms.Select, "Discount type"),
        choices=[("", "No discount"), *DiscountKind.choices],
        error_messages={"invalid_choice": "Choose a discount type from the list."},
    )
    discount_value = DecimalInputField(
        required=False,
        widget=_number_input("Discount"),
        max_digits=18,
        decimal_places=4,
        min_value=Decimal(0),
        error_messages={
            "invalid": "Enter the discount as a number, e.g. 10.",
            "min_value": "The discount cannot be negative.",
            "max_digits": "The discount is too large.",
            "max_whole_digits": "The discount is too large.",
            "max_decimal_places": "Use at most 4 decimals for the discount.",
        },
    )
    recurrence = forms.ChoiceField(
        choices=Recurrence.choices,
        widget=_labelled(forms.Select, "Billed"),
        initial=Recurrence.ONE_OFF,
        error_messages={
            "required": "Choose how often this line is billed.",
            "invalid_choice": "Choose how often this line is billed from the list.",
        },
    )

    # The money engine names its inputs; these are the cells that show its messages.
    ENGINE_FIELDS = {
        "quantity": ("quantity", "Quantity"),
        "unit_price": ("unit_price", "Unit price"),
        "discount_kind": ("discount_kind", "Discount type"),
        "discount_value": ("discount_value", "Discount"),
        "taxes": ("tax_1", "Taxes"),
    }
    # The editor's own words for some of the engine's rules.
    ENGINE_WORDING: ClassVar[dict[str, tuple[str, str]]] = {
        Problem.PERCENT_OUT_OF_RANGE: (
            "discount_value",
            "A percentage discount cannot exceed 100%.",
        ),
        Problem.DISCOUNT_WITHOUT_KIND: (
            "discount_kind",
            "Choose a discount type, or clear the discount.",
        ),
    }

    def __init__(
        self,
        data: QueryDict | None = None,
        *,
        key: str,
        catalog: LineCatalog,
        service_options: Mapping[str, Mapping[str, str]],
        currency: str,
        initial: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(data, prefix=f"line-{key}", initial=initial)
        self.key = key
        self.currency = currency
        catalog_fields: dict[str, CatalogChoiceField[Any]] = {
            "service": CatalogChoiceField(
                items=catalog.services,
                offered=catalog.offered_services,
                label_of=self._service_label,
                invalid="Choose a service from your agency's catalog.",
                label="Service",
                empty_label="Custom line (no service)",
                option_data=service_options,
            ),
            **{
                name: CatalogChoiceField(
                    items=catalog.taxes,
                    offered=catalog.offered_taxes,
                    label_of=lambda tax: _archived(str(tax), tax.is_active),
                    invalid="Choose a tax rate of your agency.",
                    label=label,
                    empty_label=empty_label,
                )
                for name, label, empty_label in (
                    ("tax_1", "Tax", "No tax"),
                    ("tax_2", "Second tax", "No second tax"),
                )
            },
        }
        self.fields.update(catalog_fields)
        for name, field in catalog_fields.items():
            field.show(self[name].value())

    def _service_label(self, service: Service) -> str:
        label = service.name
        if service.currency != self.currency:
            label = f"{label} ({service.currency})"
        return _archived(label, service.is_active)

    @property
    def is_blank(self) -> bool:
        """A posted row with no service, description or price is not a line."""
        if not self.is_bound:
            return False
        return not any(
            str(self.data.get(self.add_prefix(name), "")).strip()
            for name in ("service", "description", "unit_price")
        )

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        service: Service | None = data.get("service")
        if service is not None:
            # Without JavaScript nothing fills the row in, so the service's defaults apply.
            if not data.get("description", "").strip() and "description" not in self.errors:
                data["description"] = service.name
            if (
                data.get("unit_price") is None
                and "unit_price" not in self.errors
                and service.currency == self.currency
            ):
                data["unit_price"] = service.default_unit_price
        if "description" not in self.errors and not data.get("description", "").strip():
            self.add_error("description", "Enter a description.")
        if "unit_price" not in self.errors and data.get("unit_price") is None:
            self.add_error("unit_price", "Enter the unit price.")
        self._clean_discount(data)
        tax_1, tax_2 = data.get("tax_1"), data.get("tax_2")
        if tax_1 is not None and tax_2 is not None and tax_1.pk == tax_2.pk:
            self.add_error("tax_2", "Choose a second tax that differs from the first.")
        if not self.errors:
            try:
                line_validate(line_input(self.line_data()))
            except CalculationError as error:
                self.add_error(*self._engine_error(error))
        return data

    def _engine_error(self, error: CalculationError) -> tuple[str | None, str]:
        """The cell and the message for the engine's refusal."""
        if error.code in self.ENGINE_WORDING:
            return self.ENGINE_WORDING[error.code]
        name, label = self.ENGINE_FIELDS.get(error.field, (None, "Line"))
        return name, f"{label}: {error.message}."

    def _clean_discount(self, data: dict[str, Any]) -> None:
        """The discount on its own, so that its cells show their errors beside the others."""
        kind, value = data.get("discount_kind"), data.get("discount_value")
        if not kind and not value:
            data["discount_value"] = Decimal(0)
        elif "discount_kind" in self.errors or "discount_value" in self.errors:
            return
        elif value is None:
            self.add_error("discount_value", "Enter the discount value.")
        else:
            try:
                discount_validate(kind or None, value)
            except CalculationError as error:
                self.add_error(*self._engine_error(error))

    def line_data(self) -> LineData:
        data = self.cleaned_data
        return LineData(
            service=data.get("service"),
            description=data["description"].strip(),
            quantity=data["quantity"],
            unit=data["unit"],
            unit_price=data["unit_price"],
            discount_kind=data.get("discount_kind") or "",
            discount_value=data.get("discount_value") or Decimal(0),
            taxes=[tax for tax in (data.get("tax_1"), data.get("tax_2")) if tax is not None],
            recurrence=data["recurrence"],
        )
