"""The rules a set of lines must meet before anything stores them: deals, drafts, issuing and
sending all check lines here."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from django.core.exceptions import ValidationError
from django.utils.text import capfirst

from clientledger.accounts.models import Agency
from clientledger.lines.calculations.rules import line_validate, totals_validate
from clientledger.lines.calculations.values import AmountTooLarge, CalculationError, DocumentTotals
from clientledger.lines.data import LineData, LinesInvalid
from clientledger.lines.models import PricedLine
from clientledger.lines.pricing import document_totals, line_input


class LinesHolder(Protocol):
    """Who the lines are billed to: a client's currency and tax status price them."""

    currency: str
    tax_exempt: bool


def lines_validate(
    *, agency: Agency, client: LinesHolder, lines: list[LineData], existing: Iterable[PricedLine]
) -> DocumentTotals:
    """Raise LinesInvalid unless every line is valid and together they stay within the
    posting bound in the client's currency; archived services and taxes may stay on the
    document that already has them (`existing`) but not be added anywhere new. Answers the
    lines' totals, priced for the client: a caller storing the lines need not price them
    again."""
    in_use: set[tuple[str, int | None]] = set()
    for line in existing:
        in_use.update(
            {("service", line.service_id), ("tax", line.tax_1_id), ("tax", line.tax_2_id)}
        )
    line_errors = [_line_errors(agency, data, in_use) for data in lines]
    if any(line_errors):
        raise LinesInvalid(line_errors)
    totals = document_totals(
        lines, currency=client.currency, rounding=agency.tax_rounding, tax_exempt=client.tax_exempt
    )
    totals_check(totals, client.currency)
    return totals


def totals_check(totals: DocumentTotals, currency: str) -> None:
    """Raise LinesInvalid when the lines come to more than a document may post: deals,
    drafts, issuing and sending all refuse such lines with the same messages."""
    try:
        totals_validate(totals, currency)
    except AmountTooLarge as error:
        message = f"{capfirst(error.message)}."
        line_errors: list[dict[str, str]] = [{} for _ in totals.lines]
        if error.line is None:
            raise LinesInvalid(line_errors, [message]) from None
        line_errors[error.line] = {error.field: message}
        raise LinesInvalid(line_errors) from None


def _field_errors(data: LineData) -> dict[str, str]:
    """The stored line's own field rules (validators, choices, lengths), each naming its
    field: the same rules as table constraints would only report "__all__"."""
    values = data.fields() | {"discount_value": data.discount_value}
    errors: dict[str, str] = {}
    for model_field in PricedLine._meta.fields:
        if model_field.is_relation or model_field.name not in values:
            continue
        value = values[model_field.name]
        if model_field.blank and value in model_field.empty_values:
            continue
        try:
            model_field.clean(value, None)
        except ValidationError as exc:
            errors[model_field.name] = " ".join(exc.messages)
    return errors


def _line_errors(
    agency: Agency, data: LineData, in_use: set[tuple[str, int | None]]
) -> dict[str, str]:
    errors: dict[str, str] = {}
    if data.service is not None:
        if data.service.agency_id != agency.pk:
            errors["service"] = "Choose a service of your agency."
        elif not data.service.is_active and ("service", data.service.pk) not in in_use:
            errors["service"] = f"“{data.service.name}” is archived and cannot be added."
    for tax in data.taxes:
        if tax.agency_id != agency.pk:
            errors["taxes"] = "Choose tax rates of your agency."
        elif not tax.is_active and ("tax", tax.pk) not in in_use:
            errors["taxes"] = f"The tax rate “{tax.name}” is archived."
    if not data.description.strip():
        errors["description"] = "Enter a description."
    for name, message in _field_errors(data).items():
        errors.setdefault(name, message)
    if not errors:
        try:
            line_validate(line_input(data))
        except CalculationError as exc:
            name, _, message = str(exc).partition(": ")
            errors.setdefault(name if message else "__all__", message or str(exc))
    return errors
