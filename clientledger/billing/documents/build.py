"""The PDF of an estimate or invoice: rendered once per issued document and stored (a write,
in the caller's request or the rendering sweep), a preview for a draft, a current copy for an
invoice whose payment state changed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.core.files.base import ContentFile
from django.db import transaction

from clientledger.billing.documents.data import (
    PaymentReceived,
    display_date,
    document_data,
    invoice_changed_since_issue,
    issued_document_data,
    stored_file_exists,
)
from clientledger.billing.documents.render import render_document_pdf
from clientledger.billing.models import BillingDocument, CreditNote, Estimate, Invoice


def pdf_filename(document: BillingDocument) -> str:
    kind = str(document._meta.verbose_name).replace(" ", "-")
    return f"{document.number or f'draft-{kind}-{document.pk}'}.pdf"


def document_pdf(document: Estimate | Invoice | CreditNote) -> bytes:
    """The document's PDF. Issued documents are rendered once, as issued, and the file is
    kept: the same bytes every time, even if the agency's details change or the invoice is
    paid later (`invoice_current_pdf` shows that). Drafts are previews."""
    if document.status == "draft":
        return render_document_pdf(document_data(document))
    if document.pdf and stored_file_exists(document.pdf):
        with document.pdf.open("rb") as stored:
            return stored.read()
    with transaction.atomic():
        locked = type(document).objects.select_for_update().get(pk=document.pk)
        if locked.pdf and stored_file_exists(locked.pdf):
            with locked.pdf.open("rb") as stored:
                return stored.read()
        content = render_document_pdf(issued_document_data(locked))
        locked.pdf.save(pdf_filename(locked), ContentFile(content), save=False)
        type(document).objects.filter(pk=locked.pk).update(pdf=locked.pdf.name)
        document.pdf = locked.pdf
    return content


def invoice_current_pdf(
    invoice: Invoice, *, payments: Sequence[PaymentReceived], as_of: dt.date
) -> bytes:
    """The invoice as it stands on `as_of`: the archived original while nothing has changed,
    else a copy with its payment state and `payments` (PAID once settled). The copy is
    rendered on demand and never stored, so the original is never overwritten."""
    if not invoice_changed_since_issue(invoice):
        return document_pdf(invoice)
    data = document_data(invoice, payments=payments)
    data["state_note"] = (
        f"Payment status on {display_date(as_of)}. "
        f"The invoice as issued on {display_date(invoice.issue_date)} is unchanged."
    )
    return render_document_pdf(data)


def document_pdfs_render(
    model: type[Estimate | Invoice | CreditNote], *, ids: list[int]
) -> dict[str, int]:
    """Store the PDF of each issued document of `ids` that has none yet. `document_pdf`
    renders under the row's lock and checks again, so a repeated or concurrent call renders
    each document once."""
    pending = (
        model.objects.filter(pk__in=ids, pdf="")
        .exclude(status="draft")
        .select_related("agency", "client", "deal")
        .order_by("pk")
    )
    rendered = 0
    for document in pending:
        document_pdf(document)
        rendered += 1
    return {"rendered": rendered} if rendered else {}
