"""CRM forms. They validate input and name the field at fault; services do the writing.

The ModelForms here are never saved: their `cleaned_data` goes to a service, which validates
again, saves and audits. An edit form is therefore built from `initial`, not `instance`, so
that validating it cannot change the object the service compares against.
"""

from __future__ import annotations

from functools import partial
from typing import Any, cast

from django import forms

from clientledger.accounts.models import Agency, User
from clientledger.core.forms import (
    AppModelForm,
    DateInputField,
    currency_choices,
)
from clientledger.crm.client_picker import ClientPicker, bounded_choices
from clientledger.crm.models import (
    Client,
    Contact,
    Deal,
)
from clientledger.crm.selectors import (
    agency_members,
)


class ClientForm(AppModelForm):
    currency = forms.ChoiceField(
        choices=partial(currency_choices, separator="—"),
        help_text="Estimates and invoices for this client are issued in this currency.",
        error_messages={
            "required": "Choose the currency the client is billed in.",
            "invalid_choice": "Choose a currency from the list (ISO 4217 code).",
        },
    )
    payment_terms_days = forms.IntegerField(
        label="Payment terms (days)",
        required=False,
        min_value=0,
        max_value=365,
        help_text="Days until an invoice is due. Leave empty to use the agency's default.",
        error_messages={
            "invalid": "Enter the payment terms as a whole number of days.",
            "min_value": "Payment terms cannot be negative.",
            "max_value": "Payment terms can be at most 365 days.",
        },
    )

    class Meta:
        model = Client
        fields = [
            "name",
            "billing_email",
            "address_line1",
            "address_line2",
            "postal_code",
            "city",
            "region",
            "country",
            "currency",
            "tax_id",
            "tax_exempt",
            "payment_terms_days",
            "notes",
        ]
        labels = {"tax_exempt": "Tax-exempt (no tax is added to this client's documents)"}
        error_messages = {
            "name": {"required": "Enter the company name."},
            "billing_email": {
                "invalid": "Enter a valid billing email address, e.g. accounts@acme.com."
            },
        }
        widgets = {"notes": forms.Textarea(attrs={"rows": 4})}


class ContactForm(AppModelForm):
    class Meta:
        model = Contact
        fields = ["name", "email", "phone", "job_title", "is_billing_contact"]
        labels = {"is_billing_contact": "Billing contact (receives estimates and invoices)"}
        error_messages = {
            "name": {"required": "Enter the contact's name."},
            "email": {"invalid": "Enter a valid email address, e.g. jane@acme.com."},
        }


class ClientChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Client) -> str:
        return f"{obj.name} ({obj.currency})"


class OwnerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return obj.full_name or obj.email


class DealForm(AppModelForm):
    client = ClientChoiceField(
        queryset=Client.objects.none(),
        widget=ClientPicker(),
        error_messages={
            "required": "Choose the client this deal is for.",
            "invalid_choice": "Choose a client of your agency.",
        },
    )
    owner = OwnerChoiceField(
        queryset=User.objects.none(),
        required=False,
        empty_label="Nobody yet",
        error_messages={"invalid_choice": "Choose a member of your agency."},
    )

    class Meta:
        model = Deal
        fields = ["title", "client", "owner", "stage", "expected_close_date", "notes"]
        error_messages = {
            "title": {"required": "Enter the deal's title."},
            "stage": {"invalid_choice": "Choose a pipeline stage from the list."},
            "expected_close_date": {"invalid": "Enter the expected close date as YYYY-MM-DD."},
        }
        field_classes = {"expected_close_date": DateInputField}
        widgets = {
            "expected_close_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "notes": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args: Any, agency: Agency, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        client_field = cast(ClientChoiceField, self.fields["client"])
        client_field.queryset = Client.objects.filter(agency=agency).only("id", "name", "currency")
        bounded_choices(
            self,
            name="client",
            agency=agency,
            selected_id=self["client"].value(),
            empty_label="Choose a client",
        )
        cast(OwnerChoiceField, self.fields["owner"]).queryset = agency_members(agency=agency)
