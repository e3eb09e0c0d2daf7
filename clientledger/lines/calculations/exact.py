"""Exact Decimal arithmetic and the engine's explicit roundings."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
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
)

from clientledger.core.money import currency_digits, from_minor
from clientledger.lines.calculations.values import TaxSpec

# Exact arithmetic (the decimal module's documented recipe): with unlimited precision,
# + and * never round. There is no Decimal division in the engine (an inexact one would
# raise MemoryError here); see div_round.
EXACT = Context(
    prec=MAX_PREC,
    Emax=MAX_EMAX,
    Emin=MIN_EMIN,
    traps=[InvalidOperation, DivisionByZero, Overflow, Inexact],
)


def tax_rate(tax: TaxSpec) -> Decimal:
    return Decimal(tax.percent).scaleb(-2)  # percent -> fraction by moving the exponent, exactly


def div_round(numerator: Decimal, denominator: Decimal, currency: str) -> Decimal:
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


def allocate(total: int, weights: Sequence[int]) -> list[int]:
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


def decimal_sum(values: Iterable[Decimal], zero: Decimal) -> Decimal:
    return sum(values, start=zero)
