"""The reminder settings forms: a policy with its steps, a client's choice, a pause."""

from __future__ import annotations

from typing import Any

from django import forms

from clientledger.core.forms import AppForm, DateInputField
from clientledger.receivables.models import ReminderPolicy, ReminderTrigger
from clientledger.receivables.placeholders import PLACEHOLDERS
from clientledger.receivables.services.policies import StepData

PLACEHOLDER_HINT = "Placeholders: " + ", ".join(f"{{{name}}}" for name in PLACEHOLDERS) + "."


class PolicyForm(AppForm):
    name = forms.CharField(max_length=100, error_messages={"required": "Name the policy."})
    enabled = forms.BooleanField(label="Send reminders with this policy", required=False)
    send_hour = forms.TypedChoiceField(
        label="Sending hour",
        coerce=int,
        choices=[(hour, f"{hour:02d}:00") for hour in range(24)],
        help_text="Reminders go out from this hour of your agency's day (its timezone).",
    )
    business_days_only = forms.BooleanField(
        label="Only on business days (Monday to Friday)", required=False
    )


class StepForm(AppForm):
    id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    trigger = forms.ChoiceField(label="Counted from", choices=ReminderTrigger.choices)
    offset_days = forms.IntegerField(
        label="Days",
        min_value=-365,
        max_value=365,
        help_text="Negative: before the date.",
        error_messages={
            "min_value": "Use -365 to 365 days.",
            "max_value": "Use -365 to 365 days.",
            "invalid": "Enter a whole number of days.",
        },
    )
    subject = forms.CharField(max_length=200)
    body = forms.CharField(max_length=5000, widget=forms.Textarea(attrs={"rows": 4}))
    enabled = forms.BooleanField(label="On", required=False)
    remove = forms.BooleanField(label="Remove", required=False)

    def step_data(self) -> StepData | None:
        """What the service saves; None for a removed or untouched blank row."""
        data = self.cleaned_data
        if data.get("remove") or (not self.has_changed() and not data.get("id")):
            return None
        return StepData(
            id=data.get("id"),
            trigger=data["trigger"],
            offset_days=data["offset_days"],
            subject=data["subject"],
            body=data["body"],
            enabled=data["enabled"],
        )


StepFormSet = forms.formset_factory(StepForm, extra=1, max_num=30, validate_max=True)


def step_formset(policy: ReminderPolicy, data: Any = None) -> Any:
    initial = [
        {
            "id": step.pk,
            "trigger": step.trigger,
            "offset_days": step.offset_days,
            "subject": step.subject,
            "body": step.body,
            "enabled": step.enabled,
        }
        for step in policy.steps.all()
    ]
    formset = StepFormSet(data, initial=initial, prefix="steps")
    # The blank row added for a new step is optional: untouched, it is not a step.
    for form in formset.forms[len(initial) :]:
        form.empty_permitted = True
    return formset


class PolicyCreateForm(AppForm):
    name = forms.CharField(
        max_length=100,
        help_text="A new policy starts with the standard steps; edit them next.",
        error_messages={"required": "Name the policy."},
    )


class PauseForm(AppForm):
    reason = forms.CharField(
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Shown on the invoice's reminders, e.g. “Client agreed to pay on the 15th”.",
        error_messages={
            "required": "Say why the reminders pause.",
            "max_length": "Keep the reason under 300 characters.",
        },
    )


DEFAULT_CHOICE = "default"
NONE_CHOICE = "none"


class ClientRemindersForm(AppForm):
    policy = forms.ChoiceField(label="Reminders for this client")

    def __init__(self, *args: Any, policies: list[ReminderPolicy], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        default = next((policy for policy in policies if policy.is_default), None)
        cast_field = self.fields["policy"]
        assert isinstance(cast_field, forms.ChoiceField)
        cast_field.choices = [
            (DEFAULT_CHOICE, f"The agency's default ({default.name if default else 'standard'})"),
            *[(str(policy.pk), policy.name) for policy in policies if not policy.is_default],
            (NONE_CHOICE, "No reminders"),
        ]
        self.policies = {str(policy.pk): policy for policy in policies}

    def chosen(self) -> tuple[bool, ReminderPolicy | None]:
        """(follows the default, the policy chosen otherwise: None for no reminders)."""
        value = self.cleaned_data["policy"]
        if value == DEFAULT_CHOICE:
            return True, None
        return False, self.policies.get(value)


class StatementPeriodForm(AppForm):
    start = DateInputField(
        label="From",
        required=False,
        error_messages={"invalid": "Enter the first day as YYYY-MM-DD."},
    )
    end = DateInputField(
        label="To",
        required=False,
        error_messages={"invalid": "Enter the last day as YYYY-MM-DD."},
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end and start > end:
            self.add_error("start", "The period starts after it ends.")
        return data
