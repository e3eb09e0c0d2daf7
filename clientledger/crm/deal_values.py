"""Each deal's stored value: its lines priced once when they change, not on every page view.

`deal_lines_replace` stores the value in the transaction that writes the lines; whatever else
the price depends on re-prices the deals it touches in its own transaction: a tax rate's
percent or kind (the hook crm registers with `catalog.services`), the agency's rounding (with
`accounts.services`), the client's tax exemption and a deal's move to another client (crm's
own writers). Lists, the pipeline and the dashboard then read and sum the columns in SQL.

Lock order, so that a re-pricing never misses a deal being edited: tax rates, then deals.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet

from clientledger.accounts.models import Agency
from clientledger.catalog.models import TaxRate
from clientledger.core.money import to_minor
from clientledger.crm.models import STORED_VALUE_FIELDS, Client, Deal
from clientledger.crm.selectors import DEAL_LINES, deal_value
from clientledger.lines.selectors import LinesValue

VALUE_FIELDS = STORED_VALUE_FIELDS
# Deals re-priced per locked batch: a rate used by every deal re-prices them all.
REPRICE_BATCH = 500
PROBLEM_LENGTH = Deal._meta.get_field("pricing_problem").max_length or 500


def _unpriced_fields(problem: str) -> dict[str, Any]:
    return {
        "subtotal_minor": None,
        "total_minor": None,
        "monthly_recurring_minor": None,
        "pricing_problem": problem[:PROBLEM_LENGTH],
    }


def stored_value_fields(value: LinesValue) -> dict[str, Any]:
    """The Deal columns that store `value` (see Deal.subtotal_minor)."""
    totals, currency = value.totals, value.currency
    if totals is None or value.monthly_recurring is None:
        return _unpriced_fields(value.pricing_problem)
    try:
        return {
            "subtotal_minor": to_minor(totals.subtotal, currency),
            "total_minor": to_minor(totals.total, currency),
            "monthly_recurring_minor": to_minor(value.monthly_recurring, currency),
            "pricing_problem": "",
        }
    except ValueError:
        # Lines saved before the engine bounded what lines may come to can exceed a column.
        return _unpriced_fields("the lines come to more than an amount can hold")


def tax_rates_lock(tax_rate_ids: Iterable[int]) -> None:
    """Lock the rates lines are about to be priced with (before the deal: see the module), so
    that a change of one either waits for the new lines or is seen by their pricing."""
    list(
        TaxRate.objects.select_for_update()
        .filter(pk__in=sorted(set(tax_rate_ids)))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def deals_reprice(deals: QuerySet[Deal]) -> int:
    """Price `deals` again from their stored lines and store the values; returns how many.

    In batches of locked deals, each read with its lines after the lock, so that lines saved
    meanwhile are the ones priced. Only the value columns are written.
    """
    deal_ids = list(deals.order_by("pk").values_list("pk", flat=True).distinct())
    with transaction.atomic():
        for start in range(0, len(deal_ids), REPRICE_BATCH):
            batch = list(
                Deal.objects.filter(pk__in=deal_ids[start : start + REPRICE_BATCH])
                .select_for_update(of=("self",))
                .select_related("client", "agency")
                .prefetch_related(DEAL_LINES)
                .order_by("pk")
            )
            for deal in batch:
                for name, figure in stored_value_fields(deal_value(deal=deal)).items():
                    setattr(deal, name, figure)
            Deal.objects.bulk_update(batch, VALUE_FIELDS)
    return len(deal_ids)


def deals_reprice_for_tax_rate(*, tax_rate: TaxRate) -> None:
    """catalog's hook after a rate's percent or kind changed: the deals with a line using it."""
    deals_reprice(
        Deal.objects.filter(
            Q(lines__tax_1_id=tax_rate.pk) | Q(lines__tax_2_id=tax_rate.pk),
            agency_id=tax_rate.agency_id,
        )
    )


def deals_reprice_for_agency(*, agency: Agency) -> None:
    """accounts' hook after the agency's tax rounding changed: every deal with lines."""
    deals_reprice(Deal.objects.filter(agency=agency, lines__isnull=False))


def deals_reprice_for_client(*, client: Client) -> None:
    """After the client's tax exemption changed: its deals with lines."""
    deals_reprice(Deal.objects.filter(client=client, lines__isnull=False))
