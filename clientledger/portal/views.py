"""Client pages reached through a portal link: no login, the token is the only key.

A token opens exactly the document it was made for (there is no document id in the URL);
unknown and revoked tokens and drafts are a plain 404 that gives nothing away.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_POST

from clientledger.billing.documents.build import document_pdf, pdf_filename
from clientledger.billing.models import Estimate
from clientledger.billing.services import estimate_approve, estimate_decline
from clientledger.portal.forms import ApproveForm, DeclineForm
from clientledger.portal.ratelimit import client_ip, rate_limited
from clientledger.portal.selectors import PortalDocument, portal_document
from clientledger.portal.services import portal_visit_record


def portal_headers(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The token is in the URL: keep it out of search engines, Referer headers and caches.

    The Referer policy sends the origin only, never the path: "no-referrer" would also make
    browsers send `Origin: null` with the page's own forms, which Django's CSRF check refuses.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        response["X-Robots-Tag"] = "noindex"
        response["Referrer-Policy"] = "strict-origin"
        add_never_cache_headers(response)
        return response

    return wrapper


def _portal_or_404(token: str) -> PortalDocument:
    portal = portal_document(token)
    if portal is None:
        raise Http404
    return portal


def _estimate_portal_or_404(token: str) -> tuple[PortalDocument, Estimate]:
    portal = _portal_or_404(token)
    if not isinstance(portal.document, Estimate):
        raise Http404
    return portal, portal.document


def _is_staff_preview(request: HttpRequest, portal: PortalDocument) -> bool:
    agency = getattr(request, "agency", None)
    return agency is not None and agency.pk == portal.document.agency_id


def _page(
    request: HttpRequest,
    token: str,
    portal: PortalDocument,
    *,
    approve_form: ApproveForm | None = None,
    decline_form: DeclineForm | None = None,
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "portal/document.html",
        {
            "portal": portal,
            "token": token,
            "document": portal.document,
            "data": portal.data,
            "approve_form": approve_form or ApproveForm(),
            "decline_form": decline_form or DeclineForm(),
            "staff_preview": _is_staff_preview(request, portal),
        },
        status=status,
    )


@portal_headers
@rate_limited
@require_GET
def document(request: HttpRequest, token: str) -> HttpResponse:
    portal = _portal_or_404(token)
    # A team member checking the client's link is not the client having seen it.
    if not _is_staff_preview(request, portal):
        portal_visit_record(link=portal.link, document=portal.document)
    return _page(request, token, portal)


@portal_headers
@rate_limited
@require_POST
def approve(request: HttpRequest, token: str) -> HttpResponse:
    portal, estimate = _estimate_portal_or_404(token)
    form = ApproveForm(request.POST)
    if not form.is_valid():
        return _page(request, token, portal, approve_form=form, status=400)
    try:
        estimate_approve(
            estimate=estimate,
            name=form.cleaned_data["name"],
            ip=client_ip(request),
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Thank you! The estimate is approved.")
    return redirect("portal:document", token=token)


@portal_headers
@rate_limited
@require_POST
def decline(request: HttpRequest, token: str) -> HttpResponse:
    portal, estimate = _estimate_portal_or_404(token)
    form = DeclineForm(request.POST)
    if not form.is_valid():
        return _page(request, token, portal, decline_form=form, status=400)
    try:
        estimate_decline(estimate=estimate, reason=form.cleaned_data["reason"])
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, "Thank you for letting us know. The estimate is declined.")
    return redirect("portal:document", token=token)


@portal_headers
@rate_limited
@require_GET
def pdf(request: HttpRequest, token: str) -> HttpResponse:
    document = _portal_or_404(token).document
    response = HttpResponse(document_pdf(document), content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=pdf_filename(document)
    )
    return response
