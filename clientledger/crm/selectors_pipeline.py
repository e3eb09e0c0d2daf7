"""The pipeline board's reads: a column per deal stage with each deal's value and totals."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from clientledger.accounts.models import Agency, User
from clientledger.crm.models import Deal, DealStage
from clientledger.crm.selectors import DEAL_ORDERING, agency_members, deal_list, deal_rows
from clientledger.lines.selectors import LinesValue


@dataclass
class PipelineColumn:
    stage: str
    label: str
    deals: list[tuple[Deal, LinesValue]]
    totals: dict[str, Decimal]


def pipeline_board(
    *, agency: Agency, search: str = "", owner_id: int | None = None
) -> list[PipelineColumn]:
    """A column per stage with each deal's value and per-currency column totals.

    Two queries whatever the number of deals (deals with client and owner; lines with their
    service and taxes).
    """
    deals = deal_list(agency=agency, search=search, owner_id=owner_id).order_by(*DEAL_ORDERING)
    by_stage: dict[str, list[tuple[Deal, LinesValue]]] = defaultdict(list)
    for row in deal_rows(agency=agency, deals=deals):
        by_stage[row.deal.stage].append((row.deal, row.value))
    columns = []
    for stage in DealStage:
        sums: dict[str, Decimal] = defaultdict(Decimal)
        for deal, value in by_stage[stage.value]:
            if value.totals is not None:
                sums[deal.client.currency] += value.totals.subtotal
        columns.append(PipelineColumn(stage.value, stage.label, by_stage[stage.value], dict(sums)))
    return columns


@dataclass(frozen=True)
class PipelinePage:
    columns: list[PipelineColumn]
    owners: list[User]

    @property
    def deal_count(self) -> int:
        return sum(len(column.deals) for column in self.columns)


def pipeline_page(*, agency: Agency, search: str = "", owner_id: int | None = None) -> PipelinePage:
    return PipelinePage(
        columns=pipeline_board(agency=agency, search=search, owner_id=owner_id),
        owners=list(agency_members(agency=agency)),
    )
