"""Staff pages of recurring schedules: list, set up from scratch or from a won deal, one
schedule with its preview and invoices, settings, lines, pause, resume and end. Thin over
services and selectors; a service's refusal is shown as it words it."""

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
from clientledger.crm.models import Client, Deal
from clientledger.crm.selectors import client_choices, client_get, deal_get
from clientledger.lines.choices import Recurrence
from clientledger.lines.data import LinesInvalid
from clientledger.lines.editor import LinesEditor
from clientledger.lines.selectors import line_catalog, lines_value
from clientledger.recurring import selectors, services
from clientledger.recurring.calculations import RECURRENCE_FREQUENCIES, next_month_start
from clientledger.recurring.forms import ScheduleEditForm, ScheduleEndForm, ScheduleFromDealForm
from clientledger.recurring.models import IntervalUnit, RecurringSchedule, ScheduleStatus
from clientledger.recurring.states import SCHEDULE_TRANSITIONS

# The list page shows the last few billing runs; the API lists more.
RUNS_SHOWN = 5

# --- reading --------------------------------------------------------------------------------


@require_GET
@require_perm(Perm.VIEW)
def schedule_list(request: AgencyRequest) -> HttpResponse:
    search = request.GET.get("q", "").strip()
    status = request.GET.get("status", "")
    if status not in ScheduleStatus.values:
        status = ""
    listing = selectors.schedule_list_page(
        agency=request.agency,
        search=search,
        status=status,
        after=request.GET.get("after"),
        before=request.GET.get("before"),
    )
    return render(
        request,
        "recurring/schedule_list.html",
        {
            "listing": listing,
            "failing": selectors.schedules_failing(
                agency=request.agency, schedules=listing.page.items
            ),
            "runs": selectors.billing_runs_recent(agency=request.agency, limit=RUNS_SHOWN),
            "page": listing.page,
            "search": search,
            "status": status,
            "statuses": ScheduleStatus.choices,
        },
    )


def _actions(schedule: RecurringSchedule) -> dict[str, bool]:
    """The lifecycle buttons the schedule's status allows (the table in `states.py`)."""
    allowed = SCHEDULE_TRANSITIONS[schedule.status]
    return {
        "can_pause": ScheduleStatus.PAUSED in allowed,
        "can_resume": ScheduleStatus.ACTIVE in allowed,
        "can_end": ScheduleStatus.ENDED in allowed,
        "can_edit": schedule.status != ScheduleStatus.ENDED,
    }


@require_GET
@require_perm(Perm.VIEW)
def schedule_detail(request: AgencyRequest, pk: int) -> HttpResponse:
    overview = object_or_404(selectors.schedule_overview, agency=request.agency, pk=pk)
    return render(
        request,
        "recurring/schedule_detail.html",
        {
            "overview": overview,
            "schedule": overview.schedule,
            "failure": selectors.schedule_failure(
                agency=request.agency, schedule=overview.schedule
            ),
            **_actions(overview.schedule),
        },
    )


@require_GET
@require_perm(Perm.VIEW)
def schedule_invoices(request: AgencyRequest, pk: int) -> HttpResponse:
    schedule = object_or_404(selectors.schedule_get, agency=request.agency, pk=pk)
    listing = selectors.schedule_invoices_page(
        agency=request.agency,
        schedule=schedule,
        after=request.GET.get("after"),
        before=request.GET.get("before"),
    )
    return render(
        request,
        "recurring/schedule_invoices.html",
        {"schedule": schedule, "listing": listing, "page": listing.page},
    )


# --- a retainer from scratch ---------------------------------------------------------------


@require_GET
@require_perm(Perm.INVOICE_EDIT)
def schedule_new(request: AgencyRequest) -> HttpResponse:
    """A retainer from scratch starts with its client: its currency prices the lines."""
    chosen = request.GET.get("client", "")
    if chosen.isascii() and chosen.isdigit():
        return redirect("recurring:schedule_create", client_pk=int(chosen))
    return render(
        request, "recurring/schedule_new.html", {"clients": client_choices(agency=request.agency)}
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


# --- editing --------------------------------------------------------------------------------


def _editable_or_detail(request: AgencyRequest, schedule: RecurringSchedule) -> bool:
    if schedule.status == ScheduleStatus.ENDED:
        messages.error(request, "This schedule has ended and can no longer be changed.")
        return False
    return True


@require_http_methods(["GET", "POST"])
@require_perm(Perm.INVOICE_EDIT)
def schedule_edit(request: AgencyRequest, pk: int) -> HttpResponse:
    """The settings; "Preview" shows the next invoices with the changes, before saving."""
    schedule = object_or_404(selectors.schedule_get, agency=request.agency, pk=pk)
    if not _editable_or_detail(request, schedule):
        return redirect("recurring:schedule_detail", pk=schedule.pk)
    form = ScheduleEditForm(request.POST or None, initial=ScheduleEditForm.initial_of(schedule))
    changed_preview = None
    if request.method == "POST" and "preview" in request.POST:
        changed_preview = _preview_with(form, schedule)
    elif request.method == "POST":
        saved = save_valid_form(
            form,
            lambda data: services.schedule_update(schedule=schedule, actor=request.user, **data),
        )
        if saved is not None:
            messages.success(
                request, f"“{saved.name}” saved: the changes apply from the next invoice."
            )
            return redirect("recurring:schedule_detail", pk=schedule.pk)
    return render(
        request,
        "recurring/schedule_edit.html",
        {
            "schedule": schedule,
            "form": form,
            "preview": selectors.schedule_preview(schedule=schedule),
            "changed_preview": changed_preview,
        },
    )


def _preview_with(
    form: ScheduleEditForm, schedule: RecurringSchedule
) -> list[selectors.PreviewRow] | None:
    """The next invoices as the form would change the schedule, nothing saved."""
    if not form.is_valid():
        return None
    try:
        changed = services.schedule_update_preview(schedule=schedule, **form.cleaned_data)
    except ValidationError as error:
        add_service_errors(form, error)
        return None
    return selectors.schedule_preview(schedule=changed)


def _editor(request: AgencyRequest, schedule: RecurringSchedule) -> LinesEditor:
    lines = list(schedule.lines.select_related("service", "tax_1", "tax_2"))
    catalog = line_catalog(agency=request.agency, lines=lines)
    holder = "a schedule"
    if request.method == "POST":
        return LinesEditor(
            catalog=catalog, currency=schedule.currency, holder=holder, data=request.POST
        )
    return LinesEditor(catalog=catalog, currency=schedule.currency, holder=holder, lines=lines)


def _editor_context(schedule: RecurringSchedule, editor: LinesEditor) -> dict[str, Any]:
    totals = editor.totals(
        rounding=schedule.agency.tax_rounding, tax_exempt=schedule.client.tax_exempt
    )
    return {
        "schedule": schedule,
        "client": schedule.client,
        "editor": editor,
        "value": totals.value,
        "amounts": totals.amounts,
        "save_url": reverse("recurring:schedule_lines", args=[schedule.pk]),
        "totals_url": reverse("recurring:schedule_lines_totals", args=[schedule.pk]),
        "cancel_url": reverse("recurring:schedule_detail", args=[schedule.pk]),
    }


@require_http_methods(["GET", "POST"])
@require_perm(Perm.INVOICE_EDIT)
def schedule_lines(request: AgencyRequest, pk: int) -> HttpResponse:
    schedule = object_or_404(selectors.schedule_get, agency=request.agency, pk=pk)
    if not _editable_or_detail(request, schedule):
        return redirect("recurring:schedule_detail", pk=schedule.pk)
    editor = _editor(request, schedule)
    if request.method == "POST" and editor.is_valid():
        try:
            services.schedule_lines_replace(
                schedule=schedule, actor=request.user, lines=editor.lines()
            )
        except LinesInvalid as error:
            editor.add_line_errors(error)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request, f"Lines of “{schedule.name}” saved: they apply from the next invoice."
            )
            return redirect("recurring:schedule_detail", pk=schedule.pk)
    return render(request, "recurring/schedule_lines.html", _editor_context(schedule, editor))


@require_POST
@require_perm(Perm.INVOICE_EDIT)
def schedule_lines_totals(request: AgencyRequest, pk: int) -> HttpResponse:
    """The editor's live totals (HTMX): the posted rows priced by the server's money engine."""
    schedule = object_or_404(selectors.schedule_get, agency=request.agency, pk=pk)
    context = _editor_context(schedule, _editor(request, schedule))
    return render(request, "lines/_lines_editor.html#totals", {**context, "live": True})


# --- the lifecycle --------------------------------------------------------------------------


def _lifecycle(request: AgencyRequest, pk: int, action: str) -> HttpResponse:
    schedule = object_or_404(selectors.schedule_get, agency=request.agency, pk=pk)
    try:
        if action == "pause":
            moved = services.schedule_pause(schedule=schedule, actor=request.user)
            messages.success(request, f"“{moved.name}” paused: no invoice until you resume it.")
        else:
            moved = services.schedule_resume(schedule=schedule, actor=request.user)
            when = (
                f"the next invoice is dated {moved.next_period_start:%b %-d, %Y}"
                if moved.next_period_start
                else "it has no period left to bill"
            )
            messages.success(request, f"“{moved.name}” resumed: {when}.")
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("recurring:schedule_detail", pk=schedule.pk)


@require_POST
@require_perm(Perm.INVOICE_EDIT)
def schedule_pause_view(request: AgencyRequest, pk: int) -> HttpResponse:
    return _lifecycle(request, pk, "pause")


@require_POST
@require_perm(Perm.INVOICE_EDIT)
def schedule_resume_view(request: AgencyRequest, pk: int) -> HttpResponse:
    return _lifecycle(request, pk, "resume")


@require_http_methods(["GET", "POST"])
@require_perm(Perm.INVOICE_EDIT)
def schedule_end_view(request: AgencyRequest, pk: int) -> HttpResponse:
    """Ending is for good: a confirmation page, with an optional reason for the trail."""
    schedule = object_or_404(selectors.schedule_get, agency=request.agency, pk=pk)
    form = ScheduleEndForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            ended = services.schedule_end(
                schedule=schedule, actor=request.user, reason=form.cleaned_data["reason"]
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, f"“{ended.name}” ended: it makes no more invoices.")
        return redirect("recurring:schedule_detail", pk=schedule.pk)
    return render(
        request,
        "recurring/schedule_end.html",
        {"schedule": schedule, "form": form, **_actions(schedule)},
    )
