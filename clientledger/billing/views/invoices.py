"""The invoice's own page actions: issue, void, and its PDF as it stands with payments."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import render
from django.template.defaultfilters import date as date_format

from clientledger.billing.documents.build import pdf_filename
from clientledger.billing.forms import IssueForm, VoidForm
from clientledger.billing.models import InvoiceStatus
from clientledger.billing.services import invoices
from clientledger.billing.states import INVOICE_TRANSITIONS
from clientledger.billing.views.common import (
    document_or_404,
    posted,
    refused_unless,
    refused_unless_draft,
    to_detail,
)
from clientledger.billing.views.extensions import invoice_current_pdf
from clientledger.core.forms import save_valid_form
from clientledger.core.permissions import AgencyRequest
from clientledger.core.views import pdf_download

if TYPE_CHECKING:
    from clientledger.billing.kinds import DocumentKind


def invoice_issue(request: AgencyRequest, kind: DocumentKind[Any], pk: int) -> HttpResponse:
    invoice = document_or_404(request, kind, pk)
    refused = refused_unless_draft(request, kind, invoice)
    if refused is not None:
        return refused
    form = IssueForm(posted(request), terms_days=invoice.client.effective_payment_terms_days)
    issued = save_valid_form(
        form, lambda data: invoices.invoice_issue(invoice=invoice, actor=request.user, **data)
    )
    if issued is not None:
        messages.success(
            request,
            f"Invoice {issued.number} issued on {date_format(issued.issue_date, 'M j, Y')}, due "
            f"{date_format(issued.due_date, 'M j, Y')}. Send it to the client.",
        )
        return to_detail(kind, issued)
    return render(request, "billing/invoice_issue.html", {"form": form, "document": invoice})


def invoice_void(request: AgencyRequest, kind: DocumentKind[Any], pk: int) -> HttpResponse:
    invoice = document_or_404(request, kind, pk)
    voidable = InvoiceStatus.VOID in INVOICE_TRANSITIONS[invoice.status]
    refusal = ": only open invoices can be voided"
    refused = refused_unless(request, kind, invoice, voidable, refusal)
    if refused is not None:
        return refused
    form = VoidForm(posted(request))
    voided = save_valid_form(
        form, lambda data: invoices.invoice_void(invoice=invoice, actor=request.user, **data)
    )
    if voided is not None:
        messages.success(request, f"Invoice {voided.number} voided.")
        return to_detail(kind, voided)
    return render(request, "billing/invoice_void.html", {"form": form, "document": invoice})


def invoice_pdf_current(request: AgencyRequest, kind: DocumentKind[Any], pk: int) -> HttpResponse:
    """The invoice with its payment state, as the client downloads it from the portal."""
    invoice = document_or_404(request, kind, pk)
    return pdf_download(invoice_current_pdf(invoice), pdf_filename(invoice))
