"""Pausing, resuming and ending a schedule."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from clientledger.accounts.roles import Perm
from clientledger.core.http import object_or_404
from clientledger.core.permissions import AgencyRequest, require_perm
from clientledger.recurring import selectors, services
from clientledger.recurring.forms import ScheduleEndForm
from clientledger.recurring.views.schedules import schedule_actions


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
        {"schedule": schedule, "form": form, **schedule_actions(schedule)},
    )
