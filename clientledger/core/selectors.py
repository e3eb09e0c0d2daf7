from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import QuerySet

from clientledger.accounts.models import Agency
from clientledger.core.models import AuditEvent
from clientledger.crm.models import Client, Deal
from clientledger.crm.selectors import PipelineColumn, pipeline_board


@dataclass
class DashboardSummary:
    client_count: int
    columns: list[PipelineColumn]
    open_pipeline: dict[str, Decimal]
    recent_activity: QuerySet[AuditEvent]
    recent_deals: list[Deal]


def dashboard_summary(*, agency: Agency) -> DashboardSummary:
    columns = pipeline_board(agency=agency)
    open_pipeline: dict[str, Decimal] = {}
    for column in columns:
        if column.stage in ("won", "lost"):
            continue
        for currency, amount in column.totals.items():
            open_pipeline[currency] = open_pipeline.get(currency, Decimal(0)) + amount
    recent = sorted(
        (deal for column in columns for deal, _ in column.deals),
        key=lambda deal: deal.updated_at,
        reverse=True,
    )[:6]
    return DashboardSummary(
        client_count=Client.objects.filter(agency=agency).count(),
        columns=columns,
        open_pipeline=open_pipeline,
        recent_activity=AuditEvent.objects.filter(agency=agency).select_related("actor")[:12],
        recent_deals=recent,
    )
