"""The demo's credit notes, issued on the oldest open invoices nothing has paid yet."""

from __future__ import annotations

from decimal import Decimal

from clientledger.accounts.models import Agency, User
from clientledger.billing.models import Invoice, InvoiceStatus
from clientledger.billing.services.credit_notes import (
    CreditLine,
    credit_note_create,
    credit_note_issue,
)
from clientledger.demo.data.agency import (
    DEMO_CREDIT_NOTES,
)
from clientledger.demo.lines import quoted_price
from clientledger.lines.data import LineData

# Quantities are stored with four decimals.
QUANTITY_STEP = Decimal("0.0001")


def credit_notes_create(agency: Agency, actor: User) -> int:
    """Credit notes through the real services, on the oldest open invoices nothing paid."""
    invoices = (
        Invoice.objects.filter(agency=agency, status=InvoiceStatus.OPEN, amount_paid_minor=0)
        .select_related("agency", "client")
        .order_by("due_date", "id")
    )
    issued = 0
    for invoice, seed in zip(invoices, DEMO_CREDIT_NOTES, strict=False):
        first = invoice.lines.select_related("service", "tax_1", "tax_2").order_by("position")[0]
        if seed.line_share is not None:
            data = LineData.from_line(first)
            data.quantity = (first.quantity * seed.line_share).quantize(QUANTITY_STEP)
            line = CreditLine(data=data, invoice_line_id=first.pk)
        else:
            amount = quoted_price(seed.adjustment or Decimal(0), invoice.currency)
            line = CreditLine(
                data=LineData(
                    description="Goodwill discount", quantity=Decimal(1), unit_price=amount
                )
            )
        draft = credit_note_create(
            invoice=invoice,
            actor=actor,
            reason=seed.reason,
            settlement=seed.settlement,
            lines=[line],
        )
        credit_note_issue(credit_note=draft, actor=actor)
        issued += 1
    return issued
