"""Staff pages for manual payments: recording one with its allocations, a payment with its
refunds, applying client credit to an invoice, and the payment cards that the invoice and
client pages load. Every lookup is scoped to the request's agency (another agency's rows
are 404) and service errors show inline, having saved nothing."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clientledger.accounts.roles import Perm
from clientledger.billing.models import Invoice, InvoiceStatus
from clientledger.billing.selectors import credit_note_get
from clientledger.billing.selectors.credits import credit_note_remaining_minor
from clientledger.core import clock
from clientledger.core.audit import timeline_entries
from clientledger.core.forms import save_valid_form
from clientledger.core.http import object_or_404
from clientledger.core.money import currency_digits, from_minor
from clientledger.core.pagination import keyset_page_or_first
from clientledger.core.permissions import AgencyRequest, require_perm
from clientledger.crm.client_picker import picker_search
from clientledger.crm.models import Client
from clientledger.crm.selectors import client_exists, client_get, client_matches, record_timeline
from clientledger.payments import selectors
from clientledger.payments.forms import (
    CreditApplyForm,
    PaymentFilterForm,
    PaymentRecordForm,
    RefundForm,
)
from clientledger.payments.models import Payment
from clientledger.payments.services import credit, credit_note_refunds, manual, refunds

LIST_ORDERING = ("-received_on", "-id")
CLIENT_CARD_PAYMENTS = 10


def _pk(value: Any) -> int:
    """An id as it came in a query string or a form, unchecked: anything but a number is 0,
    which is no row's id, so the lookup answers 404."""
    text = str(value)
    return int(text) if text.isascii() and text.isdigit() else 0


def _client(request: AgencyRequest, pk: Any) -> Client:
    return object_or_404(client_get, agency=request.agency, pk=_pk(pk))


def _invoice(request: AgencyRequest, pk: Any) -> Invoice:
    return object_or_404(selectors.payment_invoice_get, agency=request.agency, pk=_pk(pk))


# --- recording a payment -----------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@require_perm(Perm.PAYMENT_RECORD)
def payment_create(request: AgencyRequest) -> HttpResponse:
    source = request.POST if request.method == "POST" else request.GET
    first_invoice = _invoice(request, source["invoice"]) if source.get("invoice") else None
    if first_invoice is not None:
        client = first_invoice.client
    elif source.get("client"):
        client = _client(request, source["client"])
    else:
        search = picker_search(source, "client")
        return render(
            request,
            "payments/payment_choose_client.html",
            {
                "clients": client_matches(agency=request.agency, search=search),
                "client_search": search,
                "has_clients": client_exists(agency=request.agency),
            },
        )
    form = PaymentRecordForm(
        request.POST if request.method == "POST" else None,
        invoices=selectors.client_open_invoices(agency=request.agency, client=client),
        today=clock.agency_today(request.agency),
        first_invoice=first_invoice,
    )
    payment = save_valid_form(
        form,
        lambda data: manual.payment_record_manual(
            agency=request.agency,
            actor=request.user,
            client=client,
            amount=data["amount"],
            currency=client.currency,
            received_on=data["received_on"],
            method=data["method"],
            reference=data["reference"],
            notes=data["notes"],
            allocations=data["allocations"],
            idempotency_key=data["idempotency_key"],
        ),
    )
    if payment is not None:
        messages.success(request, f"{payment} from {client.name} recorded.")
        return redirect("payments:payment_detail", pk=payment.pk)
    return render(
        request,
        "payments/payment_create.html",
        {
            "form": form,
            "client": client,
            "first_invoice": first_invoice,
            "digits": currency_digits(client.currency),
        },
    )


# --- one payment ---------------------------------------------------------------------------


def _payment_detail(request: AgencyRequest, pk: int) -> selectors.PaymentDetail:
    return object_or_404(selectors.payment_detail, agency=request.agency, pk=pk)


def _detail_page(
    request: AgencyRequest, detail: selectors.PaymentDetail, refund_form: RefundForm
) -> HttpResponse:
    payment = detail.payment
    timeline = record_timeline(
        agency=request.agency, subject_type=Payment._meta.label_lower, subject_id=payment.pk
    )
    return render(
        request,
        "payments/payment_detail.html",
        {
            "payment": payment,
            "allocations": detail.allocations,
            "refunds": detail.refunds,
            "disputes": detail.disputes,
            "refundable_minor": detail.refundable_minor,
            "credit_minor": detail.credit_minor,
            "timeline": timeline_entries(timeline),
            "refund_form": refund_form,
        },
    )


@require_GET
@require_perm(Perm.VIEW)
def payment_detail(request: AgencyRequest, pk: int) -> HttpResponse:
    return _detail_page(request, _payment_detail(request, pk), RefundForm())


@require_POST
@require_perm(Perm.PAYMENT_RECORD)
def payment_refund(request: AgencyRequest, pk: int) -> HttpResponse:
    detail = _payment_detail(request, pk)
    payment = detail.payment
    form = RefundForm(request.POST)
    refund = save_valid_form(
        form,
        lambda data: refunds.payment_refund(
            agency=request.agency,
            actor=request.user,
            payment=payment,
            amount=data["amount"],
            reason=data["reason"],
        ),
    )
    if refund is None:
        return _detail_page(request, detail, form)
    messages.success(request, f"{refund} of {payment} recorded.")
    return redirect("payments:payment_detail", pk=payment.pk)


# --- client credit -------------------------------------------------------------------------


@require_POST
@require_perm(Perm.PAYMENT_RECORD)
def credit_apply(request: AgencyRequest, invoice_pk: int) -> HttpResponse:
    invoice = _invoice(request, invoice_pk)
    form = CreditApplyForm(request.POST)
    applied = save_valid_form(
        form,
        lambda data: credit.credit_apply(
            agency=request.agency,
            actor=request.user,
            client=invoice.client,
            invoice=invoice,
            amount=data["amount"],
        ),
    )
    if applied is None:
        errors = [str(error) for field_errors in form.errors.values() for error in field_errors]
        messages.error(request, "The credit was not applied: " + " ".join(errors))
    else:
        messages.success(request, f"Client credit applied to {invoice}.")
    return redirect("billing:invoice_detail", pk=invoice.pk)


# --- refunding a credit note -----------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@require_perm(Perm.PAYMENT_RECORD)
def credit_note_refund(request: AgencyRequest, credit_note_pk: int) -> HttpResponse:
    """Pay a credit note's credit back out of the payments of its invoice: through Stripe for
    a card or bank payment (pending until Stripe confirms), recorded as done otherwise."""
    credit_note = object_or_404(credit_note_get, agency=request.agency, pk=_pk(credit_note_pk))
    form = RefundForm(
        request.POST if request.method == "POST" else None,
        initial={
            "amount": from_minor(credit_note_remaining_minor(credit_note), credit_note.currency),
            "reason": credit_note.reason,
        },
    )
    made = save_valid_form(
        form,
        lambda data: credit_note_refunds.credit_note_refund(
            agency=request.agency,
            actor=request.user,
            credit_note=credit_note,
            amount=data["amount"],
            reason=data["reason"],
        ),
    )
    if made is not None:
        pending = any(refund.via_stripe for refund in made)
        messages.success(
            request,
            f"Refund of {credit_note} "
            + (
                "requested from Stripe: pending until Stripe confirms it."
                if pending
                else "recorded."
            ),
        )
        return redirect("billing:credit_note_detail", pk=credit_note.pk)
    return render(
        request,
        "payments/credit_note_refund.html",
        {
            "form": form,
            "document": credit_note,
            "kind": "credit_note",
            "remaining_minor": credit_note_remaining_minor(credit_note),
            "refunds": selectors.credit_note_refunds(credit_note=credit_note),
        },
    )


# --- lists and cards -----------------------------------------------------------------------


@require_GET
@require_perm(Perm.VIEW)
def payment_list(request: AgencyRequest) -> HttpResponse:
    form = PaymentFilterForm(request.GET)
    filters = form.cleaned_data if form.is_valid() else {}
    client = _client(request, filters["client"]) if filters.get("client") else None
    search = (filters.get("q") or "").strip()
    payments = selectors.payment_search(
        agency=request.agency,
        client_id=client.pk if client else None,
        method=filters.get("method") or "",
        search=search,
    )
    page = keyset_page_or_first(
        payments,
        ordering=LIST_ORDERING,
        after=request.GET.get("after"),
        before=request.GET.get("before"),
    )
    return render(
        request,
        "payments/payment_list.html",
        {
            "page": page,
            "form": form,
            "client": client,
            "filtered": bool(search or filters.get("method")),
        },
    )


@require_GET
@require_perm(Perm.VIEW)
def invoice_payments(request: AgencyRequest, invoice_pk: int) -> HttpResponse:
    """The payments card of the invoice page: what paid it and the credit that could."""
    invoice = _invoice(request, invoice_pk)
    credit_minor = selectors.client_credit_minor(agency=request.agency, client=invoice.client)
    is_open = invoice.status == InvoiceStatus.OPEN
    return render(
        request,
        "payments/_invoice_payments.html",
        {
            "invoice": invoice,
            "allocations": list(selectors.invoice_payments(invoice=invoice)),
            "credit_minor": credit_minor,
            "is_open": is_open,
            "credit_form": CreditApplyForm(
                initial={
                    "amount": from_minor(
                        min(credit_minor, invoice.balance_due_minor), invoice.currency
                    )
                }
            ),
        },
    )


@require_GET
@require_perm(Perm.VIEW)
def client_payments(request: AgencyRequest, client_pk: int) -> HttpResponse:
    """The payments card of the client page: its credit and its latest payments."""
    client = _client(request, client_pk)
    return render(
        request,
        "payments/_client_payments.html",
        {
            "client": client,
            "credit_minor": selectors.client_credit_minor(agency=request.agency, client=client),
            "payments": list(
                selectors.payment_list(agency=request.agency, client_id=client.pk)[
                    : CLIENT_CARD_PAYMENTS + 1
                ]
            ),
            "shown": CLIENT_CARD_PAYMENTS,
        },
    )
