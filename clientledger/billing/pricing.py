"""Adapters from stored lines (deal, estimate, invoice lines) to the pure money engine."""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Protocol

from clientledger.billing.calculations import (
    CalculationError,
    DocumentTotals,
    LineInput,
    RoundingMode,
    TaxSpec,
    calculate_document,
)
from clientledger.catalog.models import TaxRate


class PricedLine(Protocol):
    quantity: Decimal
    unit_price: Decimal
    discount_kind: str
    discount_value: Decimal

    @property
    def taxes(self) -> list[TaxRate]: ...


def tax_spec(tax: TaxRate) -> TaxSpec:
    return TaxSpec(
        key=str(tax.pk),
        name=tax.name,
        percent=tax.percent,
        is_compound=tax.is_compound,
        is_inclusive=tax.is_inclusive,
    )


def line_input(line: PricedLine, *, tax_exempt: bool = False) -> LineInput:
    return LineInput(
        quantity=line.quantity,
        unit_price=line.unit_price,
        discount_kind=line.discount_kind or None,  # type: ignore[arg-type]
        discount_value=line.discount_value,
        taxes=() if tax_exempt else tuple(tax_spec(tax) for tax in line.taxes),
    )


def document_totals(
    lines: Iterable[PricedLine], *, currency: str, rounding: str, tax_exempt: bool = False
) -> DocumentTotals:
    mode: RoundingMode = "document" if rounding == "document" else "line"
    return calculate_document(
        [line_input(line, tax_exempt=tax_exempt) for line in lines], currency, rounding=mode
    )


_LINE_FIELD = re.compile(r"lines\[(\d+)\]")


def pricing_problem(error: CalculationError) -> str:
    """Why a set of lines cannot be priced, as people count lines: "line 2: <the reason>"."""
    position = _LINE_FIELD.match(error.field)
    if position is None:
        return error.message
    return f"line {int(position.group(1)) + 1}: {error.message}"
