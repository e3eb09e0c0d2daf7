"""Form helpers shared by every app's pages."""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any, TypeVar

from babel.numbers import get_currency_name
from django import forms
from django.core.exceptions import ValidationError

from clientledger.core.money import currency_codes

T = TypeVar("T")


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


class CsvUploadForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        error_messages={"required": "Choose a CSV file to upload.", "empty": "The file is empty."},
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
        help_text="UTF-8, comma-separated, at most 5 MB, with the header row first.",
    )
