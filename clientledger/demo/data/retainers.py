"""The demo's retainers: monthly, quarterly and yearly, each with a few periods billed and
partly paid, so the retainers list, MRR and the invoices' payment states have something to
show."""

from __future__ import annotations

from decimal import Decimal

from clientledger.demo.data.seeds import RetainerSeed, line_seed
from clientledger.lines.choices import Recurrence
from clientledger.recurring.models import PeriodAction

RETAINERS = (
    RetainerSeed(
        "Website care plan",
        "Harbor & Pine Coffee Co.",
        months_ago=4,
        on_period=PeriodAction.ISSUE_AND_SEND,
        paid=3,
        part_paid=Decimal("0.5"),
        deal="Website care plan",
    ),
    RetainerSeed(
        "Search visibility retainer",
        "Meridian Health Partners",
        months_ago=3,
        on_period=PeriodAction.ISSUE,
        paid=2,
        deal="Search visibility retainer",
    ),
    RetainerSeed(
        "Dashboard hosting, quarterly",
        "Tidewater Logistics",
        months_ago=6,
        on_period=PeriodAction.ISSUE,
        paid=1,
        part_paid=Decimal("0.25"),
        deal="Shipment tracking dashboard",
    ),
    RetainerSeed(
        "Annual hosting plan",
        "Greenpoint Community Arts",
        months_ago=5,
        on_period=PeriodAction.ISSUE,
        paid=1,
        lines=(
            line_seed(
                "Maintenance & hosting",
                "12",
                "annual plan, billed yearly",
                recurrence=Recurrence.YEARLY,
            ),
        ),
    ),
)
