"""Catalog pages: services and tax rates, and the service CSV import."""

from __future__ import annotations

from collections.abc import Callable
from typing import IO, Any, TypeVar, cast

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from clientledger.accounts.models import User
from clientledger.accounts.roles import Perm
from clientledger.accounts.views import add_service_errors
from clientledger.catalog import selectors
from clientledger.catalog.csv_import import (
    SERVICE_COLUMNS,
    CsvColumn,
    CsvRowsInvalid,
    ImportResult,
    service_import_template,
    services_import_csv,
)
from clientledger.catalog.forms import CsvUploadForm, ServiceForm, TaxRateForm
from clientledger.catalog.models import Service, TaxRate, UnitType
from clientledger.catalog.services import (
    service_create,
    service_set_archived,
    service_update,
    tax_rate_create,
    tax_rate_set_archived,
    tax_rate_update,
)
from clientledger.core.pagination import InvalidCursor, Page, keyset_page
from clientledger.core.permissions import require_perm

R = TypeVar("R", Service, TaxRate)
STATUSES = (("active", "Active"), ("archived", "Archived"), ("all", "All"))
ORDERING = ("name", "id")


def _status(request: HttpRequest) -> str:
    status = request.GET.get("status", "active")
    return status if status in dict(STATUSES) else "active"


def _page(request: HttpRequest, rows: QuerySet[Any]) -> Page[Any]:
    try:
        return keyset_page(
            rows,
            ordering=ORDERING,
            after=request.GET.get("after"),
            before=request.GET.get("before"),
        )
    except InvalidCursor:
        return keyset_page(rows, ordering=ORDERING)


def _actor(request: HttpRequest) -> User:
    # require_perm has already sent anonymous visitors to the login page.
    return cast(User, request.user)


def _get_or_404(getter: Callable[..., R], request: HttpRequest, pk: int) -> R:
    try:
        return getter(agency=request.agency, pk=pk)  # type: ignore[attr-defined]
    except (Service.DoesNotExist, TaxRate.DoesNotExist):
        raise Http404("No such record in your agency.") from None


@require_perm(Perm.VIEW)
def service_list(request: HttpRequest) -> HttpResponse:
    agency = request.agency  # type: ignore[attr-defined]
    search = request.GET.get("q", "").strip()
    status = _status(request)
    unit_type = request.GET.get("unit", "")
    unit_type = unit_type if unit_type in UnitType.values else ""
    services = selectors.service_list(
        agency=agency, search=search, status=status, unit_type=unit_type
    )
    return render(
        request,
        "catalog/service_list.html",
        {
            "page": _page(request, services),
            "search": search,
            "status": status,
            "statuses": STATUSES,
            "unit_type": unit_type,
            "unit_types": UnitType.choices,
        },
    )


def _service_form_page(request: HttpRequest, service: Service | None) -> HttpResponse:
    agency = request.agency  # type: ignore[attr-defined]
    form = ServiceForm(request.POST or None, agency=agency, service=service)
    if request.method == "POST" and form.is_valid():
        try:
            if service is None:
                saved = service_create(agency=agency, actor=_actor(request), **form.cleaned_data)
            else:
                saved = service_update(service=service, actor=_actor(request), **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request, f"Service “{saved.name}” {'added' if service is None else 'saved'}."
            )
            return redirect("catalog:service_list")
    return render(request, "catalog/service_form.html", {"form": form, "service": service})


@require_perm(Perm.CATALOG_EDIT)
def service_create_view(request: HttpRequest) -> HttpResponse:
    return _service_form_page(request, None)


@require_perm(Perm.CATALOG_EDIT)
def service_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _service_form_page(request, _get_or_404(selectors.service_get, request, pk))


def _set_service_archived(request: HttpRequest, pk: int, *, archived: bool) -> HttpResponse:
    service = _get_or_404(selectors.service_get, request, pk)
    service_set_archived(service=service, actor=_actor(request), archived=archived)
    if archived:
        messages.success(
            request,
            f"Service “{service.name}” archived. Existing deals and documents keep it; "
            "it can no longer be added to new ones.",
        )
    else:
        messages.success(request, f"Service “{service.name}” restored.")
    return redirect("catalog:service_list")


@require_POST
@require_perm(Perm.CATALOG_EDIT)
def service_archive(request: HttpRequest, pk: int) -> HttpResponse:
    return _set_service_archived(request, pk, archived=True)


@require_POST
@require_perm(Perm.CATALOG_EDIT)
def service_restore(request: HttpRequest, pk: int) -> HttpResponse:
    return _set_service_archived(request, pk, archived=False)


@require_perm(Perm.VIEW)
def taxrate_list(request: HttpRequest) -> HttpResponse:
    agency = request.agency  # type: ignore[attr-defined]
    search = request.GET.get("q", "").strip()
    status = _status(request)
    rates = selectors.tax_rate_overview(agency=agency, search=search, status=status)
    return render(
        request,
        "catalog/taxrate_list.html",
        {
            "page": _page(request, rates),
            "search": search,
            "status": status,
            "statuses": STATUSES,
        },
    )


def _taxrate_form_page(request: HttpRequest, tax_rate: TaxRate | None) -> HttpResponse:
    agency = request.agency  # type: ignore[attr-defined]
    form = TaxRateForm(request.POST or None, tax_rate=tax_rate)
    if request.method == "POST" and form.is_valid():
        try:
            if tax_rate is None:
                saved = tax_rate_create(agency=agency, actor=_actor(request), **form.cleaned_data)
            else:
                saved = tax_rate_update(
                    tax_rate=tax_rate, actor=_actor(request), **form.cleaned_data
                )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request, f"Tax rate “{saved}” {'added' if tax_rate is None else 'saved'}."
            )
            return redirect("catalog:taxrate_list")
    return render(request, "catalog/taxrate_form.html", {"form": form, "tax_rate": tax_rate})


@require_perm(Perm.CATALOG_EDIT)
def taxrate_create(request: HttpRequest) -> HttpResponse:
    return _taxrate_form_page(request, None)


@require_perm(Perm.CATALOG_EDIT)
def taxrate_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _taxrate_form_page(request, _get_or_404(selectors.tax_rate_get, request, pk))


def _set_taxrate_archived(request: HttpRequest, pk: int, *, archived: bool) -> HttpResponse:
    tax_rate = _get_or_404(selectors.tax_rate_get, request, pk)
    tax_rate_set_archived(tax_rate=tax_rate, actor=_actor(request), archived=archived)
    if archived:
        messages.success(
            request,
            f"Tax rate “{tax_rate.name}” archived. Lines that use it keep it; "
            "it can no longer be chosen for new ones.",
        )
    else:
        messages.success(request, f"Tax rate “{tax_rate.name}” restored.")
    return redirect("catalog:taxrate_list")


@require_POST
@require_perm(Perm.CATALOG_EDIT)
def taxrate_archive(request: HttpRequest, pk: int) -> HttpResponse:
    return _set_taxrate_archived(request, pk, archived=True)


@require_POST
@require_perm(Perm.CATALOG_EDIT)
def taxrate_restore(request: HttpRequest, pk: int) -> HttpResponse:
    return _set_taxrate_archived(request, pk, archived=False)


def csv_import_page(
    request: HttpRequest,
    *,
    importer: Callable[..., ImportResult],
    columns: tuple[CsvColumn, ...],
    template: str,
    success_url: str,
) -> HttpResponse:
    """Upload, all-or-nothing import and per-row report, shared by every CSV import page."""
    agency = request.agency  # type: ignore[attr-defined]
    form = CsvUploadForm(request.POST or None, request.FILES or None)
    report = None
    if request.method == "POST" and form.is_valid():
        upload: IO[bytes] = form.cleaned_data["file"]
        try:
            result = importer(agency=agency, actor=_actor(request), file=upload)
        except CsvRowsInvalid as exc:
            report = exc
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, result.summary())
            return redirect(success_url)
    return render(
        request,
        template,
        {
            "form": form,
            "columns": columns,
            "report": report,
        },
    )


@require_perm(Perm.IMPORT)
def service_import(request: HttpRequest) -> HttpResponse:
    return csv_import_page(
        request,
        importer=services_import_csv,
        columns=SERVICE_COLUMNS,
        template="catalog/service_import.html",
        success_url="catalog:service_list",
    )


def csv_download(content: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_perm(Perm.IMPORT)
def service_import_template_view(request: HttpRequest) -> HttpResponse:
    return csv_download(
        service_import_template(agency=request.agency),  # type: ignore[attr-defined]
        "services-template.csv",
    )
