"""A client's statement of account: the page, its PDF and emailing it."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from clientledger.accounts.roles import Perm
from clientledger.billing.forms import SendForm
from clientledger.billing.selectors import document_recipients
from clientledger.core import clock
from clientledger.core.forms import save_valid_form
from clientledger.core.http import object_or_404
from clientledger.core.permissions import AgencyRequest, require_perm
from clientledger.crm.models import Client
from clientledger.crm.selectors import client_get
from clientledger.receivables.forms import StatementPeriodForm
from clientledger.receivables.services.statements import statement_send
from clientledger.receivables.statements import (
    Statement,
    client_statement,
    statement_filename,
    statement_pdf,
    statement_period,
)


def _statement(request: AgencyRequest, client: Client) -> tuple[StatementPeriodForm, Statement]:
    """The statement for the period the query string names (the last 90 days if none or
    invalid: the form then shows why)."""
    form = StatementPeriodForm(request.GET or None)
    chosen = form.cleaned_data if form.is_bound and form.is_valid() else {}
    today = clock.agency_today(request.agency)
    start, end = statement_period(today, chosen.get("start"), chosen.get("end"))
    statement = client_statement(
        agency=request.agency, client=client, start=start, end=end, today=today
    )
    return form, statement


def _client(request: AgencyRequest, client_pk: int) -> Client:
    return object_or_404(client_get, agency=request.agency, pk=client_pk)


@require_GET
@require_perm(Perm.VIEW)
def client_statement_view(request: AgencyRequest, client_pk: int) -> HttpResponse:
    client = _client(request, client_pk)
    form, statement = _statement(request, client)
    return render(
        request,
        "receivables/statement.html",
        {"client": client, "form": form, "statement": statement, "query": request.GET.urlencode()},
    )


@require_GET
@require_perm(Perm.VIEW)
def client_statement_pdf(request: AgencyRequest, client_pk: int) -> HttpResponse:
    _, statement = _statement(request, _client(request, client_pk))
    response = HttpResponse(statement_pdf(statement), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{statement_filename(statement)}"'
    return response


@require_http_methods(["GET", "POST"])
@require_perm(Perm.INVOICE_EDIT)
def client_statement_send(request: AgencyRequest, client_pk: int) -> HttpResponse:
    client = _client(request, client_pk)
    _, statement = _statement(request, client)
    recipients = document_recipients(client=client)
    form = SendForm(request.POST if request.method == "POST" else None, recipients=recipients)
    sent = save_valid_form(
        form,
        lambda data: statement_send(
            client=client,
            actor=request.user,
            recipients=data["recipients"],
            start=statement.start,
            end=statement.end,
            message=data["message"],
        ),
    )
    if sent is not None:
        messages.success(request, f"Statement sent to {', '.join(sent.recipients)}.")
        return redirect("receivables:client_statement", client_pk=client.pk)
    return render(
        request,
        "receivables/statement_send.html",
        {
            "client": client,
            "form": form,
            "statement": statement,
            "recipients": recipients,
            "query": request.GET.urlencode(),
        },
        status=400 if form.is_bound else 200,
    )
