"""Client CSV pages: import (with contacts), its template and the export."""

from __future__ import annotations

from django.http import HttpResponse, StreamingHttpResponse
from django.utils.text import slugify

from clientledger.accounts.roles import Perm
from clientledger.core import clock
from clientledger.core.permissions import AgencyRequest, require_perm
from clientledger.core.views import csv_download, csv_import_page
from clientledger.crm.csv_io import (
    CLIENT_IMPORT_COLUMNS,
    client_import_template,
    clients_export_csv,
    clients_import_csv,
)


@require_perm(Perm.IMPORT)
def client_import(request: AgencyRequest) -> HttpResponse:
    return csv_import_page(
        request,
        importer=clients_import_csv,
        columns=CLIENT_IMPORT_COLUMNS,
        template="crm_csv/client_import.html",
        success_url="crm:client_list",
    )


@require_perm(Perm.IMPORT)
def client_import_template_view(request: AgencyRequest) -> HttpResponse:
    return csv_download(
        client_import_template(agency=request.agency),
        "clients-template.csv",
    )


@require_perm(Perm.EXPORT)
def client_export(request: AgencyRequest) -> StreamingHttpResponse:
    agency = request.agency
    lines = clients_export_csv(
        agency=agency,
        search=request.GET.get("q", "").strip(),
        currency=request.GET.get("currency", "").strip(),
    )
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    today = clock.agency_today(agency)
    filename = f"clients-{slugify(agency.name) or 'agency'}-{today:%Y-%m-%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
