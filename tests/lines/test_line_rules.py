"""Each rule about a line lives once, in the lines app; callers only word it their own way."""

from __future__ import annotations

import ast
from decimal import Decimal
from pathlib import Path

import pytest
from django.forms.utils import ErrorList
from django.http import QueryDict
from pydantic import ValidationError

from clientledger.api.lines import LineIn
from clientledger.lines.calculations.rules import discount_validate
from clientledger.lines.calculations.values import CalculationError, Problem
from clientledger.lines.forms import LineForm
from clientledger.lines.selectors import LineCatalog

LINES_APP = Path(__file__).parents[2] / "clientledger" / "lines"
# What the lines app may build on: the layers below crm and billing.
LINES_FOUNDATIONS = ("clientledger.core", "clientledger.accounts", "clientledger.catalog")


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {
        node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module
    } | {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }


def test_the_lines_app_builds_only_on_core_accounts_and_catalog() -> None:
    imported = {
        (path.name, module)
        for path in LINES_APP.glob("*.py")
        for module in _imported_modules(path)
        if module.startswith("clientledger.")
    }
    assert imported
    assert {
        (name, module)
        for name, module in imported
        if not module.startswith((*LINES_FOUNDATIONS, "clientledger.lines"))
    } == set()


def _form_errors(kind: str, value: str, quantity: str = "1") -> dict[str, ErrorList]:
    data = QueryDict(mutable=True)
    data.update(
        {
            "line-0-description": "Design",
            "line-0-quantity": quantity,
            "line-0-unit": "hour",
            "line-0-unit_price": "100",
            "line-0-discount_kind": kind,
            "line-0-discount_value": value,
            "line-0-recurrence": "one_off",
        }
    )
    catalog = LineCatalog(services={}, taxes={}, offered_services=[], offered_taxes=[])
    form = LineForm(data, key="0", catalog=catalog, service_options={}, currency="USD")
    form.is_valid()
    return dict(form.errors)


def _api_errors(kind: str, value: str) -> list[str]:
    line = {"description": "Design", "quantity": "1", "unit_price": "100"}
    try:
        LineIn.model_validate({**line, "discount_kind": kind, "discount_value": value})
    except ValidationError as error:
        return [problem["msg"] for problem in error.errors()]
    return []


@pytest.mark.parametrize(("value", "refused"), [("100", False), ("100.0001", True)])
def test_the_editor_and_the_api_refuse_a_percentage_exactly_where_the_engine_does(
    value: str, refused: bool
) -> None:
    try:
        discount_validate("percent", Decimal(value))
    except CalculationError as error:
        assert error.code == Problem.PERCENT_OUT_OF_RANGE
        engine_refuses = True
    else:
        engine_refuses = False

    assert engine_refuses is refused
    assert bool(_form_errors("percent", value)) is refused
    assert bool(_api_errors("percent", value)) is refused


def test_each_caller_words_the_percent_rule_its_own_way() -> None:
    assert _form_errors("percent", "150") == {
        "discount_value": ["A percentage discount cannot exceed 100%."]
    }
    assert _api_errors("percent", "150") == ["A percentage must be between 0 and 100."]


def test_a_discount_without_a_type_is_refused_on_the_type_in_the_editor() -> None:
    assert _form_errors("", "10") == {
        "discount_kind": ["Choose a discount type, or clear the discount."]
    }
    assert _api_errors("", "10") == ["Choose a discount type or leave it at 0."]


def test_a_discount_error_shows_beside_the_other_errors_of_its_row() -> None:
    errors = _form_errors("percent", "150", quantity="0")
    assert errors == {
        "quantity": ["The quantity must be greater than zero."],
        "discount_value": ["A percentage discount cannot exceed 100%."],
    }
