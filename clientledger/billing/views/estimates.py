"""The estimate's own page action: converting an approved estimate into an invoice."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect

from clientledger.billing import selectors
from clientledger.billing.services import estimates
from clientledger.billing.views.common import document_or_404, flash_error, to_detail
from clientledger.core.permissions import AgencyRequest

if TYPE_CHECKING:
    from clientledger.billing.kinds import DocumentKind


def estimate_convert(request: AgencyRequest, kind: DocumentKind[Any], pk: int) -> HttpResponse:
    """One click: an approved estimate becomes a draft invoice, once."""
    estimate = document_or_404(request, kind, pk)
    try:
        invoice = estimates.estimate_convert(estimate=estimate, actor=request.user)
    except ValidationError as error:
        existing = selectors.converted_invoice_of(agency=request.agency, estimate=estimate)
        if existing is None:
            flash_error(request, error)
            return to_detail(kind, estimate)
        messages.info(request, f"{estimate} was already converted into {existing}.")
        return redirect("billing:invoice_detail", existing.pk)
    messages.success(
        request, f"{estimate} converted into a draft invoice. Review it, then issue it."
    )
    return redirect("billing:invoice_detail", invoice.pk)
