"""A line as entered (the editor's row, an API line, a copied line) and the errors about lines."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError

from clientledger.catalog.models import Service, TaxRate
from clientledger.lines.models import PricedLine


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
