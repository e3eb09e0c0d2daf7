"""Line and document totals: discounts, taxes and rounding, in pure Decimal maths.

No ORM here: callers turn stored lines into `LineInput` (see `billing/pricing.py`) and get
back immutable results whose amounts all carry exactly the currency's digits.

Arithmetic runs in an exact Decimal context (additions and multiplications never round),
the only divisions (extracting inclusive taxes) are done on exact integer ratios, and every
rounding is an explicit ROUND_HALF_UP to the currency's digits at a documented point. So the
results never depend on the caller's Decimal context, and `subtotal + tax_total == total`
holds to the minor unit in both rounding modes.
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
from typing import Literal

from clientledger.core.money import currency_digits, from_minor, quantize, to_minor

__all__ = [
    "MAX_INPUT",
    "CalculationError",
    "DiscountKind",
    "DocumentTotals",
    "LineInput",
    "LineResult",
    "RoundingMode",
    "TaxAmount",
    "TaxBreakdown",
    "TaxSpec",
    "calculate_document",
    "calculate_line",
    "line_validate",
]

RoundingMode = Literal["line", "document"]
DiscountKind = Literal["percent", "amount"]

ROUNDING_MODES: tuple[RoundingMode, ...] = ("line", "document")
DISCOUNT_KINDS: tuple[DiscountKind, ...] = ("percent", "amount")
MAX_TAXES_PER_LINE = 2

# Upper bound for quantity, unit price and a fixed discount: far above any real invoice
# (even in VND or IDR), and it stops inputs like Decimal("1E+999999999") from making
# quantize() allocate gigabytes. Whether a total fits a BigIntegerField is checked by
# to_minor() when it is stored.
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


class CalculationError(ValueError):
    """Invalid calculation input; `field` names the offending input, e.g. "quantity"."""

    def __init__(self, field: str, message: str) -> None:
        # Both parts in args so the exception survives pickling (task queues do that).
        super().__init__(field, message)
        self.field = field
        self.message = message

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


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

    kind = line.discount_kind
    value = _number(line.discount_value, "discount_value")
    if kind is None:
        # A value without a kind would be silently ignored; refuse it instead.
        if value != 0:
            raise CalculationError("discount_value", "choose a discount type or leave it at 0")
    elif kind == "percent":
        if not 0 <= value <= _HUNDRED:
            raise CalculationError("discount_value", "a percentage must be between 0 and 100")
    elif kind == "amount":
        if value < 0:
            raise CalculationError("discount_value", "must not be negative")
        if value >= MAX_INPUT:
            raise CalculationError("discount_value", f"must be less than {MAX_INPUT:,f}")
    else:
        raise CalculationError("discount_kind", "must be 'percent', 'amount' or empty")

    _validate_taxes(line.taxes)


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


def _inclusive_divisor(taxes: tuple[TaxSpec, ...]) -> Decimal:
    """What an inclusive amount is divided by to get the amount before tax."""
    if len(taxes) == 1:
        return _ONE + _rate(taxes[0])
    first, second = taxes
    if second.is_compound:
        return (_ONE + _rate(first)) * (_ONE + _rate(second))
    return _ONE + _rate(first) + _rate(second)


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
    if line.discount_kind == "percent":
        discount = gross * Decimal(line.discount_value).scaleb(-2)
    elif line.discount_kind == "amount":
        # A fixed discount larger than the line only brings the line to zero.
        discount = min(Decimal(line.discount_value), gross)
    else:
        discount = _ZERO
    return _Raw(line=line, gross=gross, discounted=gross - discount)


def _split_inclusive(
    inclusive: Decimal, net: Decimal, taxes: tuple[TaxSpec, ...], currency: str
) -> tuple[TaxAmount, ...]:
    """Split `inclusive - net` between the taxes so that net + taxes == inclusive exactly."""
    remaining = inclusive - net
    first = taxes[0]
    if len(taxes) == 1:
        return (TaxAmount(tax=first, base=net, amount=remaining),)
    second = taxes[1]
    # The first tax is rounded on its own (never above what is left); the last tax takes the
    # rest, so the split never loses or invents a minor unit.
    first_amount = min(
        _div_round(inclusive * _rate(first), _inclusive_divisor(taxes), currency), remaining
    )
    base = net + first_amount if second.is_compound else net
    return (
        TaxAmount(tax=first, base=net, amount=first_amount),
        TaxAmount(tax=second, base=base, amount=remaining - first_amount),
    )


def _exclusive_taxes(
    net: Decimal, taxes: tuple[TaxSpec, ...], currency: str
) -> tuple[TaxAmount, ...]:
    """Taxes on a rounded net, each rounded (a compound tax sees the rounded first tax)."""
    amounts: list[TaxAmount] = []
    first_amount = _ZERO
    for tax in taxes:
        base = net + first_amount if tax.is_compound else net
        amount = quantize(base * _rate(tax), currency)
        amounts.append(TaxAmount(tax=tax, base=base, amount=amount))
        first_amount = amount
    return tuple(amounts)


@dataclass(frozen=True, slots=True)
class _RawTax:
    tax: TaxSpec
    base: Decimal
    amount: Decimal


def _exclusive_taxes_raw(net: Decimal, taxes: tuple[TaxSpec, ...]) -> tuple[_RawTax, ...]:
    """Unrounded taxes on an unrounded net (document rounding)."""
    amounts: list[_RawTax] = []
    first_amount = _ZERO
    for tax in taxes:
        base = net + first_amount if tax.is_compound else net
        amount = base * _rate(tax)
        amounts.append(_RawTax(tax=tax, base=base, amount=amount))
        first_amount = amount
    return tuple(amounts)


def _line_result(
    raw: _Raw, currency: str, rounding: RoundingMode, net: Decimal | None = None
) -> LineResult:
    """Round one line; `net` overrides the extracted net of an inclusive line."""
    gross = quantize(raw.gross, currency)
    discounted = quantize(raw.discounted, currency)
    discount = gross - discounted
    taxes = raw.line.taxes
    if raw.inclusive:
        if net is None:
            net = _div_round(discounted, _inclusive_divisor(taxes), currency)
        amounts = _split_inclusive(discounted, net, taxes, currency)
    elif rounding == "line" or not taxes:
        net = discounted
        amounts = _exclusive_taxes(net, taxes, currency)
    else:
        # Document rounding: the document's tax is computed from the unrounded figures;
        # the line only shows each of them rounded.
        net = discounted
        amounts = tuple(
            TaxAmount(
                tax=item.tax,
                base=quantize(item.base, currency),
                amount=quantize(item.amount, currency),
            )
            for item in _exclusive_taxes_raw(raw.discounted, taxes)
        )
    tax_total = _sum((item.amount for item in amounts), from_minor(0, currency))
    return LineResult(
        gross=gross,
        discount=discount,
        net=net,
        taxes=amounts,
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
            raise CalculationError(f"lines[{index}].{error.field}", error.message) from None
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


def _document_rounded(raws: list[_Raw], currency: str, breakdown: _Breakdown) -> list[LineResult]:
    """Line results for document rounding; fills `breakdown` with once-rounded taxes."""
    results = [_line_result(raw, currency, "document") for raw in raws]

    # Exclusive taxes: sum the unrounded bases and amounts per key, round once.
    raw_base: dict[str, Decimal] = {}
    raw_amount: dict[str, Decimal] = {}
    for raw in raws:
        if raw.inclusive:
            continue
        for item in _exclusive_taxes_raw(raw.discounted, raw.line.taxes):
            raw_base[item.tax.key] = raw_base.get(item.tax.key, _ZERO) + item.base
            raw_amount[item.tax.key] = raw_amount.get(item.tax.key, _ZERO) + item.amount
    for key, amount in raw_amount.items():
        breakdown.add(
            breakdown.specs[key], quantize(raw_base[key], currency), quantize(amount, currency)
        )

    # Inclusive taxes: lines with the same taxes form a group whose summed inclusive amount
    # is split once; the group's net is then shared out over its lines so line nets still
    # add up to the subtotal and each line still totals its inclusive amount.
    groups: dict[tuple[TaxSpec, ...], list[int]] = {}
    for index, raw in enumerate(raws):
        if raw.inclusive:
            groups.setdefault(raw.line.taxes, []).append(index)
    for taxes, indexes in groups.items():
        inclusive = [results[index].gross - results[index].discount for index in indexes]
        group_inclusive = _sum(inclusive, breakdown.zero)
        group_net = _div_round(group_inclusive, _inclusive_divisor(taxes), currency)
        for tax_amount in _split_inclusive(group_inclusive, group_net, taxes, currency):
            breakdown.add(tax_amount.tax, tax_amount.base, tax_amount.amount)
        shares = _allocate(
            to_minor(group_net, currency), [to_minor(amount, currency) for amount in inclusive]
        )
        for index, share in zip(indexes, shares, strict=True):
            results[index] = _line_result(
                raws[index], currency, "document", net=from_minor(share, currency)
            )
    return results
