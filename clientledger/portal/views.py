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
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_GET, require_POST

from clientledger.billing.documents.build import document_pdf, pdf_filename
from clientledger.billing.models import Invoice
from clientledger.billing.services.estimates import estimate_approve, estimate_decline
from clientledger.core.forms import save_valid_form
from clientledger.core.http import client_ip, object_or_404
from clientledger.core.views import pdf_download
from clientledger.payments.documents import invoice_pdf_with_payments
from clientledger.payments.stripe.checkout import checkout_session_create
from clientledger.payments.stripe.client import StripeError
from clientledger.portal.forms import ApproveForm, DeclineForm, PayForm
from clientledger.portal.ratelimit import rate_limited
from clientledger.portal.selectors import (
    PortalDocument,
    invoice_portal_payments,
    portal_document,
    portal_estimate,
    portal_invoice,
)
from clientledger.portal.services import portal_visit_record
from clientledger.receivables.statements import (
    Statement,
    client_statement,
    statement_filename,
    statement_pdf,
    statement_period,
)


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


def _pay_form(portal: PortalDocument) -> PayForm | None:
    """The Pay now form of an invoice the client can pay online; None for an estimate."""
    payments = portal.payments
    if not isinstance(portal.document, Invoice) or payments is None:
        return None
    return PayForm(invoice=portal.document, payments=payments) if payments.can_pay_online else None


def _is_staff_preview(request: HttpRequest, portal: PortalDocument) -> bool:
    """A member of the document's agency opening the link previews it: they never act for
    the client (a member of another agency may well be the client)."""
    agency = getattr(request, "agency", None)
    return agency is not None and agency.pk == portal.document.agency_id


def _preview_refused(request: HttpRequest, token: str, portal: PortalDocument) -> HttpResponse:
    messages.error(
        request,
        f"You are signed in to {portal.document.agency}: only your client can approve, decline "
        "or pay through this link. To try it as your client would, open it in a private window.",
    )
    return _page(request, token, portal, status=403)


def _page(
    request: HttpRequest,
    token: str,
    portal: PortalDocument,
    *,
    approve_form: ApproveForm | None = None,
    decline_form: DeclineForm | None = None,
    pay_form: PayForm | None = None,
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
            "payments": portal.payments,
            "pay_form": pay_form or _pay_form(portal),
        },
        status=status,
    )


@portal_headers
@rate_limited
@require_GET
def document(request: HttpRequest, token: str) -> HttpResponse:
    portal = object_or_404(portal_document, token)
    # A team member checking the client's link is not the client having seen it.
    if not _is_staff_preview(request, portal):
        portal_visit_record(link=portal.link, document=portal.document)
    return _page(request, token, portal)


@portal_headers
@rate_limited
@require_POST
def approve(request: HttpRequest, token: str) -> HttpResponse:
    portal, estimate = object_or_404(portal_estimate, token)
    if _is_staff_preview(request, portal):
        return _preview_refused(request, token, portal)
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
    portal, estimate = object_or_404(portal_estimate, token)
    if _is_staff_preview(request, portal):
        return _preview_refused(request, token, portal)
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
    """An estimate or a credit note as sent; an invoice as it stands, with its payments."""
    document = object_or_404(portal_document, token).document
    if isinstance(document, Invoice):
        content = invoice_pdf_with_payments(document)
    else:
        content = document_pdf(document)
    return pdf_download(content, pdf_filename(document))


@portal_headers
@rate_limited
@require_POST
def pay(request: HttpRequest, token: str) -> HttpResponse:
    portal, invoice = object_or_404(portal_invoice, token)
    if _is_staff_preview(request, portal):
        return _preview_refused(request, token, portal)
    # Posted, the form takes any invoice: the checkout then says why it cannot be paid.
    form = PayForm(request.POST, invoice=invoice, payments=invoice_portal_payments(invoice))
    try:
        checkout_url = save_valid_form(
            form,
            lambda _: checkout_session_create(
                invoice=form.invoice,
                token=token,
                amount_minor=form.amount_minor(),
                method=form.cleaned_data["method"],
            ),
        )
    except StripeError:
        messages.error(request, "The payment page could not be opened. Please try again.")
        return redirect("portal:document", token=token)
    if checkout_url is None:
        return _page(request, token, portal, pay_form=form, status=400)
    # 303: the browser follows with a GET to Stripe's page, whatever it posted here.
    response = HttpResponseRedirect(checkout_url)
    response.status_code = 303
    return response


def _pay_outcome(request: HttpRequest, token: str, template: str) -> HttpResponse:
    portal, invoice = object_or_404(portal_invoice, token)
    return render(
        request,
        template,
        {"portal": portal, "token": token, "document": invoice, "data": portal.data},
    )


@portal_headers
@rate_limited
@require_GET
def pay_success(request: HttpRequest, token: str) -> HttpResponse:
    return _pay_outcome(request, token, "portal/pay_success.html")


@portal_headers
@rate_limited
@require_GET
def pay_cancel(request: HttpRequest, token: str) -> HttpResponse:
    return _pay_outcome(request, token, "portal/pay_cancel.html")


def _statement(token: str) -> tuple[PortalDocument, Statement]:
    """The statement of the link's client: the last 90 days and everything open now."""
    portal = object_or_404(portal_document, token)
    document = portal.document
    start, end = statement_period(portal.today, None, None)
    statement = client_statement(
        agency=document.agency, client=document.client, start=start, end=end, today=portal.today
    )
    return portal, statement


@portal_headers
@rate_limited
@require_GET
def statement(request: HttpRequest, token: str) -> HttpResponse:
    """The client's statement of account, reached from any of its document links, with
    Pay now on each open invoice."""
    portal, client_statement_ = _statement(token)
    return render(
        request,
        "portal/statement.html",
        {"portal": portal, "token": token, "statement": client_statement_},
    )


@portal_headers
@rate_limited
@require_GET
def statement_pdf_download(request: HttpRequest, token: str) -> HttpResponse:
    _, client_statement_ = _statement(token)
    return pdf_download(statement_pdf(client_statement_), statement_filename(client_statement_))
