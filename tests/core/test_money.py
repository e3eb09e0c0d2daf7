from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clientledger.core.money import (
    UnknownCurrency,
    currency_codes,
    currency_digits,
    format_money,
    from_minor,
    is_known_currency,
    parse_decimal,
    plain_decimal,
    quantize,
    to_minor,
)

D = Decimal


@pytest.mark.parametrize(
    ("currency", "digits"),
    [
        ("USD", 2),
        ("EUR", 2),
        ("JPY", 0),
        ("KWD", 3),
        ("BHD", 3),
        ("KRW", 0),
        # CLDR (babel) says 0 for these; ISO 4217 is the standard for minor units.
        ("IQD", 3),
        ("RSD", 2),
        ("ALL", 2),
        ("LAK", 2),
    ],
)
def test_currency_digits_come_from_iso_4217(currency: str, digits: int) -> None:
    assert currency_digits(currency) == digits


@pytest.mark.parametrize(
    "code", ["XXX", "XTS", "XAU", "XDR", "CLF", "BOV", "UYW", "VEF", "BYR", "AFA", "BGN"]
)
def test_only_current_iso_4217_tender_currencies_are_accepted(code: str) -> None:
    # No currency (XXX), testing (XTS), gold, special drawing rights, funds and index units,
    # and currencies withdrawn from circulation (VEF, BYR, AFA 1927-2002, BGN since 2026).
    assert not is_known_currency(code)
    assert code not in currency_codes()


def test_the_accepted_currencies_are_the_tender_currencies_of_iso_4217() -> None:
    codes = currency_codes()
    assert list(codes) == sorted(codes)
    assert {"USD", "EUR", "JPY", "KWD", "IQD", "XOF", "XAF", "XCD", "BYN", "VES"} <= set(codes)
    assert 140 < len(codes) < 170


def test_a_currency_withdrawn_from_iso_4217_keeps_its_digits_for_documents_saved_in_it() -> None:
    assert currency_digits("BGN") == 2
    assert to_minor(D("12.34"), "BGN") == 1234


@pytest.mark.parametrize("code", ["XXX", "XAU", "XDR"])
def test_a_code_without_minor_units_has_no_digits(code: str) -> None:
    with pytest.raises(UnknownCurrency, match="currency: unknown currency code"):
        currency_digits(code)


@pytest.mark.parametrize("code", ["ZZZ", "usd", "US", "", "EURO"])
def test_an_unknown_currency_raises(code: str) -> None:
    assert not is_known_currency(code)
    with pytest.raises(UnknownCurrency, match="currency: unknown currency code"):
        currency_digits(code)


def test_unknown_currency_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="unknown currency"):
        to_minor(D("1"), "ZZZ")


def test_known_currencies_are_recognised() -> None:
    assert is_known_currency("USD")
    assert is_known_currency("JPY")
    assert not is_known_currency(None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        (D("0.125"), "USD", D("0.13")),  # half up, not banker's rounding (0.12)
        (D("0.135"), "USD", D("0.14")),
        (D("0.124999"), "USD", D("0.12")),
        (D("-0.125"), "USD", D("-0.13")),  # half away from zero
        (D("0.5"), "JPY", D("1")),
        (D("1.5"), "JPY", D("2")),
        (D("2.5"), "JPY", D("3")),
        (D("0.0005"), "KWD", D("0.001")),
        (D("12"), "KWD", D("12.000")),
        (D("-0.001"), "USD", D("0.00")),
    ],
)
def test_quantize_rounds_half_up_to_the_currency_digits(
    amount: Decimal, currency: str, expected: Decimal
) -> None:
    result = quantize(amount, currency)
    assert result == expected
    assert result.as_tuple().exponent == -currency_digits(currency)


def test_quantize_never_returns_a_negative_zero() -> None:
    assert str(quantize(D("-0.001"), "USD")) == "0.00"


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [
        (D("12.34"), "USD", 1234),
        (D("0.125"), "USD", 13),
        (D("0.5"), "JPY", 1),
        (D("1500"), "JPY", 1500),
        (D("1.2345"), "KWD", 1235),
        (D("-10.005"), "EUR", -1001),
        (D("0"), "USD", 0),
        (12, "USD", 1200),
    ],
)
def test_to_minor(amount: Decimal, currency: str, minor: int) -> None:
    assert to_minor(amount, currency) == minor
    assert type(to_minor(amount, currency)) is int


@pytest.mark.parametrize(
    ("minor", "currency", "text"),
    [
        (1234, "USD", "12.34"),
        (100, "USD", "1.00"),
        (5, "USD", "0.05"),
        (-5, "USD", "-0.05"),
        (1500, "JPY", "1500"),
        (1, "KWD", "0.001"),
        (0, "KWD", "0.000"),
        (10**30, "USD", "1" + "0" * 28 + ".00"),  # exact beyond the default 28 digits
    ],
)
def test_from_minor_is_exact_and_carries_the_currency_exponent(
    minor: int, currency: str, text: str
) -> None:
    assert str(from_minor(minor, currency)) == text


@settings(max_examples=200, deadline=None)
@given(
    minor=st.integers(min_value=-(10**15), max_value=10**15),
    currency=st.sampled_from(["USD", "JPY", "KWD"]),
)
def test_minor_units_round_trip(minor: int, currency: str) -> None:
    assert to_minor(from_minor(minor, currency), currency) == minor


@settings(max_examples=200, deadline=None)
@given(
    amount=st.decimals(min_value=-(10**9), max_value=10**9, places=6),
    currency=st.sampled_from(["USD", "JPY", "KWD"]),
)
def test_decimal_round_trip_equals_quantize(amount: Decimal, currency: str) -> None:
    assert from_minor(to_minor(amount, currency), currency) == quantize(amount, currency)
    assert quantize(quantize(amount, currency), currency) == quantize(amount, currency)


def test_to_minor_refuses_amounts_too_large_for_a_bigint() -> None:
    assert to_minor(D("92233720368547758.07"), "USD") == 2**63 - 1
    with pytest.raises(ValueError, match="too large"):
        to_minor(D("92233720368547758.08"), "USD")


def test_quantize_refuses_absurd_magnitudes_without_hanging() -> None:
    with pytest.raises(ValueError, match="too large"):
        quantize(D("1E+999999999"), "USD")


@pytest.mark.parametrize(
    "call",
    [
        lambda: quantize(0.1, "USD"),  # type: ignore[arg-type]
        lambda: to_minor(0.1, "USD"),  # type: ignore[arg-type]
        lambda: from_minor(1.0, "USD"),  # type: ignore[arg-type]
        lambda: from_minor(D("1"), "USD"),  # type: ignore[arg-type]
        lambda: from_minor(True, "USD"),
        lambda: format_money(1.5, "USD"),  # type: ignore[arg-type]
        lambda: quantize("1.00", "USD"),  # type: ignore[arg-type]
        lambda: quantize(True, "USD"),  # type: ignore[arg-type]
        lambda: parse_decimal(0.1, field="amount"),  # type: ignore[arg-type]
    ],
    ids=[
        "quantize-float",
        "to_minor-float",
        "from_minor-float",
        "from_minor-decimal",
        "from_minor-bool",
        "format-float",
        "quantize-str",
        "quantize-bool",
        "parse-float",
    ],
)
def test_floats_and_other_wrong_types_are_rejected_with_type_error(
    call: Callable[[], object],
) -> None:
    with pytest.raises(TypeError):
        call()


@pytest.mark.parametrize("amount", [D("NaN"), D("Infinity"), D("-Infinity"), D("sNaN")])
def test_quantize_rejects_non_finite_decimals(amount: Decimal) -> None:
    with pytest.raises(ValueError, match="finite"):
        quantize(amount, "USD")


@pytest.mark.parametrize(
    ("amount", "currency", "locale", "expected"),
    [
        (D("1234.5"), "USD", "en_US", "$1,234.50"),
        (D("0.125"), "USD", "en_US", "$0.13"),  # babel alone would print $0.12
        (D("1234.5"), "JPY", "en_US", "¥1,235"),
        (D("1234.5678"), "KWD", "en_US", "KWD1,234.568"),
        (D("1234.5"), "EUR", "de_DE", "1.234,50\xa0€"),
        # babel would print CLDR's digits: IQD 1,235 and RSD 1,234.
        (D("1234.5"), "IQD", "en_US", "IQD1,234.500"),
        (D("1234.5"), "RSD", "en_US", "RSD1,234.50"),
        (D("-1234.5"), "JPY", "ja_JP", "-￥1,235"),
    ],
)
def test_format_money(amount: Decimal, currency: str, locale: str, expected: str) -> None:
    assert format_money(amount, currency, locale) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("12.50", D("12.50")),
        ("  7 ", D("7")),
        ("-3.5", D("-3.5")),
        ("+.5", D("0.5")),
        ("1.", D("1")),
        (42, D("42")),
        (D("9.99"), D("9.99")),
    ],
)
def test_parse_decimal_accepts_plain_numbers(value: str | int | Decimal, expected: Decimal) -> None:
    result = parse_decimal(value, field="amount")
    assert result == expected
    assert isinstance(result, Decimal)


def test_parse_decimal_keeps_the_written_exponent() -> None:
    assert str(parse_decimal("12.50", field="amount")) == "12.50"


@pytest.mark.parametrize(
    "value",
    [
        "",
        "   ",
        "abc",
        "NaN",
        "nan",
        "Infinity",
        "-inf",
        "1e3",
        "1E+999999999",
        "1_000",
        "1,000.00",
        "12.5.1",
        "٣",  # an Arabic-Indic digit, which Decimal() would accept
        "0x10",
        D("NaN"),
        D("Infinity"),
        D("-Infinity"),
        0.5,
        True,
        None,
        [1],
    ],
)
def test_parse_decimal_rejects_bad_input_naming_the_field(value: object) -> None:
    with pytest.raises(ValueError, match=r"^unit_price: "):
        parse_decimal(value, field="unit_price")  # type: ignore[arg-type]


def test_parse_decimal_rejects_floats_as_both_type_and_value_error() -> None:
    with pytest.raises(TypeError, match="unit_price: floating-point"):
        parse_decimal(1.5, field="unit_price")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "places", "expected"),
    [
        (D("10.0000"), 0, "10"),
        (D("120.5"), 2, "120.50"),
        (D("0.1234"), 2, "0.1234"),
        (D("1E+2"), 0, "100"),
        (D("19.0000"), 0, "19"),
        (D("-0.00"), 2, "0.00"),
    ],
)
def test_plain_decimal_writes_a_number_as_a_person_types_it(
    value: Decimal, places: int, expected: str
) -> None:
    assert plain_decimal(value, places) == expected
