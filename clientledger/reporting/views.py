"""The dashboard and the reports: thin over the selectors of `selectors/`.

Every member sees the receivables, the aging and its drill-down (sales and viewers see every
client of the agency, as on the client list); DSO, MRR, revenue and the exports of those are
for the roles allowed `Perm.REPORTS`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils.text import slugify

from clientledger.accounts.models import Agency
from clientledger.accounts.roles import Perm
from clientledger.core import clock
from clientledger.core.http import object_or_404
from clientledger.core.pagination import keyset_page_or_first
from clientledger.core.permissions import AgencyRequest, require_perm
from clientledger.crm.selectors import client_get
from clientledger.reporting import csv_exports
from clientledger.reporting.forms import ReportFilterForm
from clientledger.reporting.selectors.aging import aging_by_client, aging_invoices, aging_summary
from clientledger.reporting.selectors.common import Bucket, month_starts
from clientledger.reporting.selectors.dashboard import money_dashboard
from clientledger.reporting.selectors.dso import DSO_DEFINITION
from clientledger.reporting.selectors.mrr import mrr_trend
from clientledger.reporting.selectors.revenue import revenue_by_client, revenue_by_month
from clientledger.reporting.selectors.summary import dashboard_summary

AGING_INVOICE_ORDERING = ("due_date", "id")


@require_perm(Perm.VIEW)
def dashboard(request: AgencyRequest) -> HttpResponse:
    agency = request.agency
    money = money_dashboard(
        agency=agency,
        today=clock.agency_today(agency),
        currency=request.GET.get("currency", "").strip().upper(),
        leadership=request.membership.allows(Perm.REPORTS),
    )
    return render(
        request,
        "reporting/dashboard.html",
        {
            "summary": dashboard_summary(agency=agency),
            "money": money,
            "charts": money.chart_data(),
            "dso_definition": DSO_DEFINITION,
        },
    )


@dataclass(frozen=True)
class ReportParams:
    today: dt.date
    as_of: dt.date
    currency: str
    bucket: Bucket | None
    client_id: int | None


def _params(request: AgencyRequest) -> tuple[ReportFilterForm, ReportParams]:
    """The form and its values; an invalid field falls back to its default (today, the
    agency's currency, no bucket or client) while the form shows why."""
    agency = request.agency
    today = clock.agency_today(agency)
    form = ReportFilterForm(request.GET, today=today, default_currency=agency.default_currency)
    form.is_valid()
    cleaned = form.cleaned_data
    return form, ReportParams(
        today=today,
        as_of=cleaned.get("as_of") or today,
        currency=cleaned.get("currency") or agency.default_currency,
        bucket=cleaned.get("bucket"),
        client_id=cleaned.get("client"),
    )


def _csv(lines: Iterator[str], agency: Agency, name: str, day: dt.date) -> StreamingHttpResponse:
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    filename = f"{name}-{slugify(agency.name) or 'agency'}-{day:%Y-%m-%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_perm(Perm.VIEW)
def aging_report(request: AgencyRequest) -> HttpResponse:
    form, params = _params(request)
    as_of, today, currency = params.as_of, params.today, params.currency
    summary = next(
        (
            row
            for row in aging_summary(agency=request.agency, as_of=as_of, today=today)
            if row.currency == currency
        ),
        None,
    )
    return render(
        request,
        "reporting/aging_report.html",
        {
            "form": form,
            "as_of": as_of,
            "currency": currency,
            "summary": summary,
            "buckets": list(Bucket),
            "clients": aging_by_client(
                agency=request.agency, as_of=as_of, today=today, currency=currency
            ),
        },
    )


@require_perm(Perm.VIEW)
def aging_invoice_list(request: AgencyRequest) -> HttpResponse:
    form, params = _params(request)
    as_of, today, currency = params.as_of, params.today, params.currency
    invoices = aging_invoices(
        agency=request.agency,
        as_of=as_of,
        today=today,
        currency=currency,
        bucket=params.bucket,
        client_id=params.client_id,
    )
    page = keyset_page_or_first(
        invoices,
        ordering=AGING_INVOICE_ORDERING,
        after=request.GET.get("after"),
        before=request.GET.get("before"),
    )
    return render(
        request,
        "reporting/aging_invoices.html",
        {
            "form": form,
            "as_of": as_of,
            "currency": currency,
            "bucket": params.bucket,
            "client": next((invoice.client for invoice in page), None)
            if params.client_id
            else None,
            "page": page,
        },
    )


@require_perm(Perm.VIEW)
def aging_csv(request: AgencyRequest) -> StreamingHttpResponse:
    _, params = _params(request)
    as_of, today, currency = params.as_of, params.today, params.currency
    export = (
        csv_exports.aging_invoices_csv
        if request.GET.get("detail") == "invoices"
        else csv_exports.aging_clients_csv
    )
    lines = export(agency=request.agency, as_of=as_of, today=today, currency=currency)
    return _csv(lines, request.agency, f"aging-{currency.lower()}", as_of)


@require_perm(Perm.REPORTS)
def revenue_report(request: AgencyRequest) -> HttpResponse:
    form, params = _params(request)
    today, currency = params.today, params.currency
    first = month_starts(today)[0]
    return render(
        request,
        "reporting/revenue_report.html",
        {
            "form": form,
            "currency": currency,
            "first": first,
            "today": today,
            "revenue": next(
                (
                    r
                    for r in revenue_by_month(agency=request.agency, today=today)
                    if r.currency == currency
                ),
                None,
            ),
            "clients": revenue_by_client(
                agency=request.agency, first=first, last=today, currency=currency
            ),
        },
    )


@require_perm(Perm.REPORTS)
def revenue_csv(request: AgencyRequest) -> StreamingHttpResponse:
    _, params = _params(request)
    today, currency = params.today, params.currency
    if request.GET.get("by") == "client":
        lines = csv_exports.revenue_clients_csv(
            agency=request.agency, first=month_starts(today)[0], last=today, currency=currency
        )
        return _csv(lines, request.agency, f"revenue-by-client-{currency.lower()}", today)
    lines = csv_exports.revenue_months_csv(agency=request.agency, today=today)
    return _csv(lines, request.agency, "revenue-by-month", today)


@require_perm(Perm.REPORTS)
def mrr_report(request: AgencyRequest) -> HttpResponse:
    form, params = _params(request)
    today, currency = params.today, params.currency
    return render(
        request,
        "reporting/mrr_report.html",
        {
            "form": form,
            "currency": currency,
            "mrr": next(
                (
                    m
                    for m in mrr_trend(agency=request.agency, today=today)
                    if m.currency == currency
                ),
                None,
            ),
        },
    )


@require_perm(Perm.REPORTS)
def mrr_csv(request: AgencyRequest) -> StreamingHttpResponse:
    today = clock.agency_today(request.agency)
    return _csv(csv_exports.mrr_schedules_csv(agency=request.agency), request.agency, "mrr", today)


@require_perm(Perm.VIEW)
def client_ledger_csv(request: AgencyRequest, client_pk: int) -> StreamingHttpResponse:
    client = object_or_404(client_get, agency=request.agency, pk=client_pk)
    _, params = _params(request)
    lines = csv_exports.client_ledger_csv(agency=request.agency, client=client, as_of=params.as_of)
    return _csv(lines, request.agency, f"ledger-{slugify(client.name) or client.pk}", params.as_of)
