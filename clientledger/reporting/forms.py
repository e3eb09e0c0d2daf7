"""The reports' parameters: the date the figures are read as of, the currency, and for the
aging's drill-down a bucket and a client."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms

from clientledger.core.forms import AppForm, DateInputField
from clientledger.core.money import currency_problem
from clientledger.reporting.selectors.common import Bucket


class ReportFilterForm(AppForm):
    as_of = DateInputField(
        label="As of",
        required=False,
        help_text="The figures as they stood at the end of this day.",
    )
    currency = forms.CharField(label="Currency", required=False, max_length=3)
    bucket = forms.ChoiceField(
        label="Days past due",
        required=False,
        choices=[("", "All"), *((bucket.key, bucket.label) for bucket in Bucket)],
    )
    client = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args: Any, today: dt.date, default_currency: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        self.default_currency = default_currency

    def clean_as_of(self) -> dt.date:
        as_of: dt.date | None = self.cleaned_data.get("as_of")
        if as_of is None:
            return self.today
        if as_of > self.today:
            raise forms.ValidationError("Choose today or a past day: the future is not known yet.")
        return as_of

    def clean_currency(self) -> str:
        currency = (self.cleaned_data.get("currency") or "").strip().upper()
        if not currency:
            return self.default_currency
        problem = currency_problem(currency)
        if problem:
            raise forms.ValidationError(problem)
        return currency

    def clean_bucket(self) -> Bucket | None:
        key = self.cleaned_data.get("bucket") or ""
        return Bucket.from_key(key) if key else None
