"""The reminder settings page, an invoice's dunning timeline with pause and resume, and the
client's reminder card. billing's and crm's pages load the panels by URL (`extensions.py`)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from clientledger.accounts.roles import Perm
from clientledger.billing.models import Invoice
from clientledger.billing.selectors import invoice_get
from clientledger.core.forms import add_service_errors, save_valid_form
from clientledger.core.http import object_or_404
from clientledger.core.permissions import AgencyRequest, require_perm
from clientledger.crm.models import Client
from clientledger.crm.selectors import client_get
from clientledger.receivables import selectors
from clientledger.receivables.forms import (
    PLACEHOLDER_HINT,
    ClientRemindersForm,
    PauseForm,
    PolicyCreateForm,
    PolicyForm,
    step_formset,
)
from clientledger.receivables.models import ReminderPolicy
from clientledger.receivables.placeholders import PLACEHOLDERS
from clientledger.receivables.services.policies import (
    client_reminder_policy_set,
    invoice_reminders_pause,
    invoice_reminders_resume,
    reminder_policy_create,
    reminder_policy_default,
    reminder_policy_update,
)


@require_GET
@require_perm(Perm.AGENCY_SETTINGS)
def policy_settings(request: AgencyRequest) -> HttpResponse:
    """The agency's policies; the default one is created with the standard steps."""
    reminder_policy_default(agency=request.agency)
    return render(
        request,
        "receivables/policy_list.html",
        {"policies": selectors.policy_list(agency=request.agency)},
    )


@require_http_methods(["GET", "POST"])
@require_perm(Perm.AGENCY_SETTINGS)
def policy_edit(request: AgencyRequest, pk: int) -> HttpResponse:
    policy = object_or_404(selectors.policy_get, agency=request.agency, pk=pk)
    data = request.POST if request.method == "POST" else None
    form = PolicyForm(
        data,
        initial={
            "name": policy.name,
            "enabled": policy.enabled,
            "send_hour": policy.send_hour,
            "business_days_only": policy.business_days_only,
        },
    )
    steps = step_formset(policy, data)
    if data is not None and form.is_valid() and steps.is_valid():
        step_data = [step for step in (f.step_data() for f in steps.forms) if step is not None]
        try:
            reminder_policy_update(
                policy=policy, actor=request.user, steps=step_data, **form.cleaned_data
            )
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, f"Reminder policy “{policy.name}” saved.")
            return redirect("receivables:policy_edit", pk=policy.pk)
    return render(
        request,
        "receivables/policy_edit.html",
        {
            "policy": policy,
            "form": form,
            "steps": steps,
            "placeholders": PLACEHOLDERS,
            "placeholder_hint": PLACEHOLDER_HINT,
        },
        status=400 if data is not None else 200,
    )


@require_http_methods(["GET", "POST"])
@require_perm(Perm.AGENCY_SETTINGS)
def policy_create(request: AgencyRequest) -> HttpResponse:
    form = PolicyCreateForm(request.POST if request.method == "POST" else None)
    policy = save_valid_form(
        form,
        lambda data: reminder_policy_create(
            agency=request.agency, actor=request.user, name=data["name"]
        ),
    )
    if policy is not None:
        messages.success(request, f"Reminder policy “{policy.name}” created.")
        return redirect("receivables:policy_edit", pk=policy.pk)
    return render(
        request,
        "receivables/policy_create.html",
        {"form": form},
        status=400 if form.is_bound else 200,
    )


def _invoice(request: AgencyRequest, invoice_pk: int) -> Invoice:
    return object_or_404(invoice_get, agency=request.agency, pk=invoice_pk)


@require_GET
@require_perm(Perm.VIEW)
def invoice_reminders(request: AgencyRequest, invoice_pk: int) -> HttpResponse:
    """The invoice page's reminders card: the dunning timeline and the next reminder."""
    invoice = _invoice(request, invoice_pk)
    timeline = selectors.invoice_reminder_timeline(agency=request.agency, invoice=invoice)
    return render(request, "receivables/_invoice_reminders.html", {"timeline": timeline})


@require_http_methods(["GET", "POST"])
@require_perm(Perm.INVOICE_EDIT)
def invoice_reminders_pause_view(request: AgencyRequest, invoice_pk: int) -> HttpResponse:
    invoice = _invoice(request, invoice_pk)
    form = PauseForm(request.POST if request.method == "POST" else None)
    paused = save_valid_form(
        form,
        lambda data: invoice_reminders_pause(
            invoice=invoice, actor=request.user, reason=data["reason"]
        ),
    )
    if paused is not None:
        messages.success(request, f"Reminders of invoice {invoice.number} paused.")
        return redirect("billing:invoice_detail", pk=invoice.pk)
    return render(
        request,
        "receivables/invoice_pause.html",
        {"invoice": invoice, "form": form},
        status=400 if form.is_bound else 200,
    )


@require_http_methods(["GET", "POST"])
@require_perm(Perm.INVOICE_EDIT)
def invoice_reminders_resume_view(request: AgencyRequest, invoice_pk: int) -> HttpResponse:
    invoice = _invoice(request, invoice_pk)
    if request.method == "POST":
        try:
            invoice_reminders_resume(invoice=invoice, actor=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, f"Reminders of invoice {invoice.number} resumed.")
        return redirect("billing:invoice_detail", pk=invoice.pk)
    timeline = selectors.invoice_reminder_timeline(agency=request.agency, invoice=invoice)
    return render(request, "receivables/invoice_resume.html", {"timeline": timeline})


@require_GET
@require_perm(Perm.VIEW)
def client_reminders(request: AgencyRequest, client_pk: int) -> HttpResponse:
    """The client page's reminders card: its policy, paused invoices, the last reminder."""
    client = object_or_404(client_get, agency=request.agency, pk=client_pk)
    summary = selectors.client_reminder_summary(agency=request.agency, client=client)
    return render(
        request, "receivables/_client_reminders.html", {"client": client, "summary": summary}
    )


@require_http_methods(["GET", "POST"])
@require_perm(Perm.INVOICE_EDIT)
def client_reminders_edit(request: AgencyRequest, client_pk: int) -> HttpResponse:
    client: Client = object_or_404(client_get, agency=request.agency, pk=client_pk)
    reminder_policy_default(agency=request.agency)
    policies: list[ReminderPolicy] = selectors.policy_list(agency=request.agency)
    policy, follows_default = selectors.client_reminder_policy(agency=request.agency, client=client)
    current = "default" if follows_default else (str(policy.pk) if policy else "none")
    form = ClientRemindersForm(
        request.POST if request.method == "POST" else None,
        policies=policies,
        initial={"policy": current},
    )
    saved = save_valid_form(
        form,
        lambda _: client_reminder_policy_set(
            client=client,
            actor=request.user,
            follows_default=form.chosen()[0],
            policy=form.chosen()[1],
        ),
    )
    if saved is not None:
        messages.success(request, f"Reminders of “{client.name}” saved.")
        return redirect("crm:client_detail", pk=client.pk)
    return render(
        request,
        "receivables/client_reminders_edit.html",
        {"client": client, "form": form},
        status=400 if form.is_bound else 200,
    )
