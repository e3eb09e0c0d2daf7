from __future__ import annotations

from functools import lru_cache
from typing import Any
from zoneinfo import available_timezones

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.urls import reverse

from clientledger.accounts.models import Agency, validate_number_format
from clientledger.accounts.number_formats import format_number
from clientledger.accounts.roles import Role
from clientledger.core import clock
from clientledger.core.forms import AppForm, AppModelForm, TextRulesMixin, currency_choices

NUMBER_FORMAT_FIELDS = (
    "estimate_number_format",
    "invoice_number_format",
    "credit_note_number_format",
)
# Owners are made when an agency is created; nobody is invited or promoted into that seat.
ASSIGNABLE_ROLES = [(role.value, role.label) for role in Role if role != Role.OWNER]


def number_preview_text(number_format: str, *, timezone: str) -> str:
    """A help line for a number format field: its next number, or why the format is invalid."""
    try:
        validate_number_format(number_format)
    except ValidationError as exc:
        return " ".join(exc.messages)
    today = clock.local_today(timezone)
    first = format_number(number_format, on=today, sequence=1)
    return f"The first number of a series looks like {first}."


@lru_cache(maxsize=1)
def timezone_choices() -> list[tuple[str, str]]:
    return [(name, name.replace("_", " ")) for name in sorted(available_timezones())]


class EmailLoginForm(TextRulesMixin, AuthenticationForm):
    """Django's login form, keyed on the email address as it is stored (lower case)."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "The email address or password is incorrect.",
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].label = "Email address"
        self.fields["username"].widget = forms.EmailInput(
            attrs={"autofocus": True, "autocomplete": "email", "placeholder": "you@agency.com"}
        )
        self.fields["password"].widget.attrs["placeholder"] = "Your password"

    def clean_username(self) -> str:
        return self.cleaned_data["username"].strip().lower()


class LogoInput(forms.ClearableFileInput):
    """Only the file input; the page renders its own preview and "remove" checkbox."""

    template_name = "django/forms/widgets/file.html"


class AgencySettingsForm(AppModelForm):
    default_currency = forms.ChoiceField(label="Default currency", choices=currency_choices)
    timezone = forms.ChoiceField(label="Time zone", choices=timezone_choices)

    class Meta:
        model = Agency
        fields = [
            "name",
            "legal_address",
            "tax_id",
            "logo",
            "brand_color",
            "default_currency",
            "timezone",
            "default_payment_terms_days",
            "tax_rounding",
            "estimate_validity_days",
            "auto_convert_approved_estimates",
            "approval_wins_deal",
            "apply_credit_to_retainers",
            "payment_instructions",
            "document_footer",
            *NUMBER_FORMAT_FIELDS,
        ]
        labels = {
            "name": "Agency name",
            "brand_color": "Brand colour",
            "default_payment_terms_days": "Default payment terms (days)",
        }
        help_texts = {
            "legal_address": "Printed on estimates, invoices and credit notes.",
            "logo": "PNG, JPEG, GIF or WebP, at most 1 MB. Shown on documents and emails.",
            "brand_color": "Used for the colour bar on documents, emails and the app.",
            "default_currency": "New clients start with this currency.",
            "timezone": "Billing dates and recurring runs follow this time zone.",
            "default_payment_terms_days": "Days between an invoice's issue date and due date.",
            "tax_rounding": "Per line rounds every line's tax; per document rounds the sum.",
        }
        widgets = {
            "legal_address": forms.Textarea(attrs={"rows": 3}),
            "logo": LogoInput(attrs={"accept": "image/png,image/jpeg,image/gif,image/webp"}),
            "brand_color": forms.TextInput(attrs={"type": "color", "class": "form-control-color"}),
            "default_payment_terms_days": forms.NumberInput(attrs={"min": 0, "max": 365}),
            "estimate_validity_days": forms.NumberInput(attrs={"min": 0, "max": 365}),
            "payment_instructions": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        preview_url = reverse("accounts:number_preview")
        for name in NUMBER_FORMAT_FIELDS:
            # Typing in a format field asks the server for its preview line (live, via HTMX).
            self.fields[name].widget.attrs.update(
                {
                    "spellcheck": "false",
                    "autocomplete": "off",
                    "hx-get": preview_url,
                    "hx-trigger": "input changed delay:300ms",
                    "hx-target": f"#{name}-preview",
                    "hx-sync": "this:replace",
                }
            )

    def number_previews(self) -> dict[str, str]:
        """The help line under each number format field for the value the form shows."""
        timezone = self.instance.timezone
        return {
            name: number_preview_text(str(self[name].value() or ""), timezone=timezone)
            for name in NUMBER_FORMAT_FIELDS
        }

    def service_data(self) -> dict[str, Any]:
        """Cleaned values for `agency_update`, which checks the logo: the logo only when
        uploaded ("" when removed)."""
        data = dict(self.cleaned_data)
        logo = data.pop("logo", None)
        if isinstance(logo, UploadedFile):
            data["logo"] = logo
        elif logo is False:
            data["logo"] = ""
        return data


class InviteForm(AppForm):
    email = forms.EmailField(
        label="Email address",
        widget=forms.EmailInput(attrs={"placeholder": "colleague@agency.com"}),
    )
    role = forms.ChoiceField(choices=ASSIGNABLE_ROLES, initial=Role.VIEWER)


class RoleForm(AppForm):
    role = forms.ChoiceField(choices=ASSIGNABLE_ROLES)


class AcceptInvitationForm(AppForm):
    full_name = forms.CharField(
        label="Your name", max_length=150, widget=forms.TextInput(attrs={"autofocus": True})
    )
    password1 = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 12 characters; not too common and not all digits.",
    )
    password2 = forms.CharField(
        label="Confirm password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if first and second and first != second:
            self.add_error("password2", "The two passwords do not match.")
        return cleaned


class ApiTokenForm(AppForm):
    name = forms.CharField(
        label="Token name",
        max_length=100,
        widget=forms.TextInput(attrs={"placeholder": "e.g. Accounting export"}),
        help_text="A name that reminds you where the token is used.",
    )
