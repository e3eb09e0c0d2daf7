"""Line and document totals: discounts, taxes and rounding, in pure Decimal maths.

No ORM here: callers turn stored lines into `LineInput` (see `lines/pricing.py`) and get
back immutable results whose amounts all carry exactly the currency's digits.

Arithmetic runs in an exact Decimal context (additions and multiplications never round),
the only divisions (extracting inclusive taxes) are done on exact integer ratios, and every
rounding is an explicit ROUND_HALF_UP to the currency's digits at a documented point. So the
results never depend on the caller's Decimal context, and `subtotal + tax_total == total`
holds to the minor unit in both rounding modes.

Where rounding leaves a remainder:

- Exclusive prices: each tax is rounded half up on the rounded net (per line), or once per
  document on the unrounded nets (document rounding).
- Inclusive prices: each tax contained in the price is rounded half up on its own and the
  net is the rest, so the printed tax never rounds half down (GBP 9.99 with 20% VAT is
  1.67 VAT) and two taxes at one rate get equal amounts.
- Document rounding of inclusive prices: the taxes of all lines with the same taxes are
  rounded once; the resulting net is shared out over those lines in proportion to their
  amounts, then each line's tax over its taxes in proportion to the document's tax amounts
  (largest remainder, ties to the earlier line), so an odd minor unit that cannot be halved
  goes to one of two equal taxes on a line while the document shows them equal.
- A tax breakdown row's base is the sum of the bases the lines carrying that tax show
  (their subtotal, plus their first tax for a compound tax).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import (
    MAX_EMAX,
    MAX_PREC,
    MIN_EMIN,
    Context,
    Decimal,
    DivisionByZero,
    Inexact,
    InvalidOperation,
    Overflow,
    localcontext,
)
from enum import StrEnum
from typing import Literal

from clientledger.core.money import (
    currency_digits,
    format_money,
    from_minor,
    max_amount,
    quantize,
    to_minor,
)
from clientledger.lines.choices import DiscountKind

__all__ = [
    "MAX_INPUT",
    "AmountTooLarge",
    "CalculationError",
    "DiscountKind",
    "DocumentTotals",
    "LineInput",
    "LineResult",
    "Problem",
    "RoundingMode",
    "TaxAmount",
    "TaxBreakdown",
    "TaxSpec",
    "calculate_document",
    "calculate_line",
    "discount_validate",
    "line_validate",
    "totals_validate",
]

RoundingMode = Literal["line", "document"]

ROUNDING_MODES: tuple[RoundingMode, ...] = ("line", "document")
MAX_TAXES_PER_LINE = 2

# Upper bound for quantity, unit price and a fixed discount: far above any real invoice
# (even in VND or IDR), and it stops inputs like Decimal("1E+999999999") from making
# quantize() allocate gigabytes. What the lines come to is bounded by totals_validate().
MAX_INPUT = Decimal("1E+15")

_ZERO = Decimal(0)
_ONE = Decimal(1)
_HUNDRED = Decimal(100)

# Exact arithmetic (the decimal module's documented recipe): with unlimited precision,
# + and * never round. There is no Decimal division in this module (an inexact one would
# raise MemoryError here); see _div_round.
_EXACT = Context(
    prec=MAX_PREC,
    Emax=MAX_EMAX,
    Emin=MIN_EMIN,
    traps=[InvalidOperation, DivisionByZero, Overflow, Inexact],
)


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
    discount_value: Decimal = _ZERO
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


# --- validation ------------------------------------------------------------------------


def _number(value: object, field: str) -> Decimal:
    # Allow-list instead of naming the float type: Decimal and int only (not bool).
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise CalculationError(field, "must be a finite number")
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    raise TypeError(f"{field}: expected Decimal or int, got {type(value).__name__}")


def line_validate(line: LineInput) -> None:
    """Raise `CalculationError("<field>: <problem>")` for the first invalid input of a line."""
    if not isinstance(line, LineInput):
        raise TypeError(f"expected LineInput, got {type(line).__name__}")

    quantity = _number(line.quantity, "quantity")
    if quantity <= 0:
        raise CalculationError("quantity", "must be greater than zero")
    if quantity >= MAX_INPUT:
        raise CalculationError("quantity", f"must be less than {MAX_INPUT:,f}")

    unit_price = _number(line.unit_price, "unit_price")
    if unit_price < 0:
        raise CalculationError("unit_price", "must not be negative")
    if unit_price >= MAX_INPUT:
        raise CalculationError("unit_price", f"must be less than {MAX_INPUT:,f}")

    discount_validate(line.discount_kind, line.discount_value)
    _validate_taxes(line.taxes)


def discount_validate(kind: str | None, value: Decimal | int) -> None:
    """Raise CalculationError unless `value` fits the discount `kind` (None for no discount):
    the one home of the discount rules, which forms and the API also check field by field."""
    value = _number(value, "discount_value")
    if kind is None:
        # A value without a kind would be silently ignored; refuse it instead.
        if value != 0:
            raise CalculationError(
                "discount_value",
                "choose a discount type or leave it at 0",
                Problem.DISCOUNT_WITHOUT_KIND,
            )
    elif kind == DiscountKind.PERCENT:
        if not 0 <= value <= _HUNDRED:
            raise CalculationError(
                "discount_value",
                "a percentage must be between 0 and 100",
                Problem.PERCENT_OUT_OF_RANGE,
            )
    elif kind == DiscountKind.AMOUNT:
        if value < 0:
            raise CalculationError("discount_value", "must not be negative")
        if value >= MAX_INPUT:
            raise CalculationError("discount_value", f"must be less than {MAX_INPUT:,f}")
    else:
        raise CalculationError("discount_kind", "must be 'percent', 'amount' or empty")


def _validate_taxes(taxes: tuple[TaxSpec, ...]) -> None:
    if not isinstance(taxes, tuple):
        raise TypeError(f"taxes: expected a tuple of TaxSpec, got {type(taxes).__name__}")
    for tax in taxes:
        if not isinstance(tax, TaxSpec):
            raise TypeError(f"taxes: expected TaxSpec, got {type(tax).__name__}")
    if len(taxes) > MAX_TAXES_PER_LINE:
        raise CalculationError("taxes", f"a line can carry at most {MAX_TAXES_PER_LINE} taxes")
    for position, tax in enumerate(taxes):
        percent = _number(tax.percent, "taxes")
        if not 0 <= percent <= _HUNDRED:
            raise CalculationError("taxes", f"{tax.name}: the rate must be between 0 and 100")
        if tax.is_compound and position == 0:
            raise CalculationError(
                "taxes", f"{tax.name} is compound, so it can only be the second tax of a line"
            )
    if len(taxes) == 2:
        first, second = taxes
        if first.key == second.key:
            raise CalculationError("taxes", f"{first.name} is applied twice")
        if first.is_inclusive != second.is_inclusive:
            raise CalculationError(
                "taxes", "inclusive and exclusive taxes cannot be mixed on one line"
            )


def _validate_rounding(rounding: str) -> None:
    if rounding not in ROUNDING_MODES:
        raise CalculationError("rounding", "must be 'line' or 'document'")


# --- exact helpers -----------------------------------------------------------------------


def _rate(tax: TaxSpec) -> Decimal:
    return Decimal(tax.percent).scaleb(-2)  # percent -> fraction by moving the exponent, exactly


def _div_round(numerator: Decimal, denominator: Decimal, currency: str) -> Decimal:
    """numerator / denominator (both >= 0) rounded half up to the currency, exactly."""
    # Decimal division would round at the context precision first and could then land on a
    # false half-way point; integer ratios make the one rounding exact.
    n_num, n_den = numerator.as_integer_ratio()
    d_num, d_den = denominator.as_integer_ratio()
    top = n_num * d_den * 10 ** currency_digits(currency)
    bottom = n_den * d_num
    quotient, remainder = divmod(top, bottom)
    if 2 * remainder >= bottom:
        quotient += 1
    return from_minor(quotient, currency)


def _allocate(total: int, weights: Sequence[int]) -> list[int]:
    """Split `total` into integers proportional to `weights` (largest remainder method)."""
    weight_sum = sum(weights)
    if weight_sum == 0:
        return [0] * len(weights)
    shares = [divmod(total * weight, weight_sum) for weight in weights]
    parts = [share for share, _ in shares]
    leftover = total - sum(parts)
    # Ties go to the earlier line so the result is deterministic.
    by_remainder = sorted(range(len(weights)), key=lambda index: (-shares[index][1], index))
    for index in by_remainder[:leftover]:
        parts[index] += 1
    return parts


def _sum(values: Iterable[Decimal], zero: Decimal) -> Decimal:
    return sum(values, start=zero)


def _inclusive_shares(taxes: tuple[TaxSpec, ...]) -> tuple[tuple[Decimal, Decimal], ...]:
    """Each tax's exact share of a tax-inclusive amount, as (numerator, denominator)."""
    if len(taxes) == 1:
        rate = _rate(taxes[0])
        return ((rate, _ONE + rate),)
    first, second = (_rate(tax) for tax in taxes)
    if taxes[1].is_compound:
        # The compound tax is second * (net + first tax), and net + first tax is the
        # inclusive amount divided by (1 + second).
        return ((first, (_ONE + first) * (_ONE + second)), (second, _ONE + second))
    divisor = _ONE + first + second
    return ((first, divisor), (second, divisor))


def _inclusive_tax_amounts(
    inclusive: Decimal, taxes: tuple[TaxSpec, ...], currency: str
) -> tuple[Decimal, ...]:
    """The taxes contained in `inclusive`, each rounded half up on its own.

    Their sum never exceeds `inclusive`: their exact sum is less than `inclusive` (the net
    is more than nothing) and rounding adds at most one minor unit to it.
    """
    return tuple(
        _div_round(inclusive * numerator, denominator, currency)
        for numerator, denominator in _inclusive_shares(taxes)
    )


def _tax_items(
    net: Decimal, taxes: tuple[TaxSpec, ...], amounts: Sequence[Decimal]
) -> tuple[TaxAmount, ...]:
    """The line's taxes with their bases: the net, plus the first tax for a compound tax."""
    return tuple(
        TaxAmount(tax=tax, base=net + amounts[0] if tax.is_compound else net, amount=amount)
        for tax, amount in zip(taxes, amounts, strict=True)
    )


# --- one line --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Raw:
    """A line before any rounding; `discounted` includes tax when the taxes are inclusive."""

    line: LineInput
    gross: Decimal
    discounted: Decimal

    @property
    def inclusive(self) -> bool:
        return bool(self.line.taxes) and self.line.taxes[0].is_inclusive


def _raw(line: LineInput) -> _Raw:
    # Decimal() because validation also accepts ints (exact, so harmless).
    gross = Decimal(line.quantity) * Decimal(line.unit_price)
    if line.discount_kind == DiscountKind.PERCENT:
        discount = gross * Decimal(line.discount_value).scaleb(-2)
    elif line.discount_kind == DiscountKind.AMOUNT:
        # A fixed discount larger than the line only brings the line to zero.
        discount = min(Decimal(line.discount_value), gross)
    else:
        discount = _ZERO
    return _Raw(line=line, gross=gross, discounted=gross - discount)


def _exclusive_tax_amounts(
    net: Decimal, taxes: tuple[TaxSpec, ...], currency: str
) -> tuple[Decimal, ...]:
    """Taxes on a rounded net, each rounded (a compound tax sees the rounded first tax)."""
    amounts: list[Decimal] = []
    for tax in taxes:
        base = net + amounts[0] if tax.is_compound else net
        amounts.append(quantize(base * _rate(tax), currency))
    return tuple(amounts)


def _exclusive_taxes_raw(net: Decimal, taxes: tuple[TaxSpec, ...]) -> tuple[Decimal, ...]:
    """Unrounded taxes on an unrounded net (document rounding)."""
    amounts: list[Decimal] = []
    for tax in taxes:
        base = net + amounts[0] if tax.is_compound else net
        amounts.append(base * _rate(tax))
    return tuple(amounts)


def _line_result(
    raw: _Raw,
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
            inclusive_taxes = _inclusive_tax_amounts(discounted, taxes, currency)
        amounts = tuple(inclusive_taxes)
        net = discounted - _sum(amounts, from_minor(0, currency))
    elif rounding == "line" or not taxes:
        net = discounted
        amounts = _exclusive_tax_amounts(net, taxes, currency)
    else:
        # Document rounding: the document's tax is computed from the unrounded figures;
        # the line only shows each of them rounded.
        net = discounted
        amounts = tuple(
            quantize(amount, currency) for amount in _exclusive_taxes_raw(raw.discounted, taxes)
        )
    tax_items = _tax_items(net, taxes, amounts)
    tax_total = _sum(amounts, from_minor(0, currency))
    return LineResult(
        gross=gross,
        discount=gross - discounted,
        net=net,
        taxes=tax_items,
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
    _validate_rounding(rounding)
    currency_digits(currency)  # raises UnknownCurrency early
    with localcontext(_EXACT):
        return _line_result(_raw(line), currency, rounding)


# --- a document ------------------------------------------------------------------------


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


def _validate_document(lines: Sequence[LineInput], rounding: str) -> None:
    _validate_rounding(rounding)
    seen: dict[str, TaxSpec] = {}
    for index, line in enumerate(lines):
        try:
            line_validate(line)
        except CalculationError as error:
            raise CalculationError(
                f"lines[{index}].{error.field}", error.message, error.code
            ) from None
        for tax in line.taxes:
            known = seen.setdefault(tax.key, tax)
            if known != tax:
                # The breakdown groups by key; one key with two rates would be meaningless.
                raise CalculationError(
                    f"lines[{index}].taxes",
                    f"tax {tax.key!r} differs from the one used on an earlier line",
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
    _validate_document(lines, rounding)
    zero = from_minor(0, currency)  # also raises UnknownCurrency early
    with localcontext(_EXACT):
        raws = [_raw(line) for line in lines]
        breakdown = _Breakdown(zero)
        for line in lines:
            for tax in line.taxes:
                breakdown.register(tax)
        if rounding == "line":
            results = [_line_result(raw, currency, "line") for raw in raws]
            for result in results:
                for item in result.taxes:
                    breakdown.add(item.tax, item.base, item.amount)
        else:
            results = _document_rounded(raws, currency, breakdown)

        subtotal = _sum((result.net for result in results), zero)
        tax_total = _sum(breakdown.amount.values(), zero)
        return DocumentTotals(
            lines=tuple(results),
            subtotal=subtotal,
            discount_total=_sum((result.discount for result in results), zero),
            tax_total=tax_total,
            total=subtotal + tax_total,
            tax_breakdown=breakdown.rows(),
        )


def totals_validate(totals: DocumentTotals, currency: str) -> None:
    """Raise `AmountTooLarge` unless the lines stay below the posting bound
    (`core.money.MAX_AMOUNT_MINOR`) before discounts and with taxes.

    Every amount stored from `totals` (a line's net, tax and total, the document's subtotal,
    discount, tax and total) is then below it too. Not part of `calculate_document`: saved
    lines beyond the bound can still be shown, only no longer saved, issued or sent.
    """
    limit = max_amount(currency)
    shown = format_money(limit, currency)
    for index, line in enumerate(totals.lines):
        amount = line.total + line.discount
        if amount >= limit:
            raise AmountTooLarge(
                "unit_price",
                f"this line comes to {format_money(amount, currency)}; "
                f"a line must stay below {shown}",
                line=index,
            )
    amount = totals.total + totals.discount_total
    if amount >= limit:
        raise AmountTooLarge(
            "lines",
            f"the lines come to {format_money(amount, currency)}; a document must stay below "
            f"{shown}, so split them over several documents",
        )


def _document_rounded(raws: list[_Raw], currency: str, breakdown: _Breakdown) -> list[LineResult]:
    """Line results for document rounding; fills `breakdown` with once-rounded taxes."""
    results = [_line_result(raw, currency, "document") for raw in raws]

    # Exclusive taxes: sum the unrounded amounts per key and round once; the base is the
    # subtotal the lines show.
    base: dict[str, Decimal] = {}
    raw_amount: dict[str, Decimal] = {}
    for raw, result in zip(raws, results, strict=True):
        if raw.inclusive:
            continue
        for item, amount in zip(
            result.taxes, _exclusive_taxes_raw(raw.discounted, raw.line.taxes), strict=True
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
        group_taxes = _inclusive_tax_amounts(group_inclusive, taxes, currency)
        group_net = group_inclusive - _sum(group_taxes, breakdown.zero)
        for item in _tax_items(group_net, taxes, group_taxes):
            breakdown.add(item.tax, item.base, item.amount)
        line_taxes = _share_inclusive(
            to_minor(group_net, currency),
            [to_minor(amount, currency) for amount in group_taxes],
            inclusive,
        )
        for index, amounts in zip(indexes, line_taxes, strict=True):
            results[index] = _line_result(
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
    nets = _allocate(net, inclusive)
    line_tax = [amount - share for amount, share in zip(inclusive, nets, strict=True)]
    if len(taxes) == 1:
        return [[amount] for amount in line_tax]
    firsts = _allocate(taxes[0], line_tax)
    return [[first, amount - first] for first, amount in zip(firsts, line_tax, strict=True)]
