"""The base forms and fields every page's form is built from."""

from __future__ import annotations

import datetime as dt
import importlib
import pkgutil
from decimal import Decimal

import pytest
from django import forms
from django.forms.utils import ErrorList
from django.test import Client as HttpClient
from django.urls import reverse

import clientledger
from clientledger.accounts.models import Membership
from clientledger.core import clock
from clientledger.core.forms import (
    AppForm,
    DateInputField,
    DecimalInputField,
    TextRulesMixin,
)


def app_form_classes() -> list[type[forms.BaseForm]]:
    for module in pkgutil.walk_packages(clientledger.__path__, "clientledger."):
        if module.name.endswith(".forms"):
            importlib.import_module(module.name)
    found: list[type[forms.BaseForm]] = []
    pending: list[type[forms.BaseForm]] = [forms.BaseForm]
    while pending:
        for subclass in pending.pop().__subclasses__():
            pending.append(subclass)
            if subclass.__module__.startswith("clientledger."):
                found.append(subclass)
    return found


def test_the_app_has_forms_to_check() -> None:
    assert len(app_form_classes()) > 20


@pytest.mark.parametrize("form_class", app_form_classes(), ids=lambda cls: cls.__name__)
def test_every_form_of_the_app_applies_the_text_rules(form_class: type[forms.BaseForm]) -> None:
    assert issubclass(form_class, TextRulesMixin)


@pytest.mark.parametrize("form_class", app_form_classes(), ids=lambda cls: cls.__name__)
def test_every_number_and_date_field_of_the_app_is_the_strict_one(
    form_class: type[forms.BaseForm],
) -> None:
    for name, field in getattr(form_class, "base_fields", {}).items():
        if isinstance(field, forms.DecimalField):
            assert isinstance(field, DecimalInputField), name
        if isinstance(field, forms.DateField):
            assert isinstance(field, DateInputField), name


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("12.50", Decimal("12.50")),
        (" 7 ", Decimal("7")),
        ("-3.5", Decimal("-3.5")),
        (".5", Decimal("0.5")),
        ("1,234.50", Decimal("1234.50")),
        ("12,345,678", Decimal("12345678")),
    ],
)
def test_a_number_field_accepts_plain_decimals_and_grouped_thousands(
    text: str, number: Decimal
) -> None:
    assert DecimalInputField().clean(text) == number


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("NaN", "Enter a number."),
        ("-Infinity", "Enter a number."),
        ("sNaN", "Enter a number."),
        ("1e3", "Enter a number."),
        ("1_000", "Enter a number."),
        ("\u0661\u0662", "Enter a number."),
        ("0x10", "Enter a number."),
        ("9" * 41, "Enter at most 40 characters."),
        ("12,5", "Enter a number. Write decimals with a point (1234.50)"),
        ("1.234,50", "Enter a number. Write decimals with a point (1234.50)"),
        ("1,2345", "Enter a number. Write decimals with a point (1234.50)"),
    ],
)
def test_a_number_field_refuses_anything_else_with_a_message(text: str, message: str) -> None:
    with pytest.raises(forms.ValidationError) as refused:
        DecimalInputField().clean(text)

    assert refused.value.messages[0].startswith(message)


def test_a_number_field_says_how_long_its_input_may_be() -> None:
    class PriceForm(AppForm):
        price = DecimalInputField()

    assert 'maxlength="40"' in str(PriceForm()["price"])
    assert 'inputmode="decimal"' in str(PriceForm()["price"])


@pytest.fixture
def in_2026(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clock, "now", lambda: dt.datetime(2026, 6, 1, tzinfo=dt.UTC))


@pytest.mark.parametrize("text", ["2000-01-01", "2026-06-01", "2036-12-31"])
def test_a_date_field_accepts_the_window_from_2000_to_ten_years_ahead(
    in_2026: None, text: str
) -> None:
    assert DateInputField().clean(text) == dt.date.fromisoformat(text)


@pytest.mark.parametrize("text", ["0001-01-01", "1999-12-31", "2037-01-01", "9999-12-31"])
def test_a_date_field_refuses_dates_outside_the_window(in_2026: None, text: str) -> None:
    with pytest.raises(forms.ValidationError) as refused:
        DateInputField().clean(text)

    assert refused.value.messages == ["Enter a date from 2000 to 2036."]


def test_a_date_picker_offers_only_the_window(in_2026: None) -> None:
    class DayForm(AppForm):
        day = DateInputField()

    html = str(DayForm()["day"])
    assert 'min="2000-01-01"' in html and 'max="2036-12-31"' in html


class NoteForm(AppForm):
    title = forms.CharField()
    body = forms.CharField(widget=forms.Textarea)
    password = forms.CharField(strip=False, widget=forms.PasswordInput)


def note_errors(**data: str) -> dict[str, ErrorList]:
    form = NoteForm({"title": "Note", "body": "Text", "password": "secret", **data})
    form.is_valid()
    return dict(form.errors)


def test_a_single_line_field_refuses_line_breaks_and_a_textarea_keeps_them() -> None:
    assert note_errors(title="One\r\nTwo") == {
        "title": ["Enter this on one line: remove the line break (U+000D)."]
    }
    assert note_errors(body="One\r\nTwo\tThree") == {}


def test_a_textarea_refuses_other_control_characters() -> None:
    assert note_errors(body="Ring\x07") == {
        "body": ["Remove the control character U+0007: text cannot contain it."]
    }


def test_a_password_is_taken_exactly_as_typed() -> None:
    assert note_errors(password="tab\there") == {}


@pytest.mark.django_db
def test_a_member_whose_password_holds_a_tab_still_signs_in(owner: Membership) -> None:
    owner.user.set_password("correct\thorse battery")
    owner.user.save()
    http = HttpClient()

    response = http.post(
        reverse("accounts:login"),
        {"username": owner.user.email, "password": "correct\thorse battery"},
    )

    assert response.status_code == 302
