"""Adapters from lines (stored deal, estimate and invoice lines, or edited ones) to the pure
money engine."""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Protocol

from clientledger.catalog.models import TaxRate
from clientledger.core.money import format_money, from_minor
from clientledger.lines.calculations.document_totals import calculate_document
from clientledger.lines.calculations.values import (
    CalculationError,
    DocumentTotals,
    LineInput,
    RoundingMode,
    TaxSpec,
)
from clientledger.lines.choices import RECURRENCE_PERIODS


class PriceableLine(Protocol):
    """What the money engine needs of a line: a stored one (see models.PricedLine) or the
    data of one being edited (data.LineData)."""

    quantity: Decimal
    unit_price: Decimal
    discount_kind: str
    discount_value: Decimal
    recurrence: str

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


def line_input(line: PriceableLine, *, tax_exempt: bool = False) -> LineInput:
    return LineInput(
        quantity=line.quantity,
        unit_price=line.unit_price,
        discount_kind=line.discount_kind or None,  # type: ignore[arg-type]
        discount_value=line.discount_value,
        taxes=() if tax_exempt else tuple(tax_spec(tax) for tax in line.taxes),
    )


def document_totals(
    lines: Iterable[PriceableLine], *, currency: str, rounding: str, tax_exempt: bool = False
) -> DocumentTotals:
    return inputs_totals(
        [line_input(line, tax_exempt=tax_exempt) for line in lines],
        currency=currency,
        rounding=rounding,
    )


def inputs_totals(inputs: list[LineInput], *, currency: str, rounding: str) -> DocumentTotals:
    """The totals of lines already turned into the engine's inputs (`line_input`)."""
    mode: RoundingMode = "document" if rounding == "document" else "line"
    return calculate_document(inputs, currency, rounding=mode)


_LINE_FIELD = re.compile(r"lines\[(\d+)\]")


def pricing_problem(error: CalculationError) -> str:
    """Why a set of lines cannot be priced, as people count lines: "line 2: <the reason>"."""
    position = _LINE_FIELD.match(error.field)
    if position is None:
        return error.message
    return f"line {int(position.group(1)) + 1}: {error.message}"


class StoredAmount(Protocol):
    """A document's stored line: its net amount in minor units and what period it recurs."""

    @property
    def net_minor(self) -> int: ...

    @property
    def period(self) -> str: ...


def recurring_amounts(lines: Iterable[StoredAmount], currency: str) -> list[str]:
    """What a document bills again every period, as its email states it: the amounts of its
    recurring lines added up per period ("$650.00 / month"), shortest period first."""
    per_period: dict[str, int] = {}
    for line in lines:
        if line.period:
            per_period[line.period] = per_period.get(line.period, 0) + line.net_minor
    return [
        f"{format_money(from_minor(per_period[period], currency), currency)} / {period}"
        for period in RECURRENCE_PERIODS.values()
        if period in per_period
    ]
