"""Staff forms for recurring schedules. They name the field at fault; the services validate
again, write and audit. Lines are edited with lines.editor.LinesEditor."""

from __future__ import annotations

import re
from typing import Any

from django import forms

from clientledger.accounts.models import PAYMENT_TERMS_VALIDATORS
from clientledger.billing.services.sending import MAX_RECIPIENTS
from clientledger.core.forms import AppForm, DateInputField
from clientledger.lines.choices import Recurrence
from clientledger.recurring.models import (
    IntervalUnit,
    PeriodAction,
    RecurringSchedule,
    ScheduleEnd,
)

_SEPARATORS = re.compile(r"[\s,;]+")


class RecipientsField(forms.CharField):
    """Email addresses separated by commas, spaces or new lines (checked by the service)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            label="Send to",
            required=False,
            max_length=2000,
            help_text=f"Up to {MAX_RECIPIENTS} addresses, separated by commas. Leave empty to "
            "use the client's billing addresses.",
            **kwargs,
        )

    def clean(self, value: Any) -> list[str]:
        text = super().clean(value)
        return [address for address in _SEPARATORS.split(text) if address]


def recipients_text(recipients: list[str]) -> str:
    return ", ".join(recipients)


class ScheduleSettingsForm(AppForm):
    """What a schedule bills on and how it ends, shared by setting one up and editing it."""

    name = forms.CharField(
        max_length=200, help_text="How the retainer is named on the staff pages."
    )
    start_date = DateInputField(
        label="First invoice on",
        help_text="Every later invoice is dated from this day: the 31st bills on the last "
        "day of shorter months.",
        error_messages={"invalid": "Enter the start date as YYYY-MM-DD."},
    )
    on_period = forms.ChoiceField(
        label="Each period",
        choices=PeriodAction.choices,
        initial=PeriodAction.DRAFT,
        widget=forms.RadioSelect,
    )
    end_kind = forms.ChoiceField(
        label="Ends", choices=ScheduleEnd.choices, initial=ScheduleEnd.NEVER
    )
    end_date = DateInputField(
        label="Last period starts on or before",
        required=False,
        error_messages={"invalid": "Enter the end date as YYYY-MM-DD."},
    )
    end_after_count = forms.IntegerField(
        label="Number of invoices", required=False, min_value=1, max_value=10_000
    )
    payment_terms_days = forms.IntegerField(
        label="Payment terms (days)",
        required=False,
        validators=PAYMENT_TERMS_VALIDATORS,
        min_value=0,
        help_text="Leave empty to use the client's terms.",
    )
    recipients = RecipientsField()
    notes = forms.CharField(
        label="Invoice notes", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def clean(self) -> dict[str, Any]:
        data = self.cleaned_data
        kind = data.get("end_kind")
        if kind == ScheduleEnd.ON_DATE and not data.get("end_date"):
            self.add_error("end_date", "Enter the date the schedule ends.")
        if kind == ScheduleEnd.AFTER_COUNT and not data.get("end_after_count"):
            self.add_error("end_after_count", "Enter how many invoices the schedule makes.")
        return data


class ScheduleFromDealForm(ScheduleSettingsForm):
    """Setting up a retainer from a won deal: its recurring lines of one recurrence."""

    recurrence = forms.ChoiceField(label="Bill the deal's", choices=())

    def __init__(self, *args: Any, recurrences: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["recurrence"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [
            (value, f"{Recurrence(value).label.lower()} lines") for value in recurrences
        ]
        if len(recurrences) == 1:
            field.initial = recurrences[0]
            field.widget = forms.HiddenInput()


class ScheduleEditForm(ScheduleSettingsForm):
    """Every setting of a schedule, its frequency included; it applies to unbilled periods."""

    interval_count = forms.IntegerField(label="Every", min_value=1, max_value=366)
    interval_unit = forms.ChoiceField(label="Unit", choices=IntervalUnit.choices)
    terms = forms.CharField(
        label="Invoice terms", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    field_order = [
        "name",
        "interval_count",
        "interval_unit",
        "start_date",
        "end_kind",
        "end_date",
        "end_after_count",
        "on_period",
        "payment_terms_days",
        "recipients",
        "notes",
        "terms",
    ]

    @classmethod
    def initial_of(cls, schedule: RecurringSchedule) -> dict[str, Any]:
        initial = {name: getattr(schedule, name) for name in cls.base_fields}
        initial["recipients"] = recipients_text(schedule.recipients)
        return initial


class ScheduleEndForm(AppForm):
    reason = forms.CharField(
        label="Reason",
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Kept in the activity trail, e.g. the contract's end.",
    )
