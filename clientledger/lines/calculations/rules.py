"""What the engine accepts: valid lines, discounts, taxes and rounding modes, and the bound
on what the lines of one document may come to."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from clientledger.core.money import format_money, max_amount
from clientledger.lines.calculations.values import (
    MAX_INPUT,
    MAX_TAXES_PER_LINE,
    ROUNDING_MODES,
    AmountTooLarge,
    CalculationError,
    DocumentTotals,
    LineInput,
    Problem,
    TaxSpec,
)
from clientledger.lines.choices import DiscountKind

_HUNDRED = Decimal(100)


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


def rounding_validate(rounding: str) -> None:
    if rounding not in ROUNDING_MODES:
        raise CalculationError("rounding", "must be 'line' or 'document'")


def document_lines_validate(lines: Sequence[LineInput], rounding: str) -> None:
    rounding_validate(rounding)
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
