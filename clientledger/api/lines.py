"""Priced lines in requests (deals, estimates, invoices): the line schema, its rows of the
agency, and line errors under the API's field names."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Annotated, Literal

from django.core.exceptions import ValidationError
from django.utils.text import capfirst
from pydantic import Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from clientledger.accounts.models import Agency
from clientledger.api.access import agency_tax_rates
from clientledger.api.inputs import ChoiceValue, Price, Quantity, RowId, StrictSchema, Text
from clientledger.catalog.models import UnitType
from clientledger.catalog.selectors import service_list
from clientledger.lines.calculations.rules import discount_validate
from clientledger.lines.calculations.values import CalculationError
from clientledger.lines.choices import DiscountKind, Recurrence
from clientledger.lines.data import LineData, LinesInvalid
from clientledger.lines.models import recurrence_for_unit

MAX_LINES = 500
LINE_FIELD_NAMES = {
    "service": "service_id",
    "taxes": "tax_rate_ids",
    "invoice_line": "invoice_line_id",
}


class LineIn(StrictSchema):
    description: Annotated[str, Text(500, required=True)]
    quantity: Quantity
    unit_price: Price
    unit: Annotated[UnitType, ChoiceValue] = UnitType.HOUR
    service_id: RowId | None = Field(None, description="An active service of your catalog.")
    discount_kind: Annotated[DiscountKind, ChoiceValue] | Literal[""] = ""
    discount_value: Price = Field(
        Decimal(0),
        description="A percentage (0-100) or a non-negative amount, per `discount_kind`.",
        examples=["0"],
    )
    tax_rate_ids: list[RowId] = Field(
        default_factory=list,
        max_length=2,
        description="Up to two tax rates; a compound tax can only be the second.",
    )
    recurrence: Annotated[Recurrence, ChoiceValue] | None = Field(
        None, description="Left out: monthly for the `month` unit, otherwise one-off."
    )

    @field_validator("discount_value")
    @classmethod
    def _discount_fits_its_kind(cls, value: Decimal, info: ValidationInfo) -> Decimal:
        kind = info.data.get("discount_kind")
        if kind is None:
            return value  # the kind itself was refused, with its own message
        try:
            discount_validate(kind or None, value)
        except CalculationError as error:
            raise PydanticCustomError(error.code, f"{capfirst(error.message)}.") from None
        return value


class LinesIn(StrictSchema):
    lines: list[LineIn] = Field(max_length=MAX_LINES)


def line_errors_flat(line_errors: list[dict[str, str]]) -> dict[str, str]:
    """Per-line errors under the API's names: `{"lines[2].tax_rate_ids": "..."}`."""
    return {
        f"lines[{index}].{LINE_FIELD_NAMES.get(name, name)}": message
        for index, errors in enumerate(line_errors)
        for name, message in errors.items()
    }


def lines_data(*, agency: Agency, lines: list[LineIn]) -> list[LineData]:
    """The lines with their service and tax rows, two queries for any number of lines."""
    service_ids = {line.service_id for line in lines if line.service_id is not None}
    services = (
        {s.pk: s for s in service_list(agency=agency, status="all").filter(pk__in=service_ids)}
        if service_ids
        else {}
    )
    taxes = agency_tax_rates(agency=agency, ids={pk for line in lines for pk in line.tax_rate_ids})
    errors: list[dict[str, str]] = []
    for line in lines:
        line_errors = {}
        if line.service_id is not None and line.service_id not in services:
            line_errors["service_id"] = "Choose a service of your agency."
        if any(pk not in taxes for pk in line.tax_rate_ids):
            line_errors["tax_rate_ids"] = "Choose tax rates of your agency."
        errors.append(line_errors)
    if any(errors):
        raise ValidationError(line_errors_flat(errors))
    return [
        LineData(
            description=line.description,
            quantity=line.quantity,
            unit_price=line.unit_price,
            unit=line.unit,
            service=services.get(line.service_id) if line.service_id is not None else None,
            discount_kind=line.discount_kind,
            discount_value=line.discount_value,
            taxes=[taxes[pk] for pk in line.tax_rate_ids],
            recurrence=line.recurrence or recurrence_for_unit(line.unit),
        )
        for line in lines
    ]


@contextmanager
def api_line_errors() -> Iterator[None]:
    """Report a line service's per-line errors under the API's names."""
    try:
        yield
    except LinesInvalid as exc:
        total_errors = {"lines": " ".join(exc.total_errors)} if exc.total_errors else {}
        raise ValidationError(line_errors_flat(exc.line_errors) | total_errors) from exc
