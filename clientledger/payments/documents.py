"""An invoice's PDF as it stands, with the payments it has received (the portal's download and
the staff page's second PDF); the archived original is billing's `document_pdf`."""

from __future__ import annotations

from clientledger.billing.documents.build import invoice_current_pdf
from clientledger.billing.models import Invoice
from clientledger.core import clock
from clientledger.payments.selectors import invoice_receipts


def invoice_pdf_with_payments(invoice: Invoice) -> bytes:
    return invoice_current_pdf(
        invoice,
        payments=invoice_receipts(invoice=invoice),
        as_of=clock.agency_today(invoice.agency),
    )
