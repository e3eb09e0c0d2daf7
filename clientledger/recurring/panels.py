"""The retainer card recurring adds to crm's client and deal pages (`crm.finance`)."""

from __future__ import annotations

from dataclasses import dataclass

from clientledger.accounts.models import Agency
from clientledger.crm.models import Client, Deal, DealStage
from clientledger.lines.choices import Recurrence
from clientledger.recurring.selectors import RecordSchedules, client_schedules, deal_schedules


@dataclass(frozen=True)
class SchedulesCard:
    """The schedules of a client or a deal; `deal` offers "Set up retainer" when it is won
    and has recurring lines."""

    schedules: RecordSchedules
    deal: Deal | None = None

    @property
    def can_set_up(self) -> bool:
        deal = self.deal
        return (
            deal is not None
            and deal.stage == DealStage.WON
            and any(line.recurrence != Recurrence.ONE_OFF for line in deal.lines.all())
        )


class SchedulesPanel:
    """Registered with `crm.finance.record_panel_register` in `RecurringConfig.ready`."""

    template = "recurring/_schedules_card.html"

    def client_context(self, *, agency: Agency, client: Client) -> SchedulesCard | None:
        schedules = client_schedules(agency=agency, client=client)
        return SchedulesCard(schedules) if schedules.summaries else None

    def deal_context(self, *, agency: Agency, deal: Deal) -> SchedulesCard | None:
        card = SchedulesCard(deal_schedules(agency=agency, deal=deal), deal=deal)
        return card if card.schedules.summaries or card.can_set_up else None
