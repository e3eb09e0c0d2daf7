"""The dashboard's figures: open pipeline per currency, recent deals and activity."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from clientledger.accounts.models import Agency
from clientledger.core.audit import TimelineEntry, timeline_entries
from clientledger.core.models import AuditEvent
from clientledger.crm.models import Client, Deal
from clientledger.crm.selectors import CLOSED_STAGES
from clientledger.crm.selectors_pipeline import PipelineColumn, pipeline_board

# The dashboard's activity card: the agency's latest events, whatever their record.
RECENT_ACTIVITY = 12


@dataclass
class DashboardSummary:
    client_count: int
    columns: list[PipelineColumn]
    open_pipeline: dict[str, Decimal]
    recent_activity: list[TimelineEntry]
    recent_deals: list[Deal]


def dashboard_summary(*, agency: Agency) -> DashboardSummary:
    columns = pipeline_board(agency=agency)
    open_pipeline: dict[str, Decimal] = {}
    for column in columns:
        if column.stage in CLOSED_STAGES:
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
        recent_activity=timeline_entries(
            AuditEvent.objects.filter(agency=agency).select_related("actor", "client")[
                :RECENT_ACTIVITY
            ]
        ),
        recent_deals=recent,
    )
