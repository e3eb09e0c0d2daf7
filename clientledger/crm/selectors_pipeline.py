"""The pipeline board's reads: a column per deal stage with its latest deals, its deal count and
its per-currency value, summed in SQL from each deal's stored value."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, F, Sum, Window
from django.db.models.functions import RowNumber

from clientledger.accounts.models import Agency, User
from clientledger.core.money import from_minor
from clientledger.crm.models import Deal, DealStage, DealValue
from clientledger.crm.selectors import DEAL_ORDERING, agency_members, deal_list

# Cards a column shows, latest first; the deal list shows the rest of a stage.
PIPELINE_CARD_LIMIT = 50


@dataclass
class PipelineColumn:
    stage: str
    label: str
    # The stage's latest deals (at most PIPELINE_CARD_LIMIT) with their stored values.
    deals: list[tuple[Deal, DealValue]]
    # Every deal of the stage: their count and subtotal per currency (priced deals only).
    deal_count: int
    totals: dict[str, Decimal]


def pipeline_board(
    *,
    agency: Agency,
    search: str = "",
    owner_id: int | None = None,
    card_limit: int = PIPELINE_CARD_LIMIT,
) -> list[PipelineColumn]:
    """A column per stage with its latest `card_limit` deals, its count and its per-currency
    total: two queries (the aggregate, and the cards ranked per stage) whatever the number of
    deals."""
    deals = deal_list(agency=agency, search=search, owner_id=owner_id)
    counts: dict[str, int] = defaultdict(int)
    sums: dict[str, dict[str, Decimal]] = defaultdict(dict)
    per_stage_currency = (
        deals.order_by()
        .values("stage", "client__currency")
        .annotate(count=Count("pk"), subtotal_minor=Sum("subtotal_minor"))
    )
    for row in per_stage_currency:
        counts[row["stage"]] += row["count"]
        if row["subtotal_minor"] is not None:
            currency = row["client__currency"]
            sums[row["stage"]][currency] = from_minor(row["subtotal_minor"], currency)
    latest_per_stage = (
        deals.annotate(
            rank_in_stage=Window(
                RowNumber(),
                partition_by=F("stage"),
                order_by=[F("updated_at").desc(), F("id").desc()],
            )
        )
        .filter(rank_in_stage__lte=card_limit)
        .values("pk")
    )
    cards: dict[str, list[Deal]] = defaultdict(list)
    for deal in (
        Deal.objects.filter(pk__in=latest_per_stage)
        .select_related("client", "owner")
        .order_by(*DEAL_ORDERING)
    ):
        cards[deal.stage].append(deal)
    columns = []
    for stage in DealStage:
        columns.append(
            PipelineColumn(
                stage=stage.value,
                label=stage.label,
                deals=[(deal, deal.value) for deal in cards[stage.value]],
                deal_count=counts[stage.value],
                totals=dict(sorted(sums[stage.value].items())),
            )
        )
    return columns


@dataclass(frozen=True)
class PipelinePage:
    columns: list[PipelineColumn]
    owners: list[User]

    @property
    def deal_count(self) -> int:
        return sum(column.deal_count for column in self.columns)


def pipeline_page(*, agency: Agency, search: str = "", owner_id: int | None = None) -> PipelinePage:
    return PipelinePage(
        columns=pipeline_board(agency=agency, search=search, owner_id=owner_id),
        owners=list(agency_members(agency=agency)),
    )
