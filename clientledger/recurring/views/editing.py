"""Editing a schedule: its settings and its lines, with the preview of its next invoices."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from clientledger.accounts.roles import Perm
from clientledger.core.forms import add_service_errors, save_valid_form
from clientledger.core.http import object_or_404
from clientledger.core.permissions import AgencyRequest, require_perm
from clientledger.lines.data import LinesInvalid
from clientledger.lines.editor import LinesEditor
from clientledger.lines.selectors import line_catalog
from clientledger.recurring import selectors, services
from clientledger.recurring.forms import ScheduleEditForm
from clientledger.recurring.models import RecurringSchedule, ScheduleStatus


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
