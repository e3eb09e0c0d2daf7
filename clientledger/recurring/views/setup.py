"""Setting a retainer up: from scratch for a client, with its lines, or from a won deal."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clientledger.accounts.roles import Perm
from clientledger.core import clock
from clientledger.core.forms import add_service_errors, save_valid_form
from clientledger.core.http import object_or_404
from clientledger.core.permissions import AgencyRequest, require_perm
from clientledger.crm.client_picker import picker_search
from clientledger.crm.models import Client, Deal
from clientledger.crm.selectors import client_exists, client_get, client_matches, deal_get
from clientledger.lines.choices import Recurrence
from clientledger.lines.data import LinesInvalid
from clientledger.lines.editor import LinesEditor
from clientledger.lines.selectors import line_catalog, lines_value
from clientledger.recurring import services
from clientledger.recurring.calculations import RECURRENCE_FREQUENCIES, next_month_start
from clientledger.recurring.forms import ScheduleEditForm, ScheduleFromDealForm
from clientledger.recurring.models import IntervalUnit


@require_GET
@require_perm(Perm.INVOICE_EDIT)
def schedule_new(request: AgencyRequest) -> HttpResponse:
    """A retainer from scratch starts with its client: its currency prices the lines."""
    chosen = request.GET.get("client", "")
    if chosen.isascii() and chosen.isdigit():
        return redirect("recurring:schedule_create", client_pk=int(chosen))
    search = picker_search(request.GET, "client")
    return render(
        request,
        "recurring/schedule_new.html",
        {
            "clients": client_matches(agency=request.agency, search=search),
            "client_search": search,
            "has_clients": client_exists(agency=request.agency),
        },
    )


def _new_editor(request: AgencyRequest, client: Client) -> LinesEditor:
    catalog = line_catalog(agency=request.agency, lines=[])
    holder = "a schedule"
    data = request.POST if request.method == "POST" else None
    return LinesEditor(catalog=catalog, currency=client.currency, holder=holder, data=data)


def _new_context(
    request: AgencyRequest, client: Client, editor: LinesEditor, form: ScheduleEditForm
) -> dict[str, Any]:
    totals = editor.totals(rounding=request.agency.tax_rounding, tax_exempt=client.tax_exempt)
    return {
        "client": client,
        "form": form,
        "editor": editor,
        "value": totals.value,
        "amounts": totals.amounts,
        "save_url": reverse("recurring:schedule_create", args=[client.pk]),
        "totals_url": reverse("recurring:schedule_create_totals", args=[client.pk]),
        "cancel_url": reverse("recurring:schedule_list"),
        "save_label": "Set up retainer",
        "fields_template": "recurring/_new_fields.html",
    }


@require_http_methods(["GET", "POST"])
@require_perm(Perm.INVOICE_EDIT)
def schedule_create_view(request: AgencyRequest, client_pk: int) -> HttpResponse:
    """Name, frequency, start, end, what each period does, and the lines, on one page."""
    client = object_or_404(client_get, agency=request.agency, pk=client_pk)
    form = ScheduleEditForm(
        request.POST or None,
        initial={
            "interval_count": 1,
            "interval_unit": IntervalUnit.MONTH,
            "start_date": next_month_start(clock.agency_today(request.agency)),
        },
    )
    editor = _new_editor(request, client)
    if request.method == "POST" and all([form.is_valid(), editor.is_valid()]):
        try:
            schedule = services.schedule_create(
                agency=request.agency,
                actor=request.user,
                client=client,
                lines=editor.lines(),
                **form.cleaned_data,
            )
        except LinesInvalid as error:
            editor.add_line_errors(error)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                f"Retainer “{schedule.name}” set up: the first invoice is dated "
                f"{schedule.start_date:%b %-d, %Y}.",
            )
            return redirect("recurring:schedule_detail", pk=schedule.pk)
    return render(
        request, "recurring/schedule_create.html", _new_context(request, client, editor, form)
    )


@require_POST
@require_perm(Perm.INVOICE_EDIT)
def schedule_create_totals(request: AgencyRequest, client_pk: int) -> HttpResponse:
    """The new retainer's live totals (HTMX), priced for its client."""
    client = object_or_404(client_get, agency=request.agency, pk=client_pk)
    context = _new_context(request, client, _new_editor(request, client), ScheduleEditForm())
    return render(request, "lines/_lines_editor.html#totals", {**context, "live": True})


# --- setting up from a won deal -------------------------------------------------------------


def _deal_recurrences(deal: Deal) -> list[str]:
    found = {line.recurrence for line in deal.lines.all()}
    return [value for value in RECURRENCE_FREQUENCIES if value in found]


@require_http_methods(["GET", "POST"])
@require_perm(Perm.INVOICE_EDIT)
def schedule_create_from_deal_view(request: AgencyRequest, deal_pk: int) -> HttpResponse:
    """The deal's recurring lines, a start date on the next 1st: confirm, and it is set up."""
    deal = object_or_404(deal_get, agency=request.agency, pk=deal_pk)
    recurrences = _deal_recurrences(deal)
    form = ScheduleFromDealForm(
        request.POST or None,
        recurrences=recurrences,
        initial={
            "name": deal.title,
            "start_date": next_month_start(clock.agency_today(request.agency)),
        },
    )
    if request.method == "POST":
        schedule = save_valid_form(
            form,
            lambda data: services.schedule_create_from_deal(deal=deal, actor=request.user, **data),
        )
        if schedule is not None:
            messages.success(
                request,
                f"Retainer “{schedule.name}” set up: the first invoice is dated "
                f"{schedule.start_date:%b %-d, %Y}.",
            )
            return redirect("recurring:schedule_detail", pk=schedule.pk)
    lines = [line for line in deal.lines.all() if line.recurrence != Recurrence.ONE_OFF]
    value = lines_value(
        lines,
        currency=deal.client.currency,
        rounding=request.agency.tax_rounding,
        tax_exempt=deal.client.tax_exempt,
    )
    return render(
        request,
        "recurring/schedule_from_deal.html",
        {
            "deal": deal,
            "form": form,
            "recurrences": recurrences,
            "priced_lines": value.with_results(lines),
            "value": value,
        },
    )
