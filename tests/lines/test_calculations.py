from __future__ import annotations

import pickle
from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal, localcontext

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clientledger.core.money import (
    MAX_AMOUNT_MINOR,
    UnknownCurrency,
    currency_digits,
    max_amount,
    quantize,
)
from clientledger.lines.calculations.document_totals import calculate_document
from clientledger.lines.calculations.line_totals import calculate_line
from clientledger.lines.calculations.rules import line_validate, totals_validate
from clientledger.lines.calculations.values import (
    AmountTooLarge,
    CalculationError,
    DocumentTotals,
    LineInput,
    LineResult,
    RoundingMode,
    TaxSpec,
)
from clientledger.lines.choices import DiscountKind

D = Decimal

GST = TaxSpec("gst", "GST", D("5"))
PST = TaxSpec("pst", "PST", D("7"))
QST = TaxSpec("qst", "QST", D("9.975"), is_compound=True)
QST_FLAT = TaxSpec("qst-flat", "QST", D("9.975"))
TEN = TaxSpec("ten", "Tax 10%", D("10"))
VAT19 = TaxSpec("vat19", "VAT 19%", D("19"), is_inclusive=True)
VAT7 = TaxSpec("vat7", "VAT 7%", D("7"), is_inclusive=True)
GST_INCL = TaxSpec("gst-incl", "GST", D("5"), is_inclusive=True)
PST_INCL = TaxSpec("pst-incl", "PST", D("7"), is_inclusive=True)
QST_INCL = TaxSpec("qst-incl", "QST", D("9.975"), is_compound=True, is_inclusive=True)
VAT20 = TaxSpec("vat20", "VAT 20%", D("20"), is_inclusive=True)
VAT12 = TaxSpec("vat12", "VAT 12%", D("12"), is_inclusive=True)
TEN_INCL = TaxSpec("ten-incl", "State 10%", D("10"), is_inclusive=True)
TEN_INCL_OTHER = TaxSpec("ten-incl-other", "City 10%", D("10"), is_inclusive=True)
THIRTEEN = TaxSpec("thirteen", "HST 13%", D("13"))


def line(
    quantity: str,
    unit_price: str,
    *taxes: TaxSpec,
    percent_off: str | None = None,
    amount_off: str | None = None,
) -> LineInput:
    if percent_off is not None:
        return LineInput(D(quantity), D(unit_price), DiscountKind.PERCENT, D(percent_off), taxes)
    if amount_off is not None:
        return LineInput(D(quantity), D(unit_price), DiscountKind.AMOUNT, D(amount_off), taxes)
    return LineInput(D(quantity), D(unit_price), taxes=taxes)


# --- hand-computed lines -------------------------------------------------------------------

# (line, currency, gross, discount, net, tax amounts, total), all worked out by hand.
LINE_CASES = {
    "no_tax": (line("3", "19.99"), "USD", "59.97", "0.00", "59.97", [], "59.97"),
    "fractional_quantity": (line("1.5", "80"), "USD", "120.00", "0.00", "120.00", [], "120.00"),
    # 3 x 33.33 = 99.99; 10% = 9.999; net 89.991 -> 89.99; discount shown as 99.99 - 89.99
    "percent_discount": (
        line("3", "33.33", percent_off="10"),
        "USD",
        "99.99",
        "10.00",
        "89.99",
        [],
        "89.99",
    ),
    "amount_discount": (
        line("2", "50", amount_off="15"),
        "USD",
        "100.00",
        "15.00",
        "85.00",
        [],
        "85.00",
    ),
    "amount_discount_capped_at_gross": (
        line("1", "120", TEN, amount_off="500"),
        "USD",
        "120.00",
        "120.00",
        "0.00",
        ["0.00"],
        "0.00",
    ),
    "full_percent_discount": (
        line("4", "25", TEN, percent_off="100"),
        "USD",
        "100.00",
        "100.00",
        "0.00",
        ["0.00"],
        "0.00",
    ),
    "one_exclusive_tax": (
        line("1", "100", GST),
        "CAD",
        "100.00",
        "0.00",
        "100.00",
        ["5.00"],
        "105.00",
    ),
    # Quebec before 2013: QST on (100 + 5 GST) = 105 x 9.975% = 10.47375 -> 10.47
    "compound_second_tax": (
        line("1", "100", GST, QST),
        "CAD",
        "100.00",
        "0.00",
        "100.00",
        ["5.00", "10.47"],
        "115.47",
    ),
    # QST on 100 only: 9.975 -> 9.98 (half up)
    "non_compound_second_tax": (
        line("1", "100", GST, QST_FLAT),
        "CAD",
        "100.00",
        "0.00",
        "100.00",
        ["5.00", "9.98"],
        "114.98",
    ),
    # 99.98 x 5% = 4.999 -> 5.00; 99.98 x 7% = 6.9986 -> 7.00
    "two_non_compound_taxes": (
        line("2", "49.99", GST, PST),
        "CAD",
        "99.98",
        "0.00",
        "99.98",
        ["5.00", "7.00"],
        "111.98",
    ),
    "inclusive_vat_round_trips": (
        line("1", "119.00", VAT19),
        "EUR",
        "119.00",
        "0.00",
        "100.00",
        ["19.00"],
        "119.00",
    ),
    # 10 / 1.19 = 8.4033... -> 8.40; the tax is the rest
    "inclusive_vat_uneven": (
        line("1", "10.00", VAT19),
        "EUR",
        "10.00",
        "0.00",
        "8.40",
        ["1.60"],
        "10.00",
    ),
    # 119.00 - 10% = 107.10 incl.; 107.10 / 1.19 = 90.00
    "inclusive_vat_with_discount": (
        line("2", "59.50", VAT19, percent_off="10"),
        "EUR",
        "119.00",
        "11.90",
        "90.00",
        ["17.10"],
        "107.10",
    ),
    # 112 / (1 + 0.05 + 0.07) = 100
    "two_inclusive_taxes": (
        line("1", "112.00", GST_INCL, PST_INCL),
        "CAD",
        "112.00",
        "0.00",
        "100.00",
        ["5.00", "7.00"],
        "112.00",
    ),
    # GST 100.04 x 0.05 / (1.05 x 1.09975) = 4.3317 -> 4.33; QST 100.04 x 0.09975 / 1.09975
    # = 9.0739 -> 9.07 (each tax rounded on its own); the net is the rest: 86.64
    "inclusive_compound_net_takes_the_rounding": (
        line("1", "100.04", GST_INCL, QST_INCL),
        "CAD",
        "100.04",
        "0.00",
        "86.64",
        ["4.33", "9.07"],
        "100.04",
    ),
    # 9.99 x 20 / 120 = 1.665: the tax is rounded half up and the net is the rest
    "inclusive_tax_half_a_penny_rounds_up": (
        line("1", "9.99", VAT20),
        "GBP",
        "9.99",
        "0.00",
        "8.32",
        ["1.67"],
        "9.99",
    ),
    # Odoo's case: 52.50 x 12 / 112 = 5.625 -> 5.63, net 46.87
    "inclusive_tax_tie_odoo": (
        line("1", "52.50", VAT12),
        "EUR",
        "52.50",
        "0.00",
        "46.87",
        ["5.63"],
        "52.50",
    ),
    # Each 10% tax is 1372.86 x 10 / 120 = 114.405 -> 114.41; the net is 1144.04
    "two_inclusive_taxes_at_one_rate_are_equal": (
        line("1", "1372.86", TEN_INCL, TEN_INCL_OTHER),
        "USD",
        "1372.86",
        "0.00",
        "1144.04",
        ["114.41", "114.41"],
        "1372.86",
    ),
    "jpy_has_no_minor_unit": (line("3", "333", TEN), "JPY", "999", "0", "999", ["100"], "1099"),
    "jpy_rounds_half_up": (line("1", "5", TEN), "JPY", "5", "0", "5", ["1"], "6"),
    # 1.2345 -> 1.235; 1.235 x 5% = 0.06175 -> 0.062
    "kwd_has_three_digits": (
        line("1", "1.2345", GST),
        "KWD",
        "1.235",
        "0.000",
        "1.235",
        ["0.062"],
        "1.297",
    ),
    "free_line": (
        line("1", "0", GST, QST),
        "CAD",
        "0.00",
        "0.00",
        "0.00",
        ["0.00", "0.00"],
        "0.00",
    ),
}


@pytest.mark.parametrize(
    ("line_input", "currency", "gross", "discount", "net", "taxes", "total"),
    list(LINE_CASES.values()),
    ids=list(LINE_CASES),
)
def test_line_totals_match_hand_computed_values(
    line_input: LineInput,
    currency: str,
    gross: str,
    discount: str,
    net: str,
    taxes: list[str],
    total: str,
) -> None:
    result = calculate_line(line_input, currency)
    # Compare strings so the number of digits is checked too.
    assert str(result.gross) == gross
    assert str(result.discount) == discount
    assert str(result.net) == net
    assert [str(item.amount) for item in result.taxes] == taxes
    assert str(result.total) == total


def test_a_compound_tax_applies_on_top_of_the_first() -> None:
    result = calculate_line(line("1", "100", GST, QST), "CAD")
    gst, qst = result.taxes
    assert (gst.base, qst.base) == (D("100.00"), D("105.00"))


def test_a_non_compound_second_tax_applies_on_the_net() -> None:
    result = calculate_line(line("1", "100", GST, PST), "CAD")
    assert [item.base for item in result.taxes] == [D("100.00"), D("100.00")]


def test_a_customer_entering_119_including_19_percent_vat_is_charged_119() -> None:
    totals = calculate_document([line("1", "119.00", VAT19)], "EUR")
    assert (totals.subtotal, totals.tax_total, totals.total) == (
        D("100.00"),
        D("19.00"),
        D("119.00"),
    )


def test_percent_discount_is_rounded_once_on_the_line() -> None:
    # 0.125 gross, 10% off: the net is round(0.1125) = 0.11, not round(0.13 - 0.01) = 0.12.
    result = calculate_line(line("1", "0.125", percent_off="10"), "USD")
    assert (result.gross, result.net, result.discount) == (D("0.13"), D("0.11"), D("0.02"))


# --- documents -----------------------------------------------------------------------------

THIRDS = [line("1", "0.333", TEN)] * 3


def test_line_rounding_rounds_each_line_tax() -> None:
    # Each line: net 0.33, tax 0.0333 -> 0.03.
    totals = calculate_document(THIRDS, "USD", rounding="line")
    assert (totals.subtotal, totals.tax_total, totals.total) == (
        D("0.99"),
        D("0.09"),
        D("1.08"),
    )


def test_document_rounding_rounds_the_tax_once_on_the_unrounded_sum() -> None:
    # Tax on 0.999 = 0.0999 -> 0.10; the displayed nets still add up to 0.99.
    totals = calculate_document(THIRDS, "USD", rounding="document")
    assert (totals.subtotal, totals.tax_total, totals.total) == (
        D("0.99"),
        D("0.10"),
        D("1.09"),
    )
    assert [result.net for result in totals.lines] == [D("0.33")] * 3
    (row,) = totals.tax_breakdown
    assert (row.base, row.amount) == (D("0.99"), D("0.10"))


def test_document_rounding_shows_the_lines_subtotal_as_the_tax_base() -> None:
    # 12.12 x 12.12 = 146.8944 -> 146.89 per line; the tax is 13% of 293.7888 = 38.19.
    totals = calculate_document([line("12.12", "12.12", THIRTEEN)] * 2, "CAD", rounding="document")
    (row,) = totals.tax_breakdown
    assert (totals.subtotal, row.base, row.amount) == (D("293.78"), D("293.78"), D("38.19"))


@pytest.mark.parametrize("rounding", ["line", "document"])
def test_an_inclusive_tax_on_half_a_minor_unit_rounds_up_in_both_modes(
    rounding: RoundingMode,
) -> None:
    totals = calculate_document([line("1", "9.99", VAT20)], "GBP", rounding=rounding)
    (row,) = totals.tax_breakdown
    assert (totals.subtotal, row.base, row.amount) == (D("8.32"), D("8.32"), D("1.67"))


def test_equal_inclusive_rates_split_a_documents_tax_equally_where_the_sum_allows() -> None:
    # Document rounding: each 10% tax on 2 x 1372.86 = 2745.72 is 228.81 exactly once; a
    # line's 228.82 or 228.81 of tax is split 114.41 + 114.41 or 114.41 + 114.40.
    lines = [line("1", "1372.86", TEN_INCL, TEN_INCL_OTHER)] * 2
    totals = calculate_document(lines, "USD", rounding="document")
    assert [str(row.amount) for row in totals.tax_breakdown] == ["228.81", "228.81"]
    for result in totals.lines:
        first, second = (item.amount for item in result.taxes)
        assert abs(first - second) <= D("0.01")
    assert sum((result.total for result in totals.lines), D(0)) == totals.total == D("2745.72")


def test_document_rounding_of_inclusive_lines_keeps_the_inclusive_total() -> None:
    lines = [line("1", "0.10", VAT19)] * 3
    # Per line: 0.10 / 1.19 = 0.084 -> net 0.08, tax 0.02; three lines: tax 0.06.
    by_line = calculate_document(lines, "EUR", rounding="line")
    assert (by_line.subtotal, by_line.tax_total, by_line.total) == (
        D("0.24"),
        D("0.06"),
        D("0.30"),
    )
    # Once: 0.30 / 1.19 = 0.252 -> net 0.25, tax 0.05; nets shared out 0.09 + 0.08 + 0.08.
    by_document = calculate_document(lines, "EUR", rounding="document")
    assert (by_document.subtotal, by_document.tax_total, by_document.total) == (
        D("0.25"),
        D("0.05"),
        D("0.30"),
    )
    assert [result.net for result in by_document.lines] == [D("0.09"), D("0.08"), D("0.08")]
    assert [result.total for result in by_document.lines] == [D("0.10")] * 3


def test_the_tax_breakdown_has_one_row_per_tax_in_order_of_first_appearance() -> None:
    lines = [
        line("1", "10", PST),
        line("1", "100", GST, QST),
        line("2", "50", GST),
        line("1", "5"),
    ]
    totals = calculate_document(lines, "CAD")
    rows = [(row.tax.key, str(row.base), str(row.amount)) for row in totals.tax_breakdown]
    assert rows == [
        ("pst", "10.00", "0.70"),
        ("gst", "200.00", "10.00"),
        ("qst", "105.00", "10.47"),
    ]
    assert str(totals.subtotal) == "215.00"
    assert str(totals.tax_total) == "21.17"
    assert str(totals.total) == "236.17"


def test_a_document_may_mix_inclusive_and_exclusive_lines() -> None:
    totals = calculate_document([line("1", "119", VAT19), line("1", "100", GST)], "EUR")
    assert (totals.subtotal, totals.tax_total, totals.total) == (
        D("200.00"),
        D("24.00"),
        D("224.00"),
    )


def test_discount_total_adds_up_the_line_discounts() -> None:
    totals = calculate_document(
        [line("1", "100", amount_off="30"), line("1", "50", percent_off="10")], "USD"
    )
    assert totals.discount_total == D("35.00")
    assert totals.subtotal == D("115.00")


@pytest.mark.parametrize(("currency", "zero"), [("USD", "0.00"), ("JPY", "0"), ("KWD", "0.000")])
@pytest.mark.parametrize("rounding", ["line", "document"])
def test_an_empty_document_is_all_zeros(currency: str, zero: str, rounding: RoundingMode) -> None:
    totals = calculate_document([], currency, rounding=rounding)
    assert totals.lines == ()
    assert totals.tax_breakdown == ()
    for amount in (totals.subtotal, totals.discount_total, totals.tax_total, totals.total):
        assert str(amount) == zero


def test_a_document_refuses_one_tax_key_with_two_definitions() -> None:
    other_gst = TaxSpec("gst", "GST", D("6"))
    with pytest.raises(CalculationError) as caught:
        calculate_document([line("1", "1", GST), line("1", "1", other_gst)], "CAD")
    assert caught.value.field == "lines[1].taxes"


def test_document_errors_name_the_line() -> None:
    with pytest.raises(CalculationError, match=r"^lines\[1\]\.quantity: must be greater than zero"):
        calculate_document([line("1", "1"), line("0", "1")], "USD")


def test_an_unknown_currency_is_refused() -> None:
    with pytest.raises(UnknownCurrency):
        calculate_document([line("1", "1")], "XYZ")
    with pytest.raises(UnknownCurrency):
        calculate_line(line("1", "1"), "XYZ")


def test_an_unknown_rounding_mode_is_refused() -> None:
    with pytest.raises(CalculationError, match=r"^rounding: "):
        calculate_document([], "USD", rounding="banker")  # type: ignore[arg-type]


def test_results_do_not_depend_on_the_callers_decimal_context() -> None:
    expected = calculate_document([*THIRDS, line("1", "10.00", VAT19)], "USD")
    with localcontext() as context:
        context.prec = 3
        assert calculate_document([*THIRDS, line("1", "10.00", VAT19)], "USD") == expected


# --- validation ----------------------------------------------------------------------------

INVALID_LINES = {
    "zero_quantity": (line("0", "10"), "quantity: must be greater than zero"),
    "negative_quantity": (line("-1", "10"), "quantity: must be greater than zero"),
    "huge_quantity": (line("1E+15", "10"), "quantity: must be less than"),
    "nan_quantity": (LineInput(D("NaN"), D("1")), "quantity: must be a finite number"),
    "negative_price": (line("1", "-0.01"), "unit_price: must not be negative"),
    "infinite_price": (LineInput(D(1), D("Infinity")), "unit_price: must be a finite number"),
    "percent_over_100": (
        line("1", "10", percent_off="100.01"),
        "discount_value: a percentage must be between 0 and 100",
    ),
    "negative_percent": (
        line("1", "10", percent_off="-1"),
        "discount_value: a percentage must be between 0 and 100",
    ),
    "negative_amount": (line("1", "10", amount_off="-5"), "discount_value: must not be negative"),
    "value_without_kind": (
        LineInput(D(1), D(10), None, D(5)),
        "discount_value: choose a discount type",
    ),
    "unknown_kind": (
        LineInput(D(1), D(10), "bogus", D(5)),  # type: ignore[arg-type]
        "discount_kind: must be 'percent', 'amount' or empty",
    ),
    "three_taxes": (line("1", "10", GST, PST, TEN), "taxes: a line can carry at most 2 taxes"),
    "tax_over_100": (
        line("1", "10", TaxSpec("x", "X", D("100.5"))),
        "taxes: X: the rate must be between 0 and 100",
    ),
    "negative_tax": (
        line("1", "10", TaxSpec("x", "X", D("-1"))),
        "taxes: X: the rate must be between 0 and 100",
    ),
    "compound_first": (line("1", "10", QST, GST), "taxes: QST is compound"),
    "compound_alone": (line("1", "10", QST), "taxes: QST is compound"),
    "mixed_inclusive_exclusive": (
        line("1", "10", VAT19, GST),
        "taxes: inclusive and exclusive taxes cannot be mixed on one line",
    ),
    "same_tax_twice": (line("1", "10", GST, GST), "taxes: GST is applied twice"),
}


@pytest.mark.parametrize(
    ("line_input", "message"), list(INVALID_LINES.values()), ids=list(INVALID_LINES)
)
def test_invalid_lines_are_refused_naming_the_field(line_input: LineInput, message: str) -> None:
    with pytest.raises(CalculationError) as caught:
        line_validate(line_input)
    assert str(caught.value).startswith(message)
    assert str(caught.value).split(": ", 1)[0] == caught.value.field
    with pytest.raises(CalculationError):
        calculate_line(line_input, "USD")


VALID_LINES = {
    "zero_price": line("1", "0"),
    "tiny_quantity": line("0.0001", "1"),
    "percent_0": line("1", "10", percent_off="0"),
    "percent_100": line("1", "10", percent_off="100"),
    "amount_larger_than_line": line("1", "10", amount_off="1000"),
    "zero_rate_tax": line("1", "10", TaxSpec("zero", "Zero", D("0"))),
    "rate_100": line("1", "10", TaxSpec("full", "Full", D("100"))),
    "compound_second": line("1", "10", GST, QST),
    "two_inclusive": line("1", "10", VAT19, VAT7),
    "int_inputs": LineInput(2, 3),  # type: ignore[arg-type]
}


@pytest.mark.parametrize("line_input", list(VALID_LINES.values()), ids=list(VALID_LINES))
def test_valid_edge_cases_pass_validation(line_input: LineInput) -> None:
    line_validate(line_input)
    calculate_line(line_input, "USD")


@pytest.mark.parametrize(
    "line_input",
    [
        LineInput(1.5, D(1)),  # type: ignore[arg-type]
        LineInput(D(1), 9.99),  # type: ignore[arg-type]
        LineInput(D(1), D(10), "percent", 0.5),  # type: ignore[arg-type]
        line("1", "10", TaxSpec("x", "X", 19.0)),  # type: ignore[arg-type]
        LineInput(D(1), D(10), taxes=[GST]),  # type: ignore[arg-type]
    ],
    ids=["float_quantity", "float_price", "float_discount", "float_tax_rate", "taxes_as_list"],
)
def test_floats_and_wrong_types_are_refused_with_type_error(line_input: LineInput) -> None:
    with pytest.raises(TypeError):
        line_validate(line_input)


def test_calculation_error_is_a_value_error_that_survives_pickling() -> None:
    error = CalculationError("quantity", "must be greater than zero")
    assert isinstance(error, ValueError)
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.field, copy.message, str(copy)) == (
        "quantity",
        "must be greater than zero",
        "quantity: must be greater than zero",
    )


# --- properties ----------------------------------------------------------------------------

CURRENCIES = ["USD", "JPY", "KWD"]
MODES: list[RoundingMode] = ["line", "document"]

percents = st.one_of(
    st.sampled_from([D("0"), D("5"), D("7"), D("9.975"), D("13"), D("19"), D("100")]),
    st.decimals(min_value=0, max_value=100, places=3),
)


def tax_spec(percent: Decimal, *, inclusive: bool, compound: bool, second: bool = False) -> TaxSpec:
    # The key encodes every attribute, so equal keys always mean equal specs; a second tax
    # never shares its key with a first one, so one line may carry two taxes at one rate.
    key = (
        f"{'inc' if inclusive else 'exc'}{'-compound' if compound else ''}-{percent}"
        f"{'-2nd' if second else ''}"
    )
    return TaxSpec(key, key, percent, is_compound=compound, is_inclusive=inclusive)


@st.composite
def tax_tuples(draw: st.DrawFn, inclusive: bool | None = None) -> tuple[TaxSpec, ...]:
    count = draw(st.integers(min_value=0 if inclusive is None else 1, max_value=2))
    if count == 0:
        return ()
    is_inclusive = draw(st.booleans()) if inclusive is None else inclusive
    first = tax_spec(draw(percents), inclusive=is_inclusive, compound=False)
    if count == 1:
        return (first,)
    # Half the time the second tax has the first one's rate (two taxes at one rate).
    second_percent = draw(st.one_of(st.just(first.percent), percents))
    second = tax_spec(
        second_percent, inclusive=is_inclusive, compound=draw(st.booleans()), second=True
    )
    return (first, second)


@st.composite
def line_inputs(draw: st.DrawFn, inclusive: bool | None = None) -> LineInput:
    quantity = draw(
        st.one_of(
            st.sampled_from([D("1"), D("3"), D("0.5"), D("0.333")]),
            st.decimals(min_value=D("0.0001"), max_value=10_000, places=4),
        )
    )
    unit_price = draw(
        st.one_of(
            st.sampled_from([D("0"), D("0.333"), D("0.005"), D("119"), D("9.99")]),
            st.decimals(min_value=0, max_value=1_000_000, places=4),
        )
    )
    kinds: list[DiscountKind | None] = [None, DiscountKind.PERCENT, DiscountKind.AMOUNT]
    kind = draw(st.sampled_from(kinds))
    if kind == "percent":
        value = draw(st.decimals(min_value=0, max_value=100, places=2))
    elif kind == "amount":
        value = draw(st.decimals(min_value=0, max_value=10_000_000, places=4))
    else:
        value = D(0)
    return LineInput(quantity, unit_price, kind, value, draw(tax_tuples(inclusive)))


def exact_discounted(line_input: LineInput) -> Decimal:
    """The discounted line amount before rounding, computed independently."""
    with localcontext() as context:
        context.prec = 100
        gross = line_input.quantity * line_input.unit_price
        if line_input.discount_kind == "percent":
            return gross - gross * line_input.discount_value / 100
        if line_input.discount_kind == "amount":
            return gross - min(line_input.discount_value, gross)
        return gross


def amounts_of(totals: DocumentTotals) -> list[Decimal]:
    amounts = [totals.subtotal, totals.discount_total, totals.tax_total, totals.total]
    for row in totals.tax_breakdown:
        amounts += [row.base, row.amount]
    for result in totals.lines:
        amounts += [result.gross, result.discount, result.net, result.tax_total, result.total]
        for item in result.taxes:
            amounts += [item.base, item.amount]
    return amounts


def assert_line_invariants(line_input: LineInput, result: LineResult, currency: str) -> None:
    discounted = quantize(exact_discounted(line_input), currency)
    assert result.gross == quantize(line_input.quantity * line_input.unit_price, currency)
    assert D(0) <= result.discount <= result.gross
    assert result.net >= 0
    assert all(item.amount >= 0 for item in result.taxes)
    assert result.tax_total == sum((item.amount for item in result.taxes), D(0))
    assert result.total == result.net + result.tax_total
    if line_input.taxes and line_input.taxes[0].is_inclusive:
        # Inclusive prices round-trip: the customer pays exactly the discounted price.
        assert result.total == discounted
        assert result.gross - result.discount == result.total
    else:
        assert result.net == discounted
        assert result.gross - result.discount == result.net


def assert_document_invariants(
    lines: Sequence[LineInput], totals: DocumentTotals, currency: str
) -> None:
    digits = currency_digits(currency)
    assert all(amount.as_tuple().exponent == -digits for amount in amounts_of(totals))
    assert totals.subtotal + totals.tax_total == totals.total
    assert sum((result.net for result in totals.lines), D(0)) == totals.subtotal
    assert sum((row.amount for row in totals.tax_breakdown), D(0)) == totals.tax_total
    assert sum((result.discount for result in totals.lines), D(0)) == totals.discount_total
    assert totals.total >= 0
    assert totals.tax_total >= 0
    first_seen = list(dict.fromkeys(tax.key for item in lines for tax in item.taxes))
    assert [row.tax.key for row in totals.tax_breakdown] == first_seen
    for line_input, result in zip(lines, totals.lines, strict=True):
        assert_line_invariants(line_input, result, currency)


@pytest.mark.parametrize("rounding", MODES)
@pytest.mark.parametrize("currency", CURRENCIES)
@settings(max_examples=200, deadline=None)
@given(lines=st.lists(line_inputs(), max_size=8))
def test_document_invariants_hold(
    currency: str, rounding: RoundingMode, lines: list[LineInput]
) -> None:
    totals = calculate_document(lines, currency, rounding=rounding)
    assert_document_invariants(lines, totals, currency)
    if rounding == "line":
        # Rounding per line: the document is exactly the sum of its lines.
        assert sum((result.total for result in totals.lines), D(0)) == totals.total
        for row in totals.tax_breakdown:
            assert row.amount == sum(
                (item.amount for r in totals.lines for item in r.taxes if item.tax == row.tax),
                D(0),
            )
    elif not any(tax for item in lines for tax in item.taxes if not tax.is_inclusive):
        # Only inclusive (or untaxed) lines: the total is what the customer was quoted.
        assert sum((result.total for result in totals.lines), D(0)) == totals.total


@pytest.mark.parametrize("rounding", MODES)
@pytest.mark.parametrize("currency", CURRENCIES)
@settings(max_examples=200, deadline=None)
@given(lines=st.lists(line_inputs(inclusive=True), min_size=1, max_size=6))
def test_inclusive_prices_round_trip(
    currency: str, rounding: RoundingMode, lines: list[LineInput]
) -> None:
    totals = calculate_document(lines, currency, rounding=rounding)
    quoted = [quantize(exact_discounted(item), currency) for item in lines]
    assert [result.total for result in totals.lines] == quoted
    assert totals.total == sum(quoted, D(0))


@pytest.mark.parametrize("rounding", MODES)
@pytest.mark.parametrize("currency", CURRENCIES)
@settings(max_examples=200, deadline=None)
@given(line_input=line_inputs())
def test_a_line_alone_is_the_same_as_a_one_line_document(
    currency: str, rounding: RoundingMode, line_input: LineInput
) -> None:
    result = calculate_line(line_input, currency, rounding=rounding)
    assert_line_invariants(line_input, result, currency)
    assert calculate_document([line_input], currency, rounding=rounding).lines == (result,)


@pytest.mark.parametrize("currency", CURRENCIES)
@settings(max_examples=200, deadline=None)
@given(lines=st.lists(line_inputs(), max_size=8))
def test_the_two_rounding_modes_differ_by_rounding_only(
    currency: str, lines: list[LineInput]
) -> None:
    by_line = calculate_document(lines, currency, rounding="line")
    by_document = calculate_document(lines, currency, rounding="document")
    unit = D(1).scaleb(-currency_digits(currency))
    # Line rounding errs by at most ~2 units per tax (a compound tax inherits the first
    # tax's error), document rounding by half a unit per tax: a loose sanity bound.
    tax_count = sum(len(item.taxes) for item in lines)
    assert abs(by_line.tax_total - by_document.tax_total) <= 3 * tax_count * unit
    assert by_line.discount_total == by_document.discount_total
    for a, b in zip(by_line.lines, by_document.lines, strict=True):
        assert (a.gross, a.discount) == (b.gross, b.discount)
        assert abs(a.net - b.net) <= unit


def line_base(result: LineResult, key: str) -> Decimal:
    return sum((item.base for item in result.taxes if item.tax.key == key), D(0))


@pytest.mark.parametrize("rounding", MODES)
@pytest.mark.parametrize("currency", CURRENCIES)
@settings(max_examples=200, deadline=None)
@given(lines=st.lists(line_inputs(), max_size=8))
def test_the_breakdown_adds_up_to_the_total_and_its_bases_to_the_subtotal(
    currency: str, rounding: RoundingMode, lines: list[LineInput]
) -> None:
    totals = calculate_document(lines, currency, rounding=rounding)
    zero = D(0)
    nets = sum((result.net for result in totals.lines), zero)
    taxes = sum((row.amount for row in totals.tax_breakdown), zero)
    assert nets + taxes == totals.total
    for row in totals.tax_breakdown:
        # Each base is what the lines carrying that tax show as its base: their subtotal, plus
        # their first tax for a compound tax.
        assert row.base == sum((line_base(result, row.tax.key) for result in totals.lines), zero)
        if not row.tax.is_compound:
            covered = [r for r in totals.lines if any(i.tax == row.tax for i in r.taxes)]
            assert row.base == sum((r.net for r in covered), zero)
    if all(len(item.taxes) <= 1 for item in lines):
        untaxed = sum((r.net for r in totals.lines if not r.taxes), zero)
        bases = sum((row.base for row in totals.tax_breakdown), zero)
        assert bases + untaxed == totals.subtotal


@pytest.mark.parametrize("rounding", MODES)
@pytest.mark.parametrize("currency", CURRENCIES)
@settings(max_examples=200, deadline=None)
@given(line_input=line_inputs(), percent=percents, inclusive=st.booleans())
def test_two_taxes_at_one_rate_get_equal_amounts_where_the_sum_allows(
    currency: str,
    rounding: RoundingMode,
    line_input: LineInput,
    percent: Decimal,
    inclusive: bool,
) -> None:
    taxes = (
        tax_spec(percent, inclusive=inclusive, compound=False),
        tax_spec(percent, inclusive=inclusive, compound=False, second=True),
    )
    lines = [replace(line_input, taxes=taxes)] * 3
    totals = calculate_document(lines, currency, rounding=rounding)
    first_row, second_row = totals.tax_breakdown
    assert first_row.amount == second_row.amount
    unit = D(1).scaleb(-currency_digits(currency))
    for result in totals.lines:
        first, second = (item.amount for item in result.taxes)
        # Per line the amounts are equal; a document's once-rounded taxes are shared out
        # over the lines, where an odd minor unit cannot be halved.
        assert abs(first - second) <= (0 if rounding == "line" else unit)


# --- bounds --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("currency", "limit"),
    [("USD", "1000000000000.00"), ("JPY", "100000000000000"), ("KWD", "100000000000.000")],
)
def test_the_amount_bound_is_a_number_of_minor_units(currency: str, limit: str) -> None:
    assert max_amount(currency) == D(limit)
    assert MAX_AMOUNT_MINOR * 90_000 < 2**63  # a client's ledger can hold very many documents


def test_a_line_beyond_the_amount_bound_is_refused_naming_the_line() -> None:
    lines = [line("1", "10"), line("9999999999", "9999999999")]
    totals = calculate_document(lines, "USD")
    with pytest.raises(AmountTooLarge) as caught:
        totals_validate(totals, "USD")
    assert (caught.value.line, caught.value.field) == (1, "unit_price")
    assert caught.value.message == (
        "this line comes to $99,999,999,980,000,000,001.00; "
        "a line must stay below $1,000,000,000,000.00"
    )


def test_a_line_whose_taxes_take_it_past_the_bound_is_refused() -> None:
    full = TaxSpec("full", "Full", D("100"))
    with pytest.raises(AmountTooLarge) as caught:
        totals_validate(calculate_document([line("1", "500000000000", full)], "USD"), "USD")
    assert caught.value.line == 0


def test_lines_that_together_pass_the_bound_are_refused_as_a_whole() -> None:
    lines = [line("1", "600000000000")] * 2
    with pytest.raises(AmountTooLarge) as caught:
        totals_validate(calculate_document(lines, "USD"), "USD")
    assert (caught.value.line, caught.value.field) == (None, "lines")
    assert caught.value.message == (
        "the lines come to $1,200,000,000,000.00; a document must stay below "
        "$1,000,000,000,000.00, so split them over several documents"
    )


def test_discounts_count_towards_the_bound() -> None:
    lines = [line("1", "600000000000", percent_off="100")] * 2
    with pytest.raises(AmountTooLarge):
        totals_validate(calculate_document(lines, "USD"), "USD")


def test_a_document_just_below_the_bound_passes() -> None:
    lines = [line("1", "499999999999.99", amount_off="0.01"), line("1", "500000000000.00")]
    totals_validate(calculate_document(lines, "USD"), "USD")
    totals_validate(calculate_document([line("1", "99999999999999")], "JPY"), "JPY")


def test_amount_too_large_survives_pickling() -> None:
    error = AmountTooLarge("unit_price", "too much", line=3)
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.field, copy.message, copy.line) == ("unit_price", "too much", 3)


def test_an_inclusive_line_counts_its_price_once_towards_the_bound() -> None:
    # 900,000,000,000 including 19% VAT is below the bound; its tax is not counted twice.
    totals_validate(calculate_document([line("1", "900000000000", VAT19)], "EUR"), "EUR")
