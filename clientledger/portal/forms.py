"""What a client enters in the portal: the amount to pay, a decline reason."""

from __future__ import annotations

from decimal import Decimal
from typing import cast

from django import forms
from django.http import QueryDict

from clientledger.billing.models import Invoice
from clientledger.core.forms import AppForm, DecimalInputField
from clientledger.core.money import currency_digits, format_money, from_minor, quantize, to_minor
from clientledger.payments.models import PaymentMethod
from clientledger.portal.selectors import InvoicePayments


class ApproveForm(AppForm):
    name = forms.CharField(
        label="Your name",
        max_length=150,
        required=False,
        help_text="Optional.",
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )


class DeclineForm(AppForm):
    reason = forms.CharField(
        label="Reason",
        max_length=2000,
        required=False,
        help_text="Optional.",
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "What would work better for you?"}),
    )


class PayForm(AppForm):
    """Pay now: how (card, or ACH for US dollar invoices) and, when the agency allows
    partial payments, how much. What can be paid is the checkout's to decide; this form only
    checks that the amount is a number in the invoice's currency."""

    method = forms.ChoiceField(
        label="Pay by",
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
        error_messages={
            "required": "Choose how to pay.",
            "invalid_choice": "Choose one of the ways to pay shown.",
        },
    )
    amount = DecimalInputField(
        label="Amount to pay",
        max_digits=18,
        error_messages={"required": "Enter the amount to pay.", "invalid": "Enter a number."},
    )

    def __init__(
        self, data: QueryDict | None = None, *, invoice: Invoice, payments: InvoicePayments
    ) -> None:
        super().__init__(data)
        self.invoice = invoice
        self.currency = invoice.currency
        method = cast(forms.ChoiceField, self.fields["method"])
        method.choices = [(choice.value, choice.label) for choice in payments.methods]
        method.initial = PaymentMethod.CARD
        if payments.allows_partial:
            payable = from_minor(payments.payable.payable_minor, self.currency)
            self.fields["amount"].initial = payable
            self.fields[
                "amount"
            ].help_text = f"In {self.currency}, up to {format_money(payable, self.currency)}."
        else:
            del self.fields["amount"]

    def clean_amount(self) -> Decimal:
        amount: Decimal = self.cleaned_data["amount"]
        if amount != quantize(amount, self.currency):
            digits = currency_digits(self.currency)
            raise forms.ValidationError(
                f"{self.currency} amounts have at most {digits} decimal places."
                if digits
                else f"{self.currency} amounts have no decimal places."
            )
        return amount

    def amount_minor(self) -> int | None:
        """The amount asked in minor units; None pays everything payable."""
        amount: Decimal | None = self.cleaned_data.get("amount")
        return None if amount is None else to_minor(amount, self.currency)
