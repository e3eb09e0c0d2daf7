"""Money helpers: currencies, digits, rounding, minor units, parsing and formatting.

Amounts are `Decimal` everywhere; binary floating point is refused at every entry point
because it cannot represent most cents exactly. Minor units come from ISO 4217 (the
`iso4217` package), never from a hand-written table nor from CLDR, whose digits are what
people usually write (IQD 0) rather than the currency's minor unit (IQD 3). babel (CLDR)
formats amounts and says which currencies are legal tender.
"""

from __future__ import annotations

import copy
import re
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation
from functools import lru_cache

from babel.core import Locale, get_global
from babel.numbers import (
    NumberPattern,
    get_currency_precision,
    get_territory_currencies,
    list_currencies,
)
from iso4217 import Currency

from clientledger.core import clock

__all__ = [
    "MAX_AMOUNT_MINOR",
    "MAX_BALANCE_MINOR",
    "NumberTypeError",
    "UnknownCurrency",
    "currency_codes",
    "currency_digits",
    "currency_problem",
    "format_money",
    "from_minor",
    "is_known_currency",
    "max_amount",
    "parse_decimal",
    "plain_decimal",
    "quantize",
    "to_minor",
]

# Quantizing under the caller's context would make results depend on whatever precision a
# thread happens to have set; this private context is wide enough for any real amount and
# makes quantize() fail loudly (InvalidOperation) instead of silently losing digits.
_MONEY_CONTEXT = Context(prec=60, rounding=ROUND_HALF_UP)

# Plain decimal notation only: no exponents ("1e999999" is a cheap DoS), no underscores or
# non-ASCII digits (which Decimal() would accept), no thousands separators (locale-dependent).
_DECIMAL_RE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")


# The range of a signed 64-bit integer (BigIntegerField on SQLite and PostgreSQL).
_MIN_MINOR = -(2**63)
_MAX_MINOR = 2**63 - 1

# Every amount a document, a payment or a refund posts stays below MAX_AMOUNT_MINOR minor
# units (USD 1,000,000,000,000.00, JPY 100,000,000,000,000), and a client's balance within
# MAX_BALANCE_MINOR either way. So every sum the product makes fits in 64 bits: the
# cached balance by construction, and a SQL sum over one client's ledger (SQLite fails
# on an integer overflow even midway) until that client has some 90,000 documents and
# payments at the bound.
MAX_AMOUNT_MINOR = 10**14
MAX_BALANCE_MINOR = 10**17


class UnknownCurrency(ValueError):
    """A code that is not a currency with minor units (ISO 4217), such as "ZZZ" or "XAU"."""


class NumberTypeError(TypeError, ValueError):
    """Input of the wrong type for `parse_decimal` (a float, a bool, None...).

    Both a TypeError (floats are refused everywhere) and a ValueError, so that forms and the
    API can report it next to the field like any other bad input.
    """


@lru_cache(maxsize=1)
def _iso_minor_units() -> dict[str, int | None]:
    """ISO 4217 list one: every current code and its minor unit (None: "N.A.", e.g. XAU)."""
    return {currency.code: currency.exponent for currency in Currency}


@lru_cache(maxsize=1)
def currency_codes() -> tuple[str, ...]:
    """The currencies clients, services and agencies may use, sorted: the current ISO 4217
    codes with a minor unit that are legal tender somewhere today (CLDR).

    That leaves out XXX, XTS, precious metals, SDR, bond units, funds and index units
    (CLF, BOV, UYW...) and withdrawn currencies (VEF, BYR, AFA). The one list behind the
    currency choices of forms, the API and CSV imports.
    """
    today = clock.now().date()
    tender = {
        code
        for territory in get_global("territory_currencies")
        for code in get_territory_currencies(territory, start_date=today)
    }
    return tuple(
        sorted(
            code
            for code, units in _iso_minor_units().items()
            if units is not None and code in tender
        )
    )


def is_known_currency(code: str) -> bool:
    """True for an accepted currency code (see `currency_codes`), such as "USD"."""
    return isinstance(code, str) and code in _accepted_codes()


@lru_cache(maxsize=1)
def _accepted_codes() -> frozenset[str]:
    return frozenset(currency_codes())


def currency_problem(code: str) -> str | None:
    """Why `code` cannot be chosen as a currency, for a person; None when it can."""
    if is_known_currency(code):
        return None
    if code in _iso_minor_units() or code in _cldr_codes():
        return f"“{code}” is not legal tender anywhere today; choose a current currency."
    return f"“{code}” is not an ISO 4217 currency code."


@lru_cache(maxsize=512)
def currency_digits(currency: str) -> int:
    """Minor-unit digits of a currency from ISO 4217 (JPY 0, USD 2, KWD 3, IQD 3)."""
    iso = _iso_minor_units()
    if currency in iso:
        units = iso[currency]
        if units is None:
            raise UnknownCurrency(f"currency: unknown currency code {currency!r}")
        return units
    # A currency ISO 4217 has withdrawn (BGN since 2026) is no longer accepted for new data,
    # but documents saved in it must still show; ISO list one no longer carries its minor
    # unit, CLDR still does.
    if isinstance(currency, str) and currency in _cldr_codes():
        return get_currency_precision(currency)
    raise UnknownCurrency(f"currency: unknown currency code {currency!r}")


@lru_cache(maxsize=1)
def _cldr_codes() -> frozenset[str]:
    return frozenset(list_currencies())


@lru_cache(maxsize=512)
def _quantum(currency: str) -> Decimal:
    return Decimal(1).scaleb(-currency_digits(currency))


def _require_decimal(value: object, name: str) -> Decimal:
    # An allow-list (Decimal, int) rejects float, bool, str and Fraction in one check.
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{name}: must be a finite number, got {value}")
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    raise TypeError(f"{name}: expected Decimal or int, got {type(value).__name__}")


def quantize(amount: Decimal, currency: str) -> Decimal:
    """Round to the currency's digits, half away from zero (0.125 USD -> 0.13)."""
    value = _require_decimal(amount, "amount")
    try:
        result = value.quantize(_quantum(currency), rounding=ROUND_HALF_UP, context=_MONEY_CONTEXT)
    except InvalidOperation:
        raise ValueError(f"amount: {value} is too large") from None
    # -0.001 rounds to "-0.00"; nobody wants to read a negative zero on an invoice.
    return result.copy_abs() if result.is_zero() else result


def to_minor(amount: Decimal, currency: str) -> int:
    """Integer amount in the currency's minor unit (12.34 USD -> 1234), rounded half up."""
    digits = currency_digits(currency)
    # After quantize the exponent is exactly -digits, so shifting it by +digits is exact.
    minor = int(quantize(amount, currency).scaleb(digits, context=_MONEY_CONTEXT))
    # Minor amounts are stored in BigIntegerField columns; refuse here rather than overflow
    # in the database.
    if not _MIN_MINOR <= minor <= _MAX_MINOR:
        raise ValueError(f"amount: {amount} {currency} is too large to store")
    return minor


@lru_cache(maxsize=512)
def max_amount(currency: str) -> Decimal:
    """The bound every posted amount stays below, in `currency` (see MAX_AMOUNT_MINOR); kept
    per currency: every amount entered is checked against it."""
    return from_minor(MAX_AMOUNT_MINOR, currency)


def from_minor(minor: int, currency: str) -> Decimal:
    """Decimal amount from minor units, carrying the currency's exponent (1234 -> 12.34)."""
    if not isinstance(minor, int) or isinstance(minor, bool):
        raise TypeError(f"minor: expected int, got {type(minor).__name__}")
    digits = currency_digits(currency)
    # Build the Decimal from its parts: exact for any int, whatever the context precision.
    sign, coefficient, exponent = Decimal(minor).as_tuple()
    return Decimal((sign, coefficient, int(exponent) - digits))


def format_money(amount: Decimal, currency: str, locale: str = "en_US") -> str:
    """Localised display string with the ISO digits, e.g. "$1,234.50" or "IQD1,234.500"."""
    # babel rounds half-even while formatting; round half up first so the display agrees
    # with the stored minor units.
    return _money_text(str(quantize(amount, currency)), currency, locale)


# A billing run's emails show the same few amounts thousands of times, and babel's formatting
# costs more than the rest of rendering an email. Keyed by the rounded amount's text: equal
# Decimals may print differently (-0.00 and 0.00).
@lru_cache(maxsize=4096)
def _money_text(amount: str, currency: str, locale: str) -> str:
    pattern = _currency_pattern(locale, currency_digits(currency))
    return pattern.apply(Decimal(amount), locale, currency=currency, currency_digits=False)


@lru_cache(maxsize=64)
def _currency_pattern(locale: str, digits: int) -> NumberPattern:
    """The locale's currency pattern showing exactly `digits` decimals: babel would show
    CLDR's digits (IQD 0), not the currency's minor unit."""
    pattern = copy.copy(Locale.parse(locale).currency_formats["standard"])
    pattern.frac_prec = (digits, digits)
    return pattern


def plain_decimal(value: Decimal, places: int = 0) -> str:
    """A stored price, quantity or percentage as a person would type it, with at least
    `places` decimals: 10.0000 -> "10", and 120.5 with places=2 -> "120.50".

    The missing decimals are padded onto the text rather than quantized (`as_tuple` and
    `quantize` cost twice the rest: a list page of the API prints ~300 of these)."""
    value = value.normalize()
    if value.is_zero():
        value = value.copy_abs()
    text = f"{value:f}"
    whole, _, fraction = text.partition(".")
    if len(fraction) < places:
        return f"{whole}.{fraction.ljust(places, '0')}"
    return text


def parse_decimal(value: str | int | Decimal, *, field: str) -> Decimal:
    """Decimal from user or API input; errors are `ValueError("<field>: ...")`."""
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{field}: must be a finite number")
        return value
    if isinstance(value, bool) or not isinstance(value, int | str):
        kind = type(value).__name__
        if kind == "float":
            raise NumberTypeError(
                f"{field}: floating-point numbers are not accepted; send a string"
            )
        raise NumberTypeError(f"{field}: expected a number, got {kind}")
    if isinstance(value, int):
        return Decimal(value)
    text = value.strip()
    if not text:
        raise ValueError(f"{field}: enter a number")
    if not _DECIMAL_RE.fullmatch(text):
        raise ValueError(f"{field}: {value!r} is not a number")
    return Decimal(text)
