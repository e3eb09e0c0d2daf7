"""The taxes of one line: contained in an inclusive price, or added to an exclusive one."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from clientledger.core.money import quantize
from clientledger.lines.calculations.exact import div_round, tax_rate
from clientledger.lines.calculations.values import TaxAmount, TaxSpec

_ONE = Decimal(1)


def _inclusive_shares(taxes: tuple[TaxSpec, ...]) -> tuple[tuple[Decimal, Decimal], ...]:
    """Each tax's exact share of a tax-inclusive amount, as (numerator, denominator)."""
    if len(taxes) == 1:
        rate = tax_rate(taxes[0])
        return ((rate, _ONE + rate),)
    first, second = (tax_rate(tax) for tax in taxes)
    if taxes[1].is_compound:
        # The compound tax is second * (net + first tax), and net + first tax is the
        # inclusive amount divided by (1 + second).
        return ((first, (_ONE + first) * (_ONE + second)), (second, _ONE + second))
    divisor = _ONE + first + second
    return ((first, divisor), (second, divisor))


def inclusive_tax_amounts(
    inclusive: Decimal, taxes: tuple[TaxSpec, ...], currency: str
) -> tuple[Decimal, ...]:
    """The taxes contained in `inclusive`, each rounded half up on its own.

    Their sum never exceeds `inclusive`: their exact sum is less than `inclusive` (the net
    is more than nothing) and rounding adds at most one minor unit to it.
    """
    return tuple(
        div_round(inclusive * numerator, denominator, currency)
        for numerator, denominator in _inclusive_shares(taxes)
    )


def tax_items(
    net: Decimal, taxes: tuple[TaxSpec, ...], amounts: Sequence[Decimal]
) -> tuple[TaxAmount, ...]:
    """The line's taxes with their bases: the net, plus the first tax for a compound tax."""
    return tuple(
        TaxAmount(tax=tax, base=net + amounts[0] if tax.is_compound else net, amount=amount)
        for tax, amount in zip(taxes, amounts, strict=True)
    )


def exclusive_tax_amounts(
    net: Decimal, taxes: tuple[TaxSpec, ...], currency: str
) -> tuple[Decimal, ...]:
    """Taxes on a rounded net, each rounded (a compound tax sees the rounded first tax)."""
    amounts: list[Decimal] = []
    for tax in taxes:
        base = net + amounts[0] if tax.is_compound else net
        amounts.append(quantize(base * tax_rate(tax), currency))
    return tuple(amounts)


def exclusive_taxes_raw(net: Decimal, taxes: tuple[TaxSpec, ...]) -> tuple[Decimal, ...]:
    """Unrounded taxes on an unrounded net (document rounding)."""
    amounts: list[Decimal] = []
    for tax in taxes:
        base = net + amounts[0] if tax.is_compound else net
        amounts.append(base * tax_rate(tax))
    return tuple(amounts)
