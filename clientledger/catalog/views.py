"""Catalog pages: services and tax rates, and the service CSV import."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from clientledger.accounts.roles import Perm
from clientledger.catalog import selectors
from clientledger.catalog.csv_import import (
    SERVICE_COLUMNS,
    service_import_template,
    services_import_csv,
)
from clientledger.catalog.forms import ServiceForm, TaxRateForm
from clientledger.catalog.models import Service, TaxRate, UnitType
from clientledger.catalog.services import (
    service_create,
    service_set_archived,
    service_update,
    tax_rate_create,
    tax_rate_set_archived,
    tax_rate_update,
)
from clientledger.core.forms import save_valid_form
from clientledger.core.http import object_or_404
from clientledger.core.pagination import Page, keyset_page_or_first
from clientledger.core.permissions import AgencyRequest, require_perm
from clientledger.core.views import csv_download, csv_import_page

STATUSES = (("active", "Active"), ("archived", "Archived"), ("all", "All"))
ORDERING = ("name", "id")


def _status(request: AgencyRequest) -> str:
    status = request.GET.get("status", "active")
    return status if status in dict(STATUSES) else "active"


def _page(request: AgencyRequest, rows: QuerySet[Any]) -> Page[Any]:
    return keyset_page_or_first(
        rows, ordering=ORDERING, after=request.GET.get("after"), before=request.GET.get("before")
    )


@require_perm(Perm.VIEW)
def service_list(request: AgencyRequest) -> HttpResponse:
    agency = request.agency
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


def _service_form_page(request: AgencyRequest, service: Service | None) -> HttpResponse:
    agency = request.agency
    form = ServiceForm(request.POST or None, agency=agency, service=service)
    saved = save_valid_form(
        form,
        lambda data: (
            service_create(agency=agency, actor=request.user, **data)
            if service is None
            else service_update(service=service, actor=request.user, **data)
        ),
    )
    if saved is not None:
        messages.success(
            request, f"Service “{saved.name}” {'added' if service is None else 'saved'}."
        )
        return redirect("catalog:service_list")
    return render(request, "catalog/service_form.html", {"form": form, "service": service})


@require_perm(Perm.CATALOG_EDIT)
def service_create_view(request: AgencyRequest) -> HttpResponse:
    return _service_form_page(request, None)


@require_perm(Perm.CATALOG_EDIT)
def service_edit(request: AgencyRequest, pk: int) -> HttpResponse:
    return _service_form_page(
        request, object_or_404(selectors.service_get, agency=request.agency, pk=pk)
    )


def _set_service_archived(request: AgencyRequest, pk: int, *, archived: bool) -> HttpResponse:
    service = object_or_404(selectors.service_get, agency=request.agency, pk=pk)
    service_set_archived(service=service, actor=request.user, archived=archived)
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
def service_archive(request: AgencyRequest, pk: int) -> HttpResponse:
    return _set_service_archived(request, pk, archived=True)


@require_POST
@require_perm(Perm.CATALOG_EDIT)
def service_restore(request: AgencyRequest, pk: int) -> HttpResponse:
    return _set_service_archived(request, pk, archived=False)


@require_perm(Perm.VIEW)
def taxrate_list(request: AgencyRequest) -> HttpResponse:
    agency = request.agency
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


def _taxrate_form_page(request: AgencyRequest, tax_rate: TaxRate | None) -> HttpResponse:
    agency = request.agency
    form = TaxRateForm(request.POST or None, tax_rate=tax_rate)
    saved = save_valid_form(
        form,
        lambda data: (
            tax_rate_create(agency=agency, actor=request.user, **data)
            if tax_rate is None
            else tax_rate_update(tax_rate=tax_rate, actor=request.user, **data)
        ),
    )
    if saved is not None:
        messages.success(request, f"Tax rate “{saved}” {'added' if tax_rate is None else 'saved'}.")
        return redirect("catalog:taxrate_list")
    return render(request, "catalog/taxrate_form.html", {"form": form, "tax_rate": tax_rate})


@require_perm(Perm.CATALOG_EDIT)
def taxrate_create(request: AgencyRequest) -> HttpResponse:
    return _taxrate_form_page(request, None)


@require_perm(Perm.CATALOG_EDIT)
def taxrate_edit(request: AgencyRequest, pk: int) -> HttpResponse:
    return _taxrate_form_page(
        request, object_or_404(selectors.tax_rate_get, agency=request.agency, pk=pk)
    )


def _set_taxrate_archived(request: AgencyRequest, pk: int, *, archived: bool) -> HttpResponse:
    tax_rate = object_or_404(selectors.tax_rate_get, agency=request.agency, pk=pk)
    tax_rate_set_archived(tax_rate=tax_rate, actor=request.user, archived=archived)
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
def taxrate_archive(request: AgencyRequest, pk: int) -> HttpResponse:
    return _set_taxrate_archived(request, pk, archived=True)


@require_POST
@require_perm(Perm.CATALOG_EDIT)
def taxrate_restore(request: AgencyRequest, pk: int) -> HttpResponse:
    return _set_taxrate_archived(request, pk, archived=False)


@require_perm(Perm.IMPORT)
def service_import(request: AgencyRequest) -> HttpResponse:
    return csv_import_page(
        request,
        importer=services_import_csv,
        columns=SERVICE_COLUMNS,
        template="catalog/service_import.html",
        success_url="catalog:service_list",
    )


@require_perm(Perm.IMPORT)
def service_import_template_view(request: AgencyRequest) -> HttpResponse:
    return csv_download(
        service_import_template(agency=request.agency),
        "services-template.csv",
    )
