"""What every document page shares: finding the document, the posted data, the draft guard."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect

from clientledger.billing.models import BillingDocument
from clientledger.core.http import object_or_404
from clientledger.core.permissions import AgencyRequest

if TYPE_CHECKING:
    from clientledger.billing.kinds import DocumentKind


def document_or_404(request: AgencyRequest, kind: DocumentKind[Any], pk: int) -> Any:
    return object_or_404(kind.get, agency=request.agency, pk=pk)


def posted(request: AgencyRequest) -> QueryDict | None:
    """The posted data, even when empty: forms whose fields are all optional (issuing with
    the default dates) must still be bound and submitted."""
    return request.POST if request.method == "POST" else None


def flash_error(request: AgencyRequest, error: ValidationError) -> None:
    messages.error(request, " ".join(error.messages))


def to_detail(kind: DocumentKind[Any], document: BillingDocument) -> HttpResponse:
    return redirect(kind.url("detail", document.pk))


def refused_unless(
    request: AgencyRequest,
    kind: DocumentKind[Any],
    document: Any,
    allowed: bool,
    refusal: str = " and can no longer be changed",
) -> HttpResponse | None:
    """A page the document's state does not allow sends staff back to the document with why;
    the service refuses the same change again when it is posted."""
    if allowed:
        return None
    state = document.get_status_display().lower()
    messages.error(request, f"This {kind.name} is {state}{refusal}.")
    return to_detail(kind, document)


def refused_unless_draft(
    request: AgencyRequest, kind: DocumentKind[Any], document: Any
) -> HttpResponse | None:
    """Sent and issued documents never change: their edit pages send staff back."""
    return refused_unless(request, kind, document, document.status == "draft")
