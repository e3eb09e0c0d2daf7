"""The dashboard: the agency's pipeline, clients and latest activity at a glance."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render

from clientledger.accounts.roles import Perm
from clientledger.core.permissions import AgencyRequest, require_perm
from clientledger.reporting.selectors.summary import dashboard_summary


@require_perm(Perm.VIEW)
def dashboard(request: AgencyRequest) -> HttpResponse:
    summary = dashboard_summary(agency=request.agency)
    return render(request, "reporting/dashboard.html", {"summary": summary})
