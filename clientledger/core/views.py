from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from clientledger.core.permissions import require_perm
from clientledger.core.selectors import dashboard_summary


@require_perm("view")
def dashboard(request: HttpRequest) -> HttpResponse:
    summary = dashboard_summary(agency=request.agency)  # type: ignore[attr-defined]
    return render(request, "core/dashboard.html", {"summary": summary})


def healthz(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
