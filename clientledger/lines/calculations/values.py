"""The engine's inputs and results (immutable value types), its errors and its bounds."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Literal

from clientledger.lines.choices import DiscountKind

RoundingMode = Literal["line", "document"]

ROUNDING_MODES: tuple[RoundingMode, ...] = ("line", "document")
MAX_TAXES_PER_LINE = 2

# Upper bound for quantity, unit price and a fixed discount: far above any real invoice
# (even in VND or IDR), and it stops inputs like Decimal("1E+999999999") from making
# quantize() allocate gigabytes. What the lines come to is bounded by totals_validate().
MAX_INPUT = Decimal("1E+15")


class Problem(StrEnum):
    """What is wrong with an input, for callers that word a rule their own way (a form's
    message for a discount over 100%) while the rule itself stays here."""

    INVALID = "invalid"
    PERCENT_OUT_OF_RANGE = "percent_out_of_range"
    DISCOUNT_WITHOUT_KIND = "discount_without_kind"


class CalculationError(ValueError):
    """Invalid calculation input; `field` names the offending input, e.g. "quantity"."""

    def __init__(self, field: str, message: str, code: Problem = Problem.INVALID) -> None:
        # Every part in args so the exception survives pickling (task queues do that).
        super().__init__(field, message, code)
        self.field = field
        self.message = message
        self.code = code

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class AmountTooLarge(CalculationError):
    """Lines that come to more than a document may post (see `totals_validate`).

    `line` is the index of the line at fault; None when the lines only together are too much
    (then `field` is "lines").
    """

    def __init__(self, field: str, message: str, line: int | None = None) -> None:
        super().__init__(field, message)
        self.args = (field, message, line)
        self.line = line


@dataclass(frozen=True, slots=True)
class TaxSpec:
    """One tax rate as applied to a line; `key` identifies it across lines."""

    key: str
    name: str
    percent: Decimal
    is_compound: bool = False
    is_inclusive: bool = False


@dataclass(frozen=True, slots=True)
class LineInput:
    """One document line as entered (prices exclude or include tax per its taxes)."""

    quantity: Decimal
    unit_price: Decimal
    discount_kind: DiscountKind | None = None
    discount_value: Decimal = Decimal(0)
    taxes: tuple[TaxSpec, ...] = ()


@dataclass(frozen=True, slots=True)
class TaxAmount:
    """One tax on one line: the amount it applies to and the tax itself."""

    tax: TaxSpec
    base: Decimal
    amount: Decimal


@dataclass(frozen=True, slots=True)
class LineResult:
    """A calculated line; `gross - discount` is `net` (exclusive) or `total` (inclusive)."""

    gross: Decimal
    discount: Decimal
    net: Decimal
    taxes: tuple[TaxAmount, ...]
    tax_total: Decimal
    total: Decimal


@dataclass(frozen=True, slots=True)
class TaxBreakdown:
    """One row of a document's tax summary (one per tax key)."""

    tax: TaxSpec
    base: Decimal
    amount: Decimal


@dataclass(frozen=True, slots=True)
class DocumentTotals:
    """A calculated document: `subtotal + tax_total == total` always."""

    lines: tuple[LineResult, ...]
    subtotal: Decimal
    discount_total: Decimal
    tax_total: Decimal
    total: Decimal
    tax_breakdown: tuple[TaxBreakdown, ...]
