"""Staff pages for the agency's Stripe set-up: the keys (secrets never shown back), and the
inbox of webhook events where a failed one can be reprocessed."""

from __future__ import annotations

import json

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clientledger.accounts.roles import Perm
from clientledger.core.forms import save_valid_form
from clientledger.core.http import object_or_404
from clientledger.core.pagination import keyset_page_or_first
from clientledger.core.permissions import AgencyRequest, require_perm
from clientledger.payments.forms import StripeEventFilterForm, StripeSettingsForm
from clientledger.payments.models import StripeEvent, StripeEventStatus
from clientledger.payments.stripe import account as stripe_account
from clientledger.payments.stripe.account import (
    REPROCESSABLE_STATUSES,
    STRIPE_EVENT_ORDERING,
    stripe_account_update,
    stripe_event_get,
    stripe_event_list,
    stripe_setup,
)


@require_http_methods(["GET", "POST"])
@require_perm(Perm.AGENCY_SETTINGS)
def stripe_settings(request: AgencyRequest) -> HttpResponse:
    setup = stripe_setup(request.agency)
    form = StripeSettingsForm(
        request.POST if request.method == "POST" else None,
        initial={
            "publishable_key": setup.saved_publishable_key,
            "allow_partial_payments": setup.allow_partial_payments,
        },
    )
    saved = save_valid_form(
        form,
        lambda _: stripe_account_update(
            agency=request.agency, actor=request.user, **form.service_data()
        ),
    )
    if saved is not None:
        messages.success(request, "Stripe settings saved.")
        return redirect("payments:stripe_settings")
    return render(
        request,
        "payments/stripe_settings.html",
        {"form": form, "setup": setup},
        status=400 if form.is_bound else 200,
    )


@require_GET
@require_perm(Perm.PAYMENT_RECORD)
def stripe_event_inbox(request: AgencyRequest) -> HttpResponse:
    form = StripeEventFilterForm(request.GET)
    filters = form.cleaned_data if form.is_valid() else {}
    status = filters.get("status") or ""
    search = (filters.get("q") or "").strip()
    page = keyset_page_or_first(
        stripe_event_list(agency=request.agency, status=status, search=search),
        ordering=STRIPE_EVENT_ORDERING,
        after=request.GET.get("after"),
        before=request.GET.get("before"),
    )
    return render(
        request,
        "payments/stripe_event_list.html",
        {"page": page, "form": form, "filtered": bool(status or search)},
    )


def _event(request: AgencyRequest, pk: int) -> StripeEvent:
    return object_or_404(stripe_event_get, agency=request.agency, pk=pk)


@require_GET
@require_perm(Perm.PAYMENT_RECORD)
def stripe_event_detail(request: AgencyRequest, pk: int) -> HttpResponse:
    event = _event(request, pk)
    return render(
        request,
        "payments/stripe_event_detail.html",
        {
            "event": event,
            "payload": json.dumps(event.payload, indent=2, sort_keys=True),
            "reprocessable": event.status in REPROCESSABLE_STATUSES,
        },
    )


@require_POST
@require_perm(Perm.PAYMENT_RECORD)
def stripe_event_reprocess(request: AgencyRequest, pk: int) -> HttpResponse:
    event = _event(request, pk)
    try:
        outcome = stripe_account.stripe_event_reprocess(event=event, actor=request.user)
    except ValidationError as error:
        messages.info(request, " ".join(error.messages))
    else:
        if outcome.status == StripeEventStatus.PROCESSED:
            messages.success(
                request, f"Event {outcome.stripe_id} reprocessed: it is processed now."
            )
        else:
            messages.error(
                request,
                f"Event {outcome.stripe_id} was reprocessed and is still "
                f"{outcome.get_status_display().lower()}: {outcome.error or 'no error recorded'}",
            )
    return redirect("payments:stripe_event_detail", pk=event.pk)
