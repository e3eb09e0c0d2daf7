"""Amounts as Stripe's API counts them, which is not always the ISO 4217 minor unit we store.

Stripe's rules (https://docs.stripe.com/currencies, "Minor units in API amounts"):

- most currencies are counted in hundredths;
- the zero-decimal currencies in whole units;
- the three-decimal currencies in thousandths, whose last digit must be 0 ("round amounts to
  the nearest ten"): Stripe takes 5.120 KWD, not 5.124 KWD;
- special cases: ISK and UGX became zero-decimal but stay two-decimal in the API with the
  decimals always 00 (5 ISK is 500); HUF and TWD are zero-decimal for payouts only, which we
  never make, so their charges and refunds are plain two-decimal amounts.

Every amount we send Stripe goes through `to_stripe` and every amount Stripe sends us
(PaymentIntents, refunds, disputes, fees) through `from_stripe`."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from clientledger.core.money import currency_digits, format_money, from_minor

_ZERO_DECIMAL = frozenset(
    {
        "BIF",
        "CLP",
        "DJF",
        "GNF",
        "JPY",
        "KMF",
        "KRW",
        "MGA",
        "PYG",
        "RWF",
        "VND",
        "VUV",
        "XAF",
        "XOF",
        "XPF",
    }
)
_THREE_DECIMAL = frozenset({"BHD", "JOD", "KWD", "OMR", "TND"})
_WHOLE_UNITS_IN_HUNDREDTHS = frozenset({"ISK", "UGX"})
# Our amounts are stored in 64-bit integers.
_LARGEST = 2**63 - 1


@dataclass(frozen=True)
class StripeUnit:
    """How Stripe counts a currency: `digits` decimals, in multiples of `step`."""

    digits: int
    step: int = 1

    @property
    def quantum(self) -> Decimal:
        """The smallest amount Stripe takes, in the currency's major unit (KWD 0.010)."""
        return Decimal(self.step).scaleb(-self.digits)


def stripe_unit(currency: str) -> StripeUnit:
    if currency in _ZERO_DECIMAL:
        return StripeUnit(digits=0)
    if currency in _THREE_DECIMAL:
        return StripeUnit(digits=3, step=10)
    if currency in _WHOLE_UNITS_IN_HUNDREDTHS:
        return StripeUnit(digits=2, step=100)
    return StripeUnit(digits=2)


class StripeAmountError(ValueError):
    """An amount one side cannot hold exactly; the message says so to a person."""


def to_stripe(minor: int, currency: str, *, round_up: bool = False) -> int:
    """Our positive amount in minor units as Stripe's `amount`. An amount Stripe cannot take
    (12.345 KWD) is refused, or with `round_up` raised to the next one it takes (12.350)."""
    unit = stripe_unit(currency)
    steps, rest = divmod(from_minor(minor, currency), unit.quantum)
    if rest:
        if not round_up:
            lower = steps * unit.quantum
            raise StripeAmountError(
                f"Stripe takes {currency} amounts in steps of"
                f" {format_money(unit.quantum, currency)}: use"
                f" {format_money(lower, currency)} or"
                f" {format_money(lower + unit.quantum, currency)}."
            )
        steps += 1
    return int(steps) * unit.step


def from_stripe(amount: object, currency: str) -> int:
    """Stripe's `amount` (or fee) in our minor units; one finer than our minor unit is refused."""
    if isinstance(amount, bool) or not isinstance(amount, int) or abs(amount) > _LARGEST:
        raise StripeAmountError(f"Stripe's amount {amount!r} is not an amount we can hold.")
    minor = Decimal(amount).scaleb(currency_digits(currency) - stripe_unit(currency).digits)
    if minor != minor.to_integral_value():
        raise StripeAmountError(
            f"Stripe's amount {amount} {currency} is finer than the {currency} minor unit."
        )
    return int(minor)
