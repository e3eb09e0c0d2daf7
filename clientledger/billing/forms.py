"""Staff forms for estimates, invoices and credit notes. They validate input and name the
field at fault; the billing services validate again, write and audit. Line editing is
lines.editor.LinesEditor (a credit note's own rows: `CreditLineFormSet`)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, cast

from django import forms
from django.db.models import QuerySet

from clientledger.accounts.models import Agency
from clientledger.billing.models import CreditNoteStatus, CreditSettlement, EstimateStatus
from clientledger.billing.selectors import (
    DocumentFilters,
    InvoiceFilters,
    InvoiceListStatus,
    Recipient,
    suggested_recipients,
)
from clientledger.core.forms import AppForm, DateInputField, DecimalInputField
from clientledger.crm.client_picker import ClientPicker, bounded_choices
from clientledger.crm.forms import ClientChoiceField
from clientledger.crm.models import Client, Deal


def _date_field(label: str, help_text: str = "") -> DateInputField:
    return DateInputField(
        label=label,
        required=False,
        help_text=help_text,
        error_messages={"invalid": f"Enter the {label.lower()} as YYYY-MM-DD."},
    )


class DealChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Deal) -> str:
        return obj.title


def _client_deals(agency: Agency, client_id: Any) -> QuerySet[Deal]:
    if not str(client_id or "").isdigit():
        return Deal.objects.none()
    return Deal.objects.filter(agency=agency, client_id=int(client_id)).only("id", "title")


def _deal_field(empty_label: str) -> DealChoiceField:
    return DealChoiceField(
        queryset=Deal.objects.none(),
        required=False,
        empty_label=empty_label,
        help_text="Link the document to one of the client's deals to trace it back.",
        error_messages={"invalid_choice": "Choose a deal of this client."},
    )


class DocumentCreateForm(AppForm):
    """The client of a new estimate or invoice, and optionally one of its deals."""

    client = ClientChoiceField(
        queryset=Client.objects.none(),
        widget=ClientPicker(),
        help_text="The document is issued in the client's currency.",
        error_messages={
            "required": "Choose the client this document is for.",
            "invalid_choice": "Choose a client of your agency.",
        },
    )
    deal = _deal_field("No deal")

    def __init__(self, *args: Any, agency: Agency, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        clients = Client.objects.filter(agency=agency).only("id", "name", "currency")
        cast(ClientChoiceField, self.fields["client"]).queryset = clients
        client_id = self.data.get("client") if self.is_bound else self.initial.get("client")
        bounded_choices(
            self, name="client", agency=agency, selected_id=client_id, empty_label="Choose a client"
        )
        cast(DealChoiceField, self.fields["deal"]).queryset = _client_deals(agency, client_id)


class DocumentDetailsForm(AppForm):
    """A draft's texts and deal; estimates also have a validity date."""

    deal = _deal_field("No deal")
    valid_until = _date_field(
        "Valid until", "Leave empty to use the agency's default validity from the day it is sent."
    )
    notes = forms.CharField(
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Printed on the document, e.g. what the work covers.",
        error_messages={"max_length": "Keep the notes under 5,000 characters."},
    )
    terms = forms.CharField(
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Printed under the totals, e.g. conditions or payment terms.",
        error_messages={"max_length": "Keep the terms under 5,000 characters."},
    )

    def __init__(self, *args: Any, client: Client, has_validity: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        agency = client.agency
        cast(DealChoiceField, self.fields["deal"]).queryset = _client_deals(agency, client.pk)
        if not has_validity:
            del self.fields["valid_until"]


class SendForm(AppForm):
    recipients = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
        error_messages={"invalid_choice": "Choose recipients among the client's addresses."},
    )
    message = forms.CharField(
        label="Message",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Added to the email above the link. The PDF is attached.",
        error_messages={"max_length": "Keep the message under 2,000 characters."},
    )

    def __init__(self, *args: Any, recipients: list[Recipient], **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"recipients": suggested_recipients(recipients)})
        super().__init__(*args, **kwargs)
        field = cast(forms.MultipleChoiceField, self.fields["recipients"])
        field.choices = [(recipient.email, recipient.label) for recipient in recipients]


class IssueForm(AppForm):
    issue_date = _date_field("Issue date", "Leave empty to issue it today.")
    due_date = _date_field("Due date")

    def __init__(self, *args: Any, terms_days: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["due_date"].help_text = (
            f"Leave empty for the payment terms: {terms_days} day{'' if terms_days == 1 else 's'}"
            " after the issue date."
        )


class VoidForm(AppForm):
    reason = forms.CharField(
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Kept on the invoice and in its history.",
        error_messages={
            "required": "Say why the invoice is voided.",
            "max_length": "Keep the reason under 2,000 characters.",
        },
    )


# --- list filters ------------------------------------------------------------------------


class _ListFilterForm(AppForm):
    """A list's query string; a bad value is dropped (and shown) instead of failing the page.
    Each kind adds its `status` choices and may add filters of its own."""

    q = forms.CharField(required=False, max_length=100)
    client = forms.IntegerField(required=False, min_value=1)
    deal = forms.IntegerField(required=False, min_value=1)

    @property
    def statuses(self) -> list[tuple[str, str]]:
        """The status choices the list offers, without "All"."""
        choices = cast(
            list[tuple[str, str]], cast(forms.ChoiceField, self.fields["status"]).choices
        )
        return [(value, label) for value, label in choices if value]

    def valid_data(self) -> dict[str, Any]:
        self.is_valid()
        return self.cleaned_data

    def shared_filters(self) -> dict[str, Any]:
        data = self.valid_data()
        return {
            "search": (data.get("q") or "").strip(),
            "status": data.get("status") or "",
            "client_id": data.get("client"),
            "deal_id": data.get("deal"),
        }


class EstimateFilterForm(_ListFilterForm):
    status = forms.ChoiceField(required=False, choices=[("", "All"), *EstimateStatus.choices])

    def filters(self) -> DocumentFilters:
        return DocumentFilters(**self.shared_filters())


class InvoiceFilterForm(_ListFilterForm):
    status = forms.ChoiceField(required=False, choices=[("", "All"), *InvoiceListStatus.choices])
    overdue = forms.BooleanField(required=False)
    issued_from = _date_field("Issued from")
    issued_to = _date_field("Issued to")

    def clean(self) -> dict[str, Any]:
        data = self.cleaned_data
        start: dt.date | None = data.get("issued_from")
        end: dt.date | None = data.get("issued_to")
        if start and end and end < start:
            self.add_error("issued_to", "The end of the range is before its start.")
        return data

    def filters(self) -> InvoiceFilters:
        data = self.valid_data()
        return InvoiceFilters(
            **self.shared_filters(),
            overdue=bool(data.get("overdue")),
            issued_from=data.get("issued_from"),
            issued_to=data.get("issued_to"),
        )


class CreditNoteFilterForm(_ListFilterForm):
    status = forms.ChoiceField(required=False, choices=[("", "All"), *CreditNoteStatus.choices])

    def filters(self) -> DocumentFilters:
        return DocumentFilters(**self.shared_filters())


def _settlement_field() -> forms.ChoiceField:
    return forms.ChoiceField(
        label="Settle the credit",
        choices=CreditSettlement.choices,
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
        help_text="Reduce what the invoice still owes, keep the credit for the client's next "
        "invoices, or pay it back. Changeable while none of it is spent.",
        error_messages={"invalid_choice": "Choose how the credit is settled."},
    )


class CreditNoteDetailsForm(AppForm):
    """A draft credit note's reason, settlement and texts."""

    reason = forms.CharField(
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Printed on the credit note, e.g. “Two hours billed twice”.",
        error_messages={
            "required": "Say why this credit note is issued.",
            "max_length": "Keep the reason under 2,000 characters.",
        },
    )
    settlement = _settlement_field()
    notes = forms.CharField(
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"max_length": "Keep the notes under 5,000 characters."},
    )


class CreditNoteIssueForm(AppForm):
    settlement = _settlement_field()
    issue_date = _date_field("Issue date", "Leave empty to issue it today.")


class CreditNoteSettleForm(AppForm):
    settlement = _settlement_field()


class CreditNoteApplyForm(AppForm):
    """Spend part of a credit note's credit on another open invoice of the client."""

    invoice = forms.TypedChoiceField(
        coerce=int,
        error_messages={
            "required": "Choose the invoice to pay with this credit.",
            "invalid_choice": "Choose an open invoice of this client.",
        },
    )
    amount = DecimalInputField(
        min_value=Decimal("0.01"),
        max_digits=18,
        decimal_places=3,
        error_messages={
            "required": "Enter the amount of credit to apply.",
            "invalid": "Enter the amount as a decimal number.",
            "min_value": "The amount must be greater than zero.",
        },
    )

    def __init__(self, *args: Any, invoices: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.TypedChoiceField, self.fields["invoice"]).choices = invoices


class CreditLineRowForm(AppForm):
    """One row of the credit note's line editor: an invoice line kept (reduced in quantity or
    price) or unticked, or a free adjustment line."""

    invoice_line = forms.IntegerField(required=False, widget=forms.HiddenInput)
    keep = forms.BooleanField(required=False)
    description = forms.CharField(
        max_length=500,
        required=False,
        error_messages={"max_length": "Keep the description under 500 characters."},
    )
    quantity = DecimalInputField(
        required=False,
        max_digits=14,
        decimal_places=4,
        min_value=Decimal("0.0001"),
        error_messages={
            "invalid": "Enter the quantity as a number.",
            "min_value": "The quantity must be greater than zero.",
            "max_decimal_places": "Use at most 4 decimals.",
        },
    )
    unit_price = DecimalInputField(
        required=False,
        max_digits=18,
        decimal_places=4,
        min_value=Decimal(0),
        error_messages={
            "invalid": "Enter the price as a number.",
            "min_value": "The price cannot be negative.",
            "max_decimal_places": "Use at most 4 decimals.",
        },
    )

    def clean(self) -> dict[str, Any]:
        data = self.cleaned_data
        if data.get("keep"):
            for name, message in (
                ("description", "Describe what is credited."),
                ("quantity", "Enter the quantity credited."),
                ("unit_price", "Enter the unit price credited."),
            ):
                if data.get(name) in (None, ""):
                    self.add_error(name, message)
        return data


CreditLineFormSet = forms.formset_factory(CreditLineRowForm, extra=0, max_num=200)
