"""One line's totals: the unrounded figures, then each amount rounded to the currency."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, localcontext

from clientledger.core.money import currency_digits, from_minor, quantize
from clientledger.lines.calculations.exact import EXACT, decimal_sum
from clientledger.lines.calculations.rules import line_validate, rounding_validate
from clientledger.lines.calculations.taxes import (
    exclusive_tax_amounts,
    exclusive_taxes_raw,
    inclusive_tax_amounts,
    tax_items,
)
from clientledger.lines.calculations.values import LineInput, LineResult, RoundingMode
from clientledger.lines.choices import DiscountKind


@dataclass(frozen=True, slots=True)
class RawLine:
    """A line before any rounding; `discounted` includes tax when the taxes are inclusive."""

    line: LineInput
    gross: Decimal
    discounted: Decimal

    @property
    def inclusive(self) -> bool:
        return bool(self.line.taxes) and self.line.taxes[0].is_inclusive


def raw_line(line: LineInput) -> RawLine:
    # Decimal() because validation also accepts ints (exact, so harmless).
    gross = Decimal(line.quantity) * Decimal(line.unit_price)
    if line.discount_kind == DiscountKind.PERCENT:
        discount = gross * Decimal(line.discount_value).scaleb(-2)
    elif line.discount_kind == DiscountKind.AMOUNT:
        # A fixed discount larger than the line only brings the line to zero.
        discount = min(Decimal(line.discount_value), gross)
    else:
        discount = Decimal(0)
    return RawLine(line=line, gross=gross, discounted=gross - discount)


def line_result(
    raw: RawLine,
    currency: str,
    rounding: RoundingMode,
    inclusive_taxes: Sequence[Decimal] | None = None,
) -> LineResult:
    """Round one line; `inclusive_taxes` overrides the taxes an inclusive line works out on
    its own with its share of the document's (document rounding)."""
    gross = quantize(raw.gross, currency)
    discounted = quantize(raw.discounted, currency)
    taxes = raw.line.taxes
    if raw.inclusive:
        if inclusive_taxes is None:
            inclusive_taxes = inclusive_tax_amounts(discounted, taxes, currency)
        amounts = tuple(inclusive_taxes)
        net = discounted - decimal_sum(amounts, from_minor(0, currency))
    elif rounding == "line" or not taxes:
        net = discounted
        amounts = exclusive_tax_amounts(net, taxes, currency)
    else:
        # Document rounding: the document's tax is computed from the unrounded figures;
        # the line only shows each of them rounded.
        net = discounted
        amounts = tuple(
            quantize(amount, currency) for amount in exclusive_taxes_raw(raw.discounted, taxes)
        )
    items = tax_items(net, taxes, amounts)
    tax_total = decimal_sum(amounts, from_minor(0, currency))
    return LineResult(
        gross=gross,
        discount=gross - discounted,
        net=net,
        taxes=items,
        tax_total=tax_total,
        total=net + tax_total,
    )


def calculate_line(
    line: LineInput, currency: str, *, rounding: RoundingMode = "line"
) -> LineResult:
    """Totals of one line, rounded to the currency's digits.

    With `rounding="document"` this is the line as it appears in a one-line document.
    """
    line_validate(line)
    rounding_validate(rounding)
    currency_digits(currency)  # raises UnknownCurrency early
    with localcontext(EXACT):
        return line_result(raw_line(line), currency, rounding)
