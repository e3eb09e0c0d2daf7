"""How answers print amounts, and what the answers' models are."""

from __future__ import annotations

import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st
from ninja import Schema

from clientledger.api.outputs import Output, minor_money_str, money_str
from clientledger.core.money import MAX_AMOUNT_MINOR, from_minor

CURRENCIES = ["USD", "JPY", "KWD", "EUR", "CLF"]


@given(
    minor=st.integers(min_value=-MAX_AMOUNT_MINOR, max_value=MAX_AMOUNT_MINOR),
    currency=st.sampled_from(CURRENCIES),
)
def test_an_amount_in_minor_units_prints_as_its_decimal_amount_does(
    minor: int, currency: str
) -> None:
    assert minor_money_str(minor, currency) == money_str(from_minor(minor, currency), currency)


@pytest.mark.parametrize(
    ("minor", "currency", "text"),
    [
        (0, "USD", "0.00"),
        (5, "USD", "0.05"),
        (-123456, "USD", "-1234.56"),
        (1200, "JPY", "1200"),
        (-7, "KWD", "-0.007"),
    ],
)
def test_an_amount_in_minor_units_shows_exactly_the_currencys_digits(
    minor: int, currency: str, text: str
) -> None:
    assert minor_money_str(minor, currency) == text


@pytest.mark.parametrize("minor", [1.5, True, "12"])
def test_only_an_integer_is_an_amount_in_minor_units(minor: object) -> None:
    with pytest.raises(TypeError, match="minor: expected int"):
        minor_money_str(minor, "USD")  # type: ignore[arg-type]


def _answer_models() -> dict[str, type]:
    """Every `...Out` and `...Ref` model of the API's modules."""
    import clientledger.api.router  # noqa: F401  (imports every endpoint's module)

    return {
        name: value
        for module_name, module in list(sys.modules.items())
        if module_name.startswith("clientledger.api.")
        for name, value in vars(module).items()
        if isinstance(value, type) and name.endswith(("Out", "Ref"))
    }


def test_answers_are_plain_pydantic_models_not_ninja_schemas() -> None:
    """A ninja `Schema` validates through a per-field Python getter: ~10x slower."""
    models = _answer_models()

    assert {"InvoiceOut", "DocumentLineOut", "ClientOut", "PaymentOut"} <= set(models)
    assert [name for name, model in models.items() if not issubclass(model, Output)] == []
    assert [name for name, model in models.items() if issubclass(model, Schema)] == []
