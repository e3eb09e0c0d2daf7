"""Staff pages for clients, contacts, deals and the line editor (the pipeline board is in
`views_pipeline`)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.forms.models import model_to_dict
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from clientledger.accounts.roles import Perm
from clientledger.core.forms import save_valid_form
from clientledger.core.http import object_or_404, query_int
from clientledger.core.pagination import InvalidCursor
from clientledger.core.permissions import AgencyRequest, require_perm
from clientledger.crm import selectors, services
from clientledger.crm.forms import ClientForm, ContactForm, DealForm
from clientledger.crm.models import Deal, DealStage
from clientledger.lines.data import LinesInvalid
from clientledger.lines.editor import LinesEditor
from clientledger.lines.selectors import line_catalog


def _first_page(request: HttpRequest) -> HttpResponseRedirect:
    """A tampered or stale page cursor starts the list over with the same filters."""
    query = request.GET.copy()
    query.pop("after", None)
    query.pop("before", None)
    return redirect(f"{request.path}?{query.urlencode()}")


# --- clients -----------------------------------------------------------------------------


def _owed_sort(request: AgencyRequest) -> str:
    """The list's sort by what is owed ("outstanding", "overdue"), or "" for its default."""
    sort = request.GET.get("sort", "")
    return sort if sort in selectors.OWED_ORDERINGS else ""


@require_GET
@require_perm(Perm.VIEW)
def client_list(request: AgencyRequest) -> HttpResponse:
    search = request.GET.get("q", "").strip()
    currency = request.GET.get("currency", "").strip().upper()
    sort = _owed_sort(request)
    has_overdue = request.GET.get("overdue") == "1"
    try:
        listing = selectors.client_list_page(
            agency=request.agency,
            search=search,
            currency=currency,
            sort=sort,
            has_overdue=has_overdue,
            after=request.GET.get("after"),
            before=request.GET.get("before"),
        )
    except InvalidCursor:
        return _first_page(request)
    return render(
        request,
        "crm/client_list.html",
        {
            "listing": listing,
            "page": listing.page,
            "search": search,
            "currency": currency,
            "sort": sort,
            "has_overdue": has_overdue,
        },
    )


@require_http_methods(["GET", "POST"])
@require_perm(Perm.CRM_EDIT)
def client_create_view(request: AgencyRequest) -> HttpResponse:
    form = ClientForm(request.POST or None, initial={"currency": request.agency.default_currency})
    client = save_valid_form(
        form, lambda data: services.client_create(agency=request.agency, actor=request.user, **data)
    )
    if client is not None:
        messages.success(request, f"Client “{client.name}” created.")
        return redirect("crm:client_detail", pk=client.pk)
    return render(request, "crm/client_form.html", {"form": form, "client": None})


@require_GET
@require_perm(Perm.VIEW)
def client_detail(request: AgencyRequest, pk: int) -> HttpResponse:
    overview = object_or_404(selectors.client_overview, agency=request.agency, pk=pk)
    return render(request, "crm/client_detail.html", {"overview": overview})


@require_http_methods(["GET", "POST"])
@require_perm(Perm.CRM_EDIT)
def client_edit(request: AgencyRequest, pk: int) -> HttpResponse:
    client = object_or_404(selectors.client_get, agency=request.agency, pk=pk)
    form = ClientForm(
        request.POST or None, initial=model_to_dict(client, fields=list(ClientForm.base_fields))
    )
    saved = save_valid_form(
        form, lambda data: services.client_update(client=client, actor=request.user, **data)
    )
    if saved is not None:
        messages.success(request, f"Client “{client.name}” saved.")
        return redirect("crm:client_detail", pk=client.pk)
    return render(request, "crm/client_form.html", {"form": form, "client": client})


@require_http_methods(["GET", "POST"])
@require_perm(Perm.CRM_DELETE)
def client_delete_view(request: AgencyRequest, pk: int) -> HttpResponse:
    client = object_or_404(selectors.client_get, agency=request.agency, pk=pk)
    detail_url = reverse("crm:client_detail", args=[client.pk])
    if request.method == "POST":
        try:
            services.client_delete(client=client, actor=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect(detail_url)
        messages.success(request, f"Client “{client.name}” deleted.")
        return redirect("crm:client_list")
    return render(
        request,
        "crm/confirm_delete.html",
        {
            "kind": "client",
            "object": client,
            "cancel_url": detail_url,
            "consequence": "Its contacts are deleted too. A client with deals or financial "
            "records cannot be deleted.",
        },
    )


# --- contacts ----------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@require_perm(Perm.CRM_EDIT)
def contact_create_view(request: AgencyRequest, client_pk: int) -> HttpResponse:
    client = object_or_404(selectors.client_get, agency=request.agency, pk=client_pk)
    form = ContactForm(request.POST or None)
    contact = save_valid_form(
        form, lambda data: services.contact_create(client=client, actor=request.user, **data)
    )
    if contact is not None:
        messages.success(request, f"Contact “{contact.name}” added to {client.name}.")
        return redirect("crm:client_detail", pk=client.pk)
    return render(
        request, "crm/contact_form.html", {"form": form, "client": client, "contact": None}
    )


@require_http_methods(["GET", "POST"])
@require_perm(Perm.CRM_EDIT)
def contact_edit(request: AgencyRequest, pk: int) -> HttpResponse:
    contact = object_or_404(selectors.contact_get, agency=request.agency, pk=pk)
    form = ContactForm(
        request.POST or None, initial=model_to_dict(contact, fields=list(ContactForm.base_fields))
    )
    saved = save_valid_form(
        form, lambda data: services.contact_update(contact=contact, actor=request.user, **data)
    )
    if saved is not None:
        messages.success(request, f"Contact “{contact.name}” saved.")
        return redirect("crm:client_detail", pk=contact.client_id)
    return render(
        request,
        "crm/contact_form.html",
        {"form": form, "client": contact.client, "contact": contact},
    )


@require_http_methods(["GET", "POST"])
@require_perm(Perm.CRM_DELETE)
def contact_delete_view(request: AgencyRequest, pk: int) -> HttpResponse:
    contact = object_or_404(selectors.contact_get, agency=request.agency, pk=pk)
    client_url = reverse("crm:client_detail", args=[contact.client_id])
    if request.method == "POST":
        services.contact_delete(contact=contact, actor=request.user)
        messages.success(request, f"Contact “{contact.name}” deleted.")
        return redirect(client_url)
    return render(
        request,
        "crm/confirm_delete.html",
        {"kind": "contact", "object": contact, "cancel_url": client_url},
    )


# --- deals -------------------------------------------------------------------------------


@require_GET
@require_perm(Perm.VIEW)
def deal_list(request: AgencyRequest) -> HttpResponse:
    search = request.GET.get("q", "").strip()
    stage = request.GET.get("stage", "")
    stage = stage if stage in DealStage.values else ""
    try:
        listing = selectors.deal_list_page(
            agency=request.agency,
            search=search,
            stage=stage,
            client_id=query_int(request, "client"),
            owner_id=query_int(request, "owner"),
            sort=_owed_sort(request),
            has_overdue=request.GET.get("overdue") == "1",
            after=request.GET.get("after"),
            before=request.GET.get("before"),
        )
    except InvalidCursor:
        return _first_page(request)
    return render(
        request,
        "crm/deal_list.html",
        {
            "listing": listing,
            "page": listing.page,
            "search": search,
            "stage": stage,
            "owner_id": query_int(request, "owner"),
            "client_id": query_int(request, "client"),
            "stages": DealStage.choices,
            "sort": _owed_sort(request),
            "has_overdue": request.GET.get("overdue") == "1",
        },
    )


@require_http_methods(["GET", "POST"])
@require_perm(Perm.CRM_EDIT)
def deal_create_view(request: AgencyRequest) -> HttpResponse:
    form = DealForm(
        request.POST or None,
        agency=request.agency,
        initial={"client": query_int(request, "client"), "owner": request.user.pk},
    )
    deal = save_valid_form(
        form, lambda data: services.deal_create(agency=request.agency, actor=request.user, **data)
    )
    if deal is not None:
        messages.success(request, f"Deal “{deal.title}” created. Add its services below.")
        return redirect("crm:deal_lines", pk=deal.pk)
    return render(request, "crm/deal_form.html", {"form": form, "deal": None})


@require_GET
@require_perm(Perm.VIEW)
def deal_detail(request: AgencyRequest, pk: int) -> HttpResponse:
    overview = object_or_404(selectors.deal_overview, agency=request.agency, pk=pk)
    return render(
        request, "crm/deal_detail.html", {"overview": overview, "stages": DealStage.choices}
    )


@require_http_methods(["GET", "POST"])
@require_perm(Perm.CRM_EDIT)
def deal_edit(request: AgencyRequest, pk: int) -> HttpResponse:
    deal = object_or_404(selectors.deal_record_get, agency=request.agency, pk=pk)
    form = DealForm(
        request.POST or None,
        agency=request.agency,
        initial=model_to_dict(deal, fields=list(DealForm.base_fields)),
    )
    saved = save_valid_form(
        form, lambda data: services.deal_update(deal=deal, actor=request.user, **data)
    )
    if saved is not None:
        messages.success(request, f"Deal “{deal.title}” saved.")
        return redirect("crm:deal_detail", pk=deal.pk)
    return render(request, "crm/deal_form.html", {"form": form, "deal": deal})


@require_http_methods(["GET", "POST"])
@require_perm(Perm.CRM_DELETE)
def deal_delete_view(request: AgencyRequest, pk: int) -> HttpResponse:
    deal = object_or_404(selectors.deal_record_get, agency=request.agency, pk=pk)
    if request.method == "POST":
        try:
            services.deal_delete(deal=deal, actor=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect("crm:deal_detail", pk=deal.pk)
        messages.success(request, f"Deal “{deal.title}” deleted.")
        return redirect("crm:deal_list")
    return render(
        request,
        "crm/confirm_delete.html",
        {
            "kind": "deal",
            "object": deal,
            "cancel_url": reverse("crm:deal_detail", args=[deal.pk]),
            "consequence": "Its lines are deleted with it.",
        },
    )


# --- the line editor ---------------------------------------------------------------------


def _editor(request: AgencyRequest, deal: Deal) -> LinesEditor:
    lines = list(deal.lines.all())
    catalog = line_catalog(agency=request.agency, lines=lines)
    if request.method == "POST":
        return LinesEditor(
            catalog=catalog, currency=deal.currency, holder="a deal", data=request.POST
        )
    return LinesEditor(catalog=catalog, currency=deal.currency, holder="a deal", lines=lines)


def _editor_context(deal: Deal, editor: LinesEditor) -> dict[str, object]:
    totals = editor.totals(rounding=deal.agency.tax_rounding, tax_exempt=deal.client.tax_exempt)
    return {
        "deal": deal,
        "client": deal.client,
        "editor": editor,
        "value": totals.value,
        "amounts": totals.amounts,
        "save_url": reverse("crm:deal_lines", args=[deal.pk]),
        "totals_url": reverse("crm:deal_lines_totals", args=[deal.pk]),
        "cancel_url": reverse("crm:deal_detail", args=[deal.pk]),
    }


@require_http_methods(["GET", "POST"])
@require_perm(Perm.CRM_EDIT)
def deal_lines(request: AgencyRequest, pk: int) -> HttpResponse:
    deal = object_or_404(selectors.deal_get, agency=request.agency, pk=pk)
    editor = _editor(request, deal)
    if request.method == "POST" and editor.is_valid():
        try:
            services.deal_lines_replace(deal=deal, actor=request.user, lines=editor.lines())
        except LinesInvalid as error:
            editor.add_line_errors(error)
        else:
            messages.success(request, f"Lines of “{deal.title}” saved.")
            return redirect("crm:deal_detail", pk=deal.pk)
    return render(request, "crm/deal_lines.html", _editor_context(deal, editor))


@require_POST
@require_perm(Perm.CRM_EDIT)
def deal_lines_totals(request: AgencyRequest, pk: int) -> HttpResponse:
    """The editor's live totals (HTMX): the posted rows priced by the server's money engine."""
    deal = object_or_404(selectors.deal_get, agency=request.agency, pk=pk)
    context = _editor_context(deal, _editor(request, deal))
    return render(request, "lines/_lines_editor.html#totals", {**context, "live": True})
