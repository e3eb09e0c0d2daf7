"""Reads about lines: what a set of lines is worth, and what the line editor offers."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TypeVar

from clientledger.accounts.models import Agency
from clientledger.catalog.models import Service, TaxRate
from clientledger.core.money import plain_decimal, quantize
from clientledger.lines.calculations.values import CalculationError, DocumentTotals, LineResult
from clientledger.lines.choices import Recurrence
from clientledger.lines.models import PricedLine
from clientledger.lines.pricing import PriceableLine, document_totals, pricing_problem

L = TypeVar("L")

MONTHS_PER_PERIOD: dict[str, Decimal] = {
    Recurrence.MONTHLY: Decimal(1),
    Recurrence.QUARTERLY: Decimal(3),
    Recurrence.YEARLY: Decimal(12),
}


@dataclass(frozen=True)
class TaxRow:
    name: str
    percent: str
    base: Decimal
    amount: Decimal
    is_inclusive: bool


@dataclass(frozen=True)
class LinesValue:
    """Lines (a deal's, a document's, the editor's rows) through the money engine, plus the
    monthly recurring part of their net.

    Lines the engine refuses (saved before a rule existed, or a rate changed around the
    catalog's check) leave `totals` and `monthly_recurring` empty and say why in
    `pricing_problem`: pages show the reason instead of failing.
    """

    currency: str
    totals: DocumentTotals | None
    monthly_recurring: Decimal | None
    pricing_problem: str = ""

    @property
    def tax_rows(self) -> list[TaxRow]:
        if self.totals is None:
            return []
        return [
            TaxRow(
                name=row.tax.name,
                percent=plain_decimal(row.tax.percent),
                base=row.base,
                amount=row.amount,
                is_inclusive=row.tax.is_inclusive,
            )
            for row in self.totals.tax_breakdown
        ]

    def with_results(self, lines: Iterable[L]) -> list[tuple[L, LineResult | None]]:
        """The priced `lines`, in order, each with its result (None when unpriceable)."""
        if self.totals is None:
            return [(line, None) for line in lines]
        return list(zip(lines, self.totals.lines, strict=True))


def lines_value(
    lines: Sequence[PriceableLine], *, currency: str, rounding: str, tax_exempt: bool
) -> LinesValue:
    """The one place pages price lines: a set the engine refuses becomes a LinesValue that
    carries the reason, never an error."""
    try:
        totals = document_totals(lines, currency=currency, rounding=rounding, tax_exempt=tax_exempt)
    except CalculationError as error:
        return LinesValue(
            currency=currency,
            totals=None,
            monthly_recurring=None,
            pricing_problem=pricing_problem(error),
        )
    # Recurring revenue is counted before tax, each line's net spread over its period's months.
    monthly = sum(
        (
            result.net / MONTHS_PER_PERIOD[line.recurrence]
            for line, result in zip(lines, totals.lines, strict=True)
            if line.recurrence in MONTHS_PER_PERIOD
        ),
        start=Decimal(0),
    )
    return LinesValue(
        currency=currency,
        totals=totals,
        monthly_recurring=quantize(monthly, currency),
    )


@dataclass(frozen=True)
class LineCatalog:
    """What the line editor's selects offer and accept, loaded once for every row.

    `services` and `taxes` hold all of the agency's rows so that a posted archived one is
    recognised (and refused by the service with a clear message) rather than called unknown;
    the `offered_*` lists are what the selects show: active rows plus those already on the
    edited lines (of a deal, an estimate or an invoice).
    """

    services: dict[int, Service]
    taxes: dict[int, TaxRate]
    offered_services: list[Service]
    offered_taxes: list[TaxRate]


def line_catalog(*, agency: Agency, lines: Sequence[PricedLine]) -> LineCatalog:
    """The editor's services and tax rates for editing `lines` (two queries)."""
    services = {
        service.pk: service
        for service in Service.objects.filter(agency=agency)
        .select_related("default_tax_1", "default_tax_2")
        .order_by("name", "id")
    }
    taxes = {tax.pk: tax for tax in TaxRate.objects.filter(agency=agency).order_by("name", "id")}
    used_services = {line.service_id for line in lines}
    used_taxes = {tax.pk for line in lines for tax in line.taxes}
    return LineCatalog(
        services=services,
        taxes=taxes,
        offered_services=[s for s in services.values() if s.is_active or s.pk in used_services],
        offered_taxes=[t for t in taxes.values() if t.is_active or t.pk in used_taxes],
    )
