"""A document's totals and per-tax breakdown, in line or document rounding."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal, localcontext

from clientledger.core.money import from_minor, quantize, to_minor
from clientledger.lines.calculations.exact import EXACT, allocate, decimal_sum
from clientledger.lines.calculations.line_totals import RawLine, line_result, raw_line
from clientledger.lines.calculations.rules import document_lines_validate
from clientledger.lines.calculations.taxes import (
    exclusive_taxes_raw,
    inclusive_tax_amounts,
    tax_items,
)
from clientledger.lines.calculations.values import (
    DocumentTotals,
    LineInput,
    LineResult,
    RoundingMode,
    TaxBreakdown,
    TaxSpec,
)

_ZERO = Decimal(0)


class _Breakdown:
    """Per-key accumulator, in order of first appearance."""

    def __init__(self, zero: Decimal) -> None:
        self.zero = zero
        self.specs: dict[str, TaxSpec] = {}
        self.base: dict[str, Decimal] = {}
        self.amount: dict[str, Decimal] = {}

    def register(self, tax: TaxSpec) -> None:
        if tax.key not in self.specs:
            self.specs[tax.key] = tax
            self.base[tax.key] = self.zero
            self.amount[tax.key] = self.zero

    def add(self, tax: TaxSpec, base: Decimal, amount: Decimal) -> None:
        self.base[tax.key] += base
        self.amount[tax.key] += amount

    def rows(self) -> tuple[TaxBreakdown, ...]:
        return tuple(
            TaxBreakdown(tax=spec, base=self.base[key], amount=self.amount[key])
            for key, spec in self.specs.items()
        )


def calculate_document(
    lines: Sequence[LineInput], currency: str, *, rounding: RoundingMode = "line"
) -> DocumentTotals:
    """Totals and per-tax breakdown of a document's lines.

    "line": every line's net and tax amounts are rounded, the document adds them up.
    "document": each tax is computed once per document from the unrounded line figures
    and rounded once; inclusive lines share out the document's net so that the total still
    equals the sum of the inclusive line amounts. In both modes
    `subtotal + tax_total == total`, `sum(line.net) == subtotal` and the breakdown adds up
    to `tax_total`.
    """
    lines = tuple(lines)
    document_lines_validate(lines, rounding)
    zero = from_minor(0, currency)  # also raises UnknownCurrency early
    with localcontext(EXACT):
        raws = [raw_line(line) for line in lines]
        breakdown = _Breakdown(zero)
        for line in lines:
            for tax in line.taxes:
                breakdown.register(tax)
        if rounding == "line":
            results = [line_result(raw, currency, "line") for raw in raws]
            for result in results:
                for item in result.taxes:
                    breakdown.add(item.tax, item.base, item.amount)
        else:
            results = _document_rounded(raws, currency, breakdown)

        subtotal = decimal_sum((result.net for result in results), zero)
        tax_total = decimal_sum(breakdown.amount.values(), zero)
        return DocumentTotals(
            lines=tuple(results),
            subtotal=subtotal,
            discount_total=decimal_sum((result.discount for result in results), zero),
            tax_total=tax_total,
            total=subtotal + tax_total,
            tax_breakdown=breakdown.rows(),
        )


def _document_rounded(
    raws: list[RawLine], currency: str, breakdown: _Breakdown
) -> list[LineResult]:
    """Line results for document rounding; fills `breakdown` with once-rounded taxes."""
    results = [line_result(raw, currency, "document") for raw in raws]

    # Exclusive taxes: sum the unrounded amounts per key and round once; the base is the
    # subtotal the lines show.
    base: dict[str, Decimal] = {}
    raw_amount: dict[str, Decimal] = {}
    for raw, result in zip(raws, results, strict=True):
        if raw.inclusive:
            continue
        for item, amount in zip(
            result.taxes, exclusive_taxes_raw(raw.discounted, raw.line.taxes), strict=True
        ):
            key = item.tax.key
            base[key] = base.get(key, breakdown.zero) + item.base
            raw_amount[key] = raw_amount.get(key, _ZERO) + amount
    for key, amount in raw_amount.items():
        breakdown.add(breakdown.specs[key], base[key], quantize(amount, currency))

    # Inclusive taxes: lines with the same taxes form a group whose summed inclusive amount
    # is taxed once; the group's net and taxes are then shared out over its lines.
    groups: dict[tuple[TaxSpec, ...], list[int]] = {}
    for index, raw in enumerate(raws):
        if raw.inclusive:
            groups.setdefault(raw.line.taxes, []).append(index)
    for taxes, indexes in groups.items():
        inclusive = [to_minor(results[index].total, currency) for index in indexes]
        group_inclusive = from_minor(sum(inclusive), currency)
        group_taxes = inclusive_tax_amounts(group_inclusive, taxes, currency)
        group_net = group_inclusive - decimal_sum(group_taxes, breakdown.zero)
        for item in tax_items(group_net, taxes, group_taxes):
            breakdown.add(item.tax, item.base, item.amount)
        line_taxes = _share_inclusive(
            to_minor(group_net, currency),
            [to_minor(amount, currency) for amount in group_taxes],
            inclusive,
        )
        for index, amounts in zip(indexes, line_taxes, strict=True):
            results[index] = line_result(
                raws[index],
                currency,
                "document",
                inclusive_taxes=[from_minor(amount, currency) for amount in amounts],
            )
    return results


def _share_inclusive(net: int, taxes: Sequence[int], inclusive: Sequence[int]) -> list[list[int]]:
    """Each line's taxes (minor units) when a group of inclusive lines was taxed as a whole.

    The group's net is shared out in proportion to the lines' inclusive amounts, so no line
    gets more net than it has; the rest of each line is its tax. The first tax is shared out
    in proportion to those line taxes (never more than a line's tax) and the second takes
    each line's rest, so each tax's shares add up to the group's amount of it.
    """
    nets = allocate(net, inclusive)
    line_tax = [amount - share for amount, share in zip(inclusive, nets, strict=True)]
    if len(taxes) == 1:
        return [[amount] for amount in line_tax]
    firsts = allocate(taxes[0], line_tax)
    return [[first, amount - first] for first, amount in zip(firsts, line_tax, strict=True)]
