"""The health check, and the CSV and PDF page helpers every app's views share."""

from __future__ import annotations

from collections.abc import Callable
from typing import IO

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header

from clientledger.core.csv_io import CsvColumn, CsvRowsInvalid, ImportResult
from clientledger.core.forms import CsvUploadForm, add_service_errors
from clientledger.core.permissions import AgencyRequest


def healthz(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def csv_import_page(
    request: AgencyRequest,
    *,
    importer: Callable[..., ImportResult],
    columns: tuple[CsvColumn, ...],
    template: str,
    success_url: str,
) -> HttpResponse:
    """Upload, all-or-nothing import and per-row report, shared by every CSV import page."""
    agency = request.agency
    form = CsvUploadForm(request.POST or None, request.FILES or None)
    report = None
    if request.method == "POST" and form.is_valid():
        upload: IO[bytes] = form.cleaned_data["file"]
        try:
            result = importer(agency=agency, actor=request.user, file=upload)
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


def pdf_download(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=filename
    )
    return response


def csv_download(content: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
