"""Priced lines shared by deals, estimates and invoices: input, validation, stored fields."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.text import capfirst

from clientledger.accounts.models import Agency
from clientledger.billing.calculations import (
    AmountTooLarge,
    CalculationError,
    DocumentTotals,
    line_validate,
    totals_validate,
)
from clientledger.billing.pricing import document_totals, line_input
from clientledger.catalog.models import Service, TaxRate
from clientledger.crm.models import Client, DealLine, PricedLine


@dataclass
class LineData:
    description: str
    quantity: Decimal
    unit_price: Decimal
    unit: str = "hour"
    service: Service | None = None
    discount_kind: str = ""
    discount_value: Decimal = Decimal(0)
    taxes: list[TaxRate] = field(default_factory=list)
    recurrence: str = "one_off"

    @classmethod
    def from_line(cls, line: PricedLine) -> LineData:
        """The editable data of a stored line (copying a deal's lines onto an estimate...)."""
        return cls(
            description=line.description,
            quantity=line.quantity,
            unit_price=line.unit_price,
            unit=line.unit,
            service=line.service,
            discount_kind=line.discount_kind,
            discount_value=line.discount_value,
            taxes=line.taxes,
            recurrence=line.recurrence,
        )

    def fields(self) -> dict[str, Any]:
        """Keyword arguments for a PricedLine model."""
        return {
            "service": self.service,
            "description": self.description.strip(),
            "quantity": self.quantity,
            "unit": self.unit,
            "unit_price": self.unit_price,
            "discount_kind": self.discount_kind,
            "discount_value": self.discount_value if self.discount_kind else Decimal(0),
            "tax_1": self.taxes[0] if self.taxes else None,
            "tax_2": self.taxes[1] if len(self.taxes) > 1 else None,
            "recurrence": self.recurrence,
        }


class LinesInvalid(ValidationError):
    """Per-line errors: `line_errors[i]` maps field names to messages for line i;
    `total_errors` are about the lines as a whole (reported as "lines")."""

    def __init__(self, line_errors: list[dict[str, str]], total_errors: Sequence[str] = ()) -> None:
        self.line_errors = line_errors
        self.total_errors = list(total_errors)
        flat = {
            f"lines[{index}].{name}": message
            for index, errors in enumerate(line_errors)
            for name, message in errors.items()
        }
        if self.total_errors:
            flat["lines"] = " ".join(self.total_errors)
        super().__init__(flat)


def lines_validate(
    *, agency: Agency, client: Client, lines: list[LineData], existing: Iterable[PricedLine]
) -> None:
    """Raise LinesInvalid unless every line is valid and together they stay within the
    posting bound in the client's currency; archived services and taxes may stay on the
    document that already has them (`existing`) but not be added anywhere new."""
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
    # Any concrete line model checks the shared field rules; DealLine is the simplest one.
    line = DealLine(
        agency=agency,
        **{k: v for k, v in data.fields().items() if k not in ("service", "tax_1", "tax_2")},
    )
    line.discount_value = data.discount_value
    try:
        # The field validators and the money engine below name the field; the same rules as
        # table constraints would only report "__all__".
        line.full_clean(
            exclude=["deal", "agency", "service", "tax_1", "tax_2", "position"],
            validate_constraints=False,
        )
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            errors.setdefault(name, " ".join(messages))
    if not errors:
        try:
            line_validate(line_input(data))
        except CalculationError as exc:
            name, _, message = str(exc).partition(": ")
            errors.setdefault(name if message else "__all__", message or str(exc))
    return errors
