"""Each deal's stored value: its lines priced once when they change, not on every page view.

`deal_lines_replace` stores the value in the transaction that writes the lines; whatever else
the price depends on re-prices the deals it touches in its own transaction: a tax rate's
percent or kind (the hook crm registers with `catalog.services`), the agency's rounding (with
`accounts.services`), the client's tax exemption and a deal's move to another client (crm's
own writers). Lists, the pipeline and the dashboard then read and sum the columns in SQL.

Lock order, so that a re-pricing never misses a deal being edited: tax rates, then deals.

A rate used by 20,000 deals re-prices them all in the request that changes it, so the deals
are read as plain values (no model instances, no prefetch per batch), priced through the same
`lines_value` as `deal_value`, and written by `core.bulk.values_update` (one UPDATE per batch).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet

from clientledger.accounts.models import Agency
from clientledger.catalog.models import TaxRate
from clientledger.core.bulk import values_update
from clientledger.core.money import to_minor
from clientledger.core.query import ids_in
from clientledger.crm.models import STORED_VALUE_FIELDS, Client, Deal, DealLine
from clientledger.lines.selectors import LinesValue, lines_value

VALUE_FIELDS = STORED_VALUE_FIELDS
# Deals locked, read and priced per batch: each batch's ids and lines stay a bounded list.
REPRICE_BATCH = 2_000
# What the money engine reads of a stored line, in `_StoredLine`'s order, then its taxes.
_LINE_FIGURES = ("quantity", "unit_price", "discount_kind", "discount_value", "recurrence")
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


@dataclass(slots=True)
class _StoredLine:
    """A deal line as the money engine reads it (a `lines.pricing.PriceableLine`), loaded as
    plain values."""

    quantity: Decimal
    unit_price: Decimal
    discount_kind: str
    discount_value: Decimal
    recurrence: str
    taxes: list[TaxRate]


def deals_reprice(deals: QuerySet[Deal]) -> int:
    """Price `deals` again from their stored lines and store the values; returns how many.

    In batches of locked deals, each read with its lines after the lock, so that lines saved
    meanwhile are the ones priced. Only the value columns are written.
    """
    deal_ids = list(deals.order_by("pk").values_list("pk", flat=True).distinct())
    with transaction.atomic():
        for start in range(0, len(deal_ids), REPRICE_BATCH):
            _batch_reprice(deal_ids[start : start + REPRICE_BATCH])
    return len(deal_ids)


def _batch_reprice(deal_ids: Sequence[int]) -> None:
    """Lock the deals in id order and read what prices them (client's currency and exemption,
    agency's rounding) and their stored value, then their lines and rates: three queries, then
    `values_update`'s for the deals whose value moved."""
    pricing = {
        pk: (currency, rounding, tax_exempt, stored)
        for pk, currency, rounding, tax_exempt, *stored in Deal.objects.filter(
            pk__in=ids_in(deal_ids)
        )
        .select_for_update(of=("self",))
        .order_by("pk")
        .values_list(
            "pk", "client__currency", "agency__tax_rounding", "client__tax_exempt", *VALUE_FIELDS
        )
    }
    rows = list(
        DealLine.objects.filter(deal_id__in=ids_in(deal_ids))
        .order_by("deal_id", "position", "id")
        .values_list("deal_id", *_LINE_FIGURES, "tax_1_id", "tax_2_id")
    )
    taxes = TaxRate.objects.in_bulk({tax_id for row in rows for tax_id in row[-2:] if tax_id})
    lines: dict[int, list[_StoredLine]] = {pk: [] for pk in pricing}
    for deal_id, quantity, price, discount_kind, discount, recurrence, tax_1_id, tax_2_id in rows:
        rates = [taxes[tax_id] for tax_id in (tax_1_id, tax_2_id) if tax_id is not None]
        lines[deal_id].append(
            _StoredLine(quantity, price, discount_kind, discount, recurrence, taxes=rates)
        )
    values: list[list[Any]] = []
    for pk, deal_lines in lines.items():
        currency, rounding, tax_exempt, stored = pricing[pk]
        value = lines_value(deal_lines, currency=currency, rounding=rounding, tax_exempt=tax_exempt)
        fields = stored_value_fields(value)
        figures = [fields[name] for name in VALUE_FIELDS]
        # A deal whose value did not move is not rewritten (a row version and its index
        # entries are most of the UPDATE's time): a rounding change leaves most deals as they are.
        if figures != stored:
            values.append([pk, *figures])
    values_update(Deal, VALUE_FIELDS, values)


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
