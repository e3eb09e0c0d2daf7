from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Prefetch, Q, QuerySet

from clientledger.accounts.models import Agency
from clientledger.billing.calculations import DocumentTotals
from clientledger.billing.pricing import document_totals
from clientledger.core.models import AuditEvent
from clientledger.crm.models import Client, Contact, Deal, DealLine, DealStage

DEAL_LINES = Prefetch(
    "lines",
    queryset=DealLine.objects.select_related("service", "tax_1", "tax_2").order_by(
        "position", "id"
    ),
)


def client_list(*, agency: Agency, search: str = "", currency: str = "") -> QuerySet[Client]:
    clients = Client.objects.filter(agency=agency).annotate(
        contact_count=Count("contacts", distinct=True),
        open_deal_count=Count(
            "deals",
            filter=~Q(deals__stage__in=[DealStage.WON, DealStage.LOST]),
            distinct=True,
        ),
    )
    if search:
        clients = clients.filter(
            Q(name__icontains=search)
            | Q(billing_email__icontains=search)
            | Q(contacts__name__icontains=search)
            | Q(contacts__email__icontains=search)
        ).distinct()
    if currency:
        clients = clients.filter(currency=currency)
    return clients


def client_get(*, agency: Agency, pk: int) -> Client:
    return Client.objects.get(agency=agency, pk=pk)


def client_contacts(*, client: Client) -> QuerySet[Contact]:
    return Contact.objects.filter(agency_id=client.agency_id, client=client)


def client_timeline(*, agency: Agency, client: Client, limit: int = 30) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(agency=agency, client=client).select_related("actor")[:limit]


def record_timeline(
    *, agency: Agency, subject_type: str, subject_id: int, limit: int = 30
) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(
        agency=agency, subject_type=subject_type, subject_id=subject_id
    ).select_related("actor")[:limit]


def deal_list(
    *,
    agency: Agency,
    search: str = "",
    stage: str = "",
    client_id: int | None = None,
    owner_id: int | None = None,
) -> QuerySet[Deal]:
    deals = (
        Deal.objects.filter(agency=agency)
        .select_related("client", "owner")
        .prefetch_related(DEAL_LINES)
    )
    if search:
        deals = deals.filter(Q(title__icontains=search) | Q(client__name__icontains=search))
    if stage:
        deals = deals.filter(stage=stage)
    if client_id:
        deals = deals.filter(client_id=client_id)
    if owner_id:
        deals = deals.filter(owner_id=owner_id)
    return deals


def deal_get(*, agency: Agency, pk: int) -> Deal:
    return (
        Deal.objects.select_related("client", "owner", "agency")
        .prefetch_related(DEAL_LINES)
        .get(agency=agency, pk=pk)
    )


def deal_totals(*, deal: Deal) -> DocumentTotals:
    """A deal's value: its lines through the money engine, in the client's currency."""
    return document_totals(
        deal.lines.all(),
        currency=deal.client.currency,
        rounding=deal.agency.tax_rounding,
        tax_exempt=deal.client.tax_exempt,
    )


@dataclass
class PipelineColumn:
    stage: str
    label: str
    deals: list[tuple[Deal, DocumentTotals]]
    totals: dict[str, Decimal]


def pipeline_board(
    *, agency: Agency, search: str = "", owner_id: int | None = None
) -> list[PipelineColumn]:
    """A column per stage with each deal's value and per-currency column totals.

    Three queries whatever the number of deals (deals+client+owner, lines, their taxes).
    """
    deals = deal_list(agency=agency, search=search, owner_id=owner_id).select_related(
        "agency"
    ).order_by("-updated_at", "-id")
    by_stage: dict[str, list[tuple[Deal, DocumentTotals]]] = defaultdict(list)
    for deal in deals:
        deal.agency = agency
        by_stage[deal.stage].append((deal, deal_totals(deal=deal)))
    columns = []
    for stage in DealStage:
        sums: dict[str, Decimal] = defaultdict(Decimal)
        for deal, totals in by_stage[stage.value]:
            sums[deal.client.currency] += totals.subtotal
        columns.append(PipelineColumn(stage.value, stage.label, by_stage[stage.value], dict(sums)))
    return columns
