"""Changing a tax rate: refused while lines still priced from it could no longer be priced.

catalog owns tax rates but sits below the deals and documents priced from them, so
`BillingConfig.ready` registers this check with `catalog.services.tax_rate_change_check_register`.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from decimal import Decimal
from functools import reduce
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db.models import Q, QuerySet

from clientledger.billing.models import (
    Estimate,
    EstimateLine,
    EstimateStatus,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
)
from clientledger.catalog.models import Service, TaxRate
from clientledger.crm.models import Deal, DealLine
from clientledger.lines.calculations.rules import line_validate
from clientledger.lines.calculations.values import CalculationError, LineInput, TaxSpec
from clientledger.lines.pricing import tax_spec

# Estimates whose lines are priced again from the live rates: when sent, or when converted.
REPRICED_ESTIMATES = (EstimateStatus.DRAFT, EstimateStatus.SENT, EstimateStatus.APPROVED)
# A refusal names this many of the records it is about, then counts the rest.
NAMED_RECORDS = 5


@dataclass(frozen=True)
class _TaxUse:
    """Rows priced from the live rates through two tax fields, and the record each belongs to."""

    rows: QuerySet[Any]
    first: str
    second: str
    record: str  # the field naming the record the row belongs to ("pk" for the row itself)
    records: QuerySet[Any]
    label: Callable[[Any], str]


def _document_label(document: Estimate | Invoice) -> str:
    kind = document._meta.verbose_name
    return f"{kind} {document.number}" if document.number else f"draft {kind} #{document.pk}"


def _tax_uses(agency_id: int) -> list[_TaxUse]:
    """Every place whose taxes are still priced from the rates: deals, drafts, estimates until
    converted, and the default taxes of active services (issued invoices froze theirs)."""
    return [
        _TaxUse(
            DealLine.objects.filter(agency_id=agency_id),
            "tax_1",
            "tax_2",
            "deal",
            Deal.objects.order_by("pk"),
            lambda deal: f"deal “{deal.title}”",
        ),
        _TaxUse(
            EstimateLine.objects.filter(
                agency_id=agency_id, estimate__status__in=REPRICED_ESTIMATES
            ),
            "tax_1",
            "tax_2",
            "estimate",
            Estimate.objects.order_by("pk"),
            _document_label,
        ),
        _TaxUse(
            InvoiceLine.objects.filter(agency_id=agency_id, invoice__status=InvoiceStatus.DRAFT),
            "tax_1",
            "tax_2",
            "invoice",
            Invoice.objects.order_by("pk"),
            _document_label,
        ),
        _TaxUse(
            Service.objects.filter(agency_id=agency_id, archived_at__isnull=True),
            "default_tax_1",
            "default_tax_2",
            "pk",
            Service.objects.order_by("pk"),
            lambda service: f"service “{service.name}”",
        ),
    ]


def _pair_problem(pair: Iterable[int | None], specs: dict[int, TaxSpec]) -> str:
    """Why a line with these taxes (ids; None for none) cannot be priced, or ""."""
    taxes = tuple(specs[pk] for pk in pair if pk is not None)
    try:
        # Only the taxes vary between such lines; any valid amount stands for all of them.
        line_validate(LineInput(quantity=Decimal(1), unit_price=Decimal(0), taxes=taxes))
    except CalculationError as error:
        return error.message
    return ""


def _named(labels: list[str], total: int) -> str:
    named = ", ".join(labels[:NAMED_RECORDS])
    return f"{named} and {total - NAMED_RECORDS} more" if total > NAMED_RECORDS else named


def tax_rate_change_check(*, tax_rate: TaxRate, is_compound: bool, is_inclusive: bool) -> None:
    """Refuse making `tax_rate` compound or inclusive (or the reverse) while a line that is
    priced again from it, or a service's default taxes, could then no longer be priced.

    The money engine decides what can be priced; the refusal names the records to fix.
    """
    before = {
        rate.pk: tax_spec(rate) for rate in TaxRate.objects.filter(agency_id=tax_rate.agency_id)
    }
    after = before | {
        tax_rate.pk: replace(tax_spec(tax_rate), is_compound=is_compound, is_inclusive=is_inclusive)
    }
    labels: dict[str, list[str]] = {}
    counts: dict[str, int] = {}
    for use in _tax_uses(tax_rate.agency_id):
        pairs = (
            use.rows.filter(Q(**{use.first: tax_rate}) | Q(**{use.second: tax_rate}))
            .values_list(f"{use.first}_id", f"{use.second}_id")
            .order_by()
            .distinct()
        )
        broken: dict[str, list[Q]] = {}
        for first, second in pairs:
            problem = _pair_problem((first, second), after)
            # Lines that could not be priced before are not this change's doing.
            if problem and not _pair_problem((first, second), before):
                pair = Q(**{f"{use.first}_id": first, f"{use.second}_id": second})
                broken.setdefault(problem, []).append(pair)
        for problem, rows in broken.items():
            ids = use.rows.filter(reduce(operator.or_, rows)).values_list(use.record, flat=True)
            records = use.records.filter(pk__in=ids)
            counts[problem] = counts.get(problem, 0) + records.count()
            labels.setdefault(problem, []).extend(
                use.label(record) for record in records[:NAMED_RECORDS]
            )
    if not labels:
        return
    messages = [
        f"This change would leave lines that cannot be priced ({problem}) on "
        f"{_named(named, counts[problem])}. Change the taxes of those lines first, or add a new "
        "tax rate."
        for problem, named in labels.items()
    ]
    flags = [
        name
        for name, value in (("is_compound", is_compound), ("is_inclusive", is_inclusive))
        if getattr(tax_rate, name) != value
    ]
    raise ValidationError({flags[0] if len(flags) == 1 else NON_FIELD_ERRORS: messages})
