"""Form helpers shared by every app's pages: the base forms, the number and date fields."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import Decimal
from functools import lru_cache
from typing import Any, TypeVar

from babel.numbers import get_currency_name
from django import forms
from django.core.exceptions import ValidationError

from clientledger.core.dates import date_problem, date_window
from clientledger.core.error_codes import ErrorCode
from clientledger.core.money import currency_codes, parse_decimal
from clientledger.core.text import TextValidator

T = TypeVar("T")

SINGLE_LINE_TEXT = TextValidator(multiline=False)
MULTILINE_TEXT = TextValidator(multiline=True)
# Longer than any amount a person types (18 digits, separators, sign), far shorter than the
# thousands of digits that would make Decimal arithmetic slow.
MAX_NUMBER_LENGTH = 40
# Thousands grouped with commas, as every page formats amounts (en-US): "1,234.50".
_GROUPED_NUMBER = re.compile(r"[+-]?[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]*)?")
DECIMAL_POINT_HINT = "Write decimals with a point (1234.50); a comma only groups thousands."


class TextRulesMixin(forms.BaseForm):
    """The base of every form: each text field refuses control characters and invalid code
    points (core.text); a textarea also takes line breaks and tabs.

    The rule is added when the form is cleaned, so fields added in `__init__` get it too.
    Fields that keep their input exactly as typed (`strip=False`) are passwords: hashed, never
    shown, and one chosen on Django's own password page must keep working, so they are left
    alone.
    """

    def full_clean(self) -> None:
        for field in self.fields.values():
            if isinstance(field, forms.CharField) and field.strip:
                multiline = isinstance(field.widget, forms.Textarea)
                rule = MULTILINE_TEXT if multiline else SINGLE_LINE_TEXT
                if rule not in field.validators:
                    field.validators.append(rule)
        super().full_clean()


class AppForm(TextRulesMixin, forms.Form):
    """The base of the app's plain forms."""


class AppModelForm(TextRulesMixin, forms.ModelForm):
    """The base of the app's model forms."""


class DecimalInputField(forms.DecimalField):
    """Every money, quantity and percentage input: the API's strict number rules.

    Plain decimal notation with ASCII digits: no exponent ("1e999999"), NaN, Infinity,
    underscores or other scripts' digits, at most MAX_NUMBER_LENGTH characters. Thousands
    grouped with commas are accepted ("1,234.50"); a decimal comma is refused with a hint.
    Bounds, digits and decimals are the DecimalField's.
    """

    default_error_messages = {
        "too_long": f"Enter at most {MAX_NUMBER_LENGTH} characters.",
    }

    def __init__(self, *, widget: forms.Widget | None = None, **kwargs: Any) -> None:
        widget = widget or forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"})
        super().__init__(widget=widget, **kwargs)

    def widget_attrs(self, widget: forms.Widget) -> dict[str, Any]:
        attrs: dict[str, Any] = super().widget_attrs(widget)
        if not widget.is_hidden:
            attrs.setdefault("maxlength", str(MAX_NUMBER_LENGTH))
        return attrs

    # django-stubs gives DecimalField the to_python of its base, IntegerField.
    def to_python(self, value: Any) -> Decimal | None:  # type: ignore[override]
        if value in self.empty_values:
            return None
        if isinstance(value, Decimal):
            return value
        text = str(value).strip()
        if len(text) > MAX_NUMBER_LENGTH:
            raise ValidationError(self.error_messages["too_long"], code=ErrorCode.TOO_LONG)
        if _GROUPED_NUMBER.fullmatch(text):
            text = text.replace(",", "")
        elif "," in text:
            raise ValidationError(
                f"{self.error_messages['invalid']} {DECIMAL_POINT_HINT}", code=ErrorCode.INVALID
            )
        try:
            return parse_decimal(text, field="value")
        except ValueError:
            raise ValidationError(self.error_messages["invalid"], code=ErrorCode.INVALID) from None


class DateInputField(forms.DateField):
    """Every date a record keeps: a date picker limited to core.dates' window, which is
    checked again on the server."""

    def __init__(self, *, widget: forms.Widget | None = None, **kwargs: Any) -> None:
        widget = widget or forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
        super().__init__(widget=widget, **kwargs)

    def widget_attrs(self, widget: forms.Widget) -> dict[str, Any]:
        attrs: dict[str, Any] = super().widget_attrs(widget)
        if getattr(widget, "input_type", None) == "date":
            first, last = date_window()
            attrs.update(min=first.isoformat(), max=last.isoformat())
        return attrs

    def validate(self, value: dt.date | None) -> None:
        super().validate(value)
        if value is not None and (problem := date_problem(value)) is not None:
            raise ValidationError(problem, code=ErrorCode.DATE_WINDOW)


def add_service_errors(form: forms.BaseForm, error: ValidationError, **renamed: str) -> None:
    """Show a service's ValidationError next to the field it names (above the form otherwise).

    `renamed` maps a service's field name to the form's where they differ
    (`password="password1"`).
    """
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, field_errors in error.error_dict.items():
        target = renamed.get(field, field)
        form.add_error(target if target in form.fields else None, field_errors)


def save_valid_form(
    form: forms.BaseForm, save: Callable[[dict[str, Any]], T], **renamed: str
) -> T | None:
    """Run `save` (a service call) on a bound, valid form's cleaned data; return its result.

    None means nothing was saved: the form is unbound or invalid, or the service refused the
    data, whose errors then show on the form (`renamed` as for `add_service_errors`).
    """
    if not form.is_valid():
        return None
    try:
        return save(form.cleaned_data)
    except ValidationError as error:
        add_service_errors(form, error, **renamed)
        return None


@lru_cache(maxsize=2)
def currency_choices(separator: str = "·") -> list[tuple[str, str]]:
    """Every accepted currency (`currency_codes`), labelled like "EUR · Euro" (the client
    form separates with "—")."""
    return [
        (code, f"{code} {separator} {get_currency_name(code, locale='en_US')}")
        for code in currency_codes()
    ]


class CsvUploadForm(AppForm):
    file = forms.FileField(
        label="CSV file",
        error_messages={"required": "Choose a CSV file to upload.", "empty": "The file is empty."},
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
        help_text="UTF-8, comma-separated, at most 5 MB, with the header row first.",
    )
