"""Forms of the staff payment pages. Amounts are checked for shape here; the services decide
what the books allow (balances, credit, refundable amounts) and their errors show inline."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django import forms

from clientledger.billing.models import Invoice
from clientledger.core.forms import AppForm, DateInputField, DecimalInputField
from clientledger.core.money import from_minor
from clientledger.payments.models import MANUAL_METHODS, PaymentMethod, StripeEventStatus
from clientledger.payments.selectors import allocation_spread
from clientledger.payments.stripe.account import SECRET_FIELDS

ALLOCATION_PREFIX = "allocate_"


def _amount_field(label: str, *, required: bool = True, **extra: Any) -> DecimalInputField:
    return DecimalInputField(
        label=label,
        required=required,
        max_digits=18,
        error_messages={"required": "Enter an amount.", "invalid": "Enter a number."},
        **extra,
    )


@dataclass(frozen=True)
class AllocationRow:
    """One open invoice of the allocation table with its amount input."""

    invoice: Invoice
    field: forms.BoundField

    @property
    def balance_due(self) -> Decimal:
        return from_minor(self.invoice.balance_due_minor, self.invoice.currency)


class PaymentRecordForm(AppForm):
    amount = _amount_field("Amount received")
    received_on = DateInputField(
        label="Received on",
        error_messages={"required": "Enter the date the money arrived."},
    )
    method = forms.ChoiceField(
        label="Method", choices=[(method.value, method.label) for method in MANUAL_METHODS]
    )
    reference = forms.CharField(
        label="Reference",
        required=False,
        max_length=200,
        help_text="The bank transfer reference or the check number.",
    )
    notes = forms.CharField(label="Notes", required=False, widget=forms.Textarea(attrs={"rows": 3}))
    # Rendered once with the page: a double click or a resubmitted page records one payment.
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=200)

    def __init__(
        self,
        data: Any = None,
        *,
        invoices: Sequence[Invoice],
        today: dt.date,
        first_invoice: Invoice | None = None,
    ) -> None:
        # The invoice the page was opened from is paid first, then the oldest due; a paid or
        # draft one suggests no amount.
        ordered = sorted(invoices, key=lambda invoice: invoice != first_invoice)
        amount: Decimal | None = None
        spread: dict[int, Decimal] = {}
        if first_invoice is not None and first_invoice in ordered:
            due = first_invoice.balance_due_minor
            amount = from_minor(due, first_invoice.currency)
            spread = {
                invoice.pk: from_minor(share, invoice.currency)
                for invoice, share in allocation_spread(ordered, due)
            }
        initial = {
            "amount": amount,
            "received_on": today,
            "method": PaymentMethod.BANK_TRANSFER,
            "idempotency_key": uuid.uuid4().hex,
            **{f"{ALLOCATION_PREFIX}{pk}": share for pk, share in spread.items()},
        }
        super().__init__(data, initial=initial)
        self.invoices = ordered
        for invoice in ordered:
            self.fields[f"{ALLOCATION_PREFIX}{invoice.pk}"] = _amount_field(
                f"Amount for {invoice}", required=False, min_value=Decimal(0)
            )

    @property
    def allocation_rows(self) -> list[AllocationRow]:
        return [
            AllocationRow(invoice, self[f"{ALLOCATION_PREFIX}{invoice.pk}"])
            for invoice in self.invoices
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        cleaned["allocations"] = [
            (invoice, share)
            for invoice in self.invoices
            if (share := cleaned.pop(f"{ALLOCATION_PREFIX}{invoice.pk}", None))
        ]
        return cleaned

    def unallocated(self) -> Decimal | None:
        """What becomes client credit with the amounts as they stand on the page (None while
        one of them is not a number)."""
        values = self.data if self.is_bound else self.initial
        names = ["amount", *(f"{ALLOCATION_PREFIX}{invoice.pk}" for invoice in self.invoices)]
        try:
            amount, *allocated = (
                self.fields[name].to_python(values.get(name)) or Decimal(0) for name in names
            )
        except forms.ValidationError:
            return None
        return amount - sum(allocated, Decimal(0))


class RefundForm(AppForm):
    amount = _amount_field("Amount to refund")
    reason = forms.CharField(
        label="Reason",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "Say why the payment is refunded."},
    )


class CreditApplyForm(AppForm):
    amount = _amount_field("Credit to apply")


class PaymentFilterForm(AppForm):
    q = forms.CharField(required=False, max_length=100)
    method = forms.ChoiceField(
        required=False, choices=[("", "All methods"), *PaymentMethod.choices]
    )
    client = forms.IntegerField(required=False, widget=forms.HiddenInput)


def _secret_field(label: str) -> forms.CharField:
    # A password input never renders a value: a secret is not sent back, not even after an
    # error on another field.
    return forms.CharField(
        label=label,
        required=False,
        max_length=255,
        strip=True,
        widget=forms.PasswordInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        help_text="Leave empty to keep the saved one.",
    )


class StripeSettingsForm(AppForm):
    secret_key = _secret_field("Secret key")
    remove_secret_key = forms.BooleanField(label="Remove the saved secret key", required=False)
    publishable_key = forms.CharField(
        label="Publishable key",
        required=False,
        max_length=255,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    webhook_secret = _secret_field("Webhook signing secret")
    remove_webhook_secret = forms.BooleanField(
        label="Remove the saved webhook signing secret", required=False
    )
    allow_partial_payments = forms.BooleanField(
        label="Let clients pay part of an invoice online", required=False
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for field in SECRET_FIELDS:
            if cleaned.get(field) and cleaned.get(f"remove_{field}"):
                self.add_error(
                    f"remove_{field}",
                    "Either enter a new one or remove the saved one, not both.",
                )
        return cleaned

    def service_data(self) -> dict[str, Any]:
        """The service's arguments: a secret left empty is kept (None), a removed one is ""."""
        data = self.cleaned_data
        return {
            "publishable_key": data["publishable_key"],
            "allow_partial_payments": data["allow_partial_payments"],
            **{
                field: "" if data[f"remove_{field}"] else (data[field] or None)
                for field in SECRET_FIELDS
            },
        }


class StripeEventFilterForm(AppForm):
    q = forms.CharField(required=False, max_length=255)
    status = forms.ChoiceField(
        required=False, choices=[("", "All statuses"), *StripeEventStatus.choices]
    )
