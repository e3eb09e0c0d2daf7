"""What the billing reads share: the documents' order and invoices with their derived states."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.db.models import BooleanField, ExpressionWrapper, F, QuerySet

from clientledger.billing.models import Invoice, overdue_condition, partially_paid_condition

DOCUMENT_ORDERING = ("-created_at", "-id")


def invoices_with_states(invoices: QuerySet[Invoice], today: dt.date) -> QuerySet[Invoice]:
    """Invoices with their derived states, `is_overdue` and `is_partially_paid`, from SQL:
    pages and the API read these rather than deciding again in Python."""
    return invoices.annotate(
        is_overdue=ExpressionWrapper(overdue_condition(today), output_field=BooleanField()),
        is_partially_paid=ExpressionWrapper(
            partially_paid_condition(), output_field=BooleanField()
        ),
    )


def balance_minor() -> Any:
    return F("total_minor") - F("amount_paid_minor") - F("amount_credited_minor")


# The kinds as the client and deal pages name their rows.
DocumentKindName = Literal["estimate", "invoice", "credit_note"]
