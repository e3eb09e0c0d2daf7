from __future__ import annotations

from django import forms


class ApproveForm(forms.Form):
    name = forms.CharField(
        label="Your name",
        max_length=150,
        required=False,
        help_text="Optional.",
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )


class DeclineForm(forms.Form):
    reason = forms.CharField(
        label="Reason",
        max_length=2000,
        required=False,
        help_text="Optional.",
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "What would work better for you?"}),
    )
