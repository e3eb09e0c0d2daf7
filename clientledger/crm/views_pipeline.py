"""The pipeline board: deals in a column per stage, and moving a deal between stages."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from clientledger.accounts.roles import Perm
from clientledger.core.http import object_or_404, query_int, safe_next_url
from clientledger.core.permissions import AgencyRequest, require_perm
from clientledger.crm import selectors, services
from clientledger.crm.models import DealStage
from clientledger.crm.selectors_pipeline import PIPELINE_CARD_LIMIT, pipeline_page


def _pipeline_context(request: AgencyRequest) -> dict[str, object]:
    search = request.GET.get("q", "").strip()
    owner_id = query_int(request, "owner")
    return {
        "board": pipeline_page(agency=request.agency, search=search, owner_id=owner_id),
        "search": search,
        "owner_id": owner_id,
        "stages": DealStage.choices,
        "card_limit": PIPELINE_CARD_LIMIT,
    }


@require_GET
@require_perm(Perm.VIEW)
def pipeline(request: AgencyRequest) -> HttpResponse:
    return render(request, "crm/pipeline.html", _pipeline_context(request))


def _pipeline_board(request: AgencyRequest) -> HttpResponse:
    return render(request, "crm/pipeline.html#board", _pipeline_context(request))


@require_POST
@require_perm(Perm.CRM_EDIT)
def deal_move_view(request: AgencyRequest, pk: int) -> HttpResponse:
    """Move a deal to another stage: the board's drag and drop and the card's stage form."""
    deal = object_or_404(selectors.deal_record_get, agency=request.agency, pk=pk)
    stage = request.POST.get("stage", "")
    try:
        deal = services.deal_move(deal=deal, actor=request.user, stage=stage)
    except ValidationError as error:
        if request.htmx:
            # Plain text: the message quotes the posted stage.
            return HttpResponse(
                " ".join(error.messages), status=400, content_type="text/plain; charset=utf-8"
            )
        messages.error(request, " ".join(error.messages))
    else:
        if request.htmx:
            return _pipeline_board(request)
        messages.success(request, f"“{deal.title}” moved to {deal.get_stage_display()}.")
    return redirect(safe_next_url(request, reverse("crm:pipeline")))
