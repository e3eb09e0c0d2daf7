"""Priced lines shared by deals, estimates and invoices: input, validation, stored fields."""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from functools import reduce
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db.models import Q, QuerySet
from django.utils.text import capfirst

from clientledger.accounts.models import Agency
from clientledger.billing.calculations import (
    AmountTooLarge,
    CalculationError,
    DocumentTotals,
    LineInput,
    TaxSpec,
    line_validate,
    totals_validate,
)
from clientledger.billing.models import (
    DocumentLine,
    Estimate,
    EstimateLine,
    EstimateStatus,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
)
from clientledger.billing.pricing import document_totals, line_input, tax_spec
from clientledger.catalog.models import Service, TaxRate
from clientledger.core.money import format_money, from_minor
from clientledger.crm.models import RECURRENCE_PERIODS, Client, Deal, DealLine, PricedLine

# Estimates whose lines are priced again from the live rates: when sent, or when converted.
REPRICED_ESTIMATES = (EstimateStatus.DRAFT, EstimateStatus.SENT, EstimateStatus.APPROVED)
# A refusal names this many of the records it is about, then counts the rest.
NAMED_RECORDS = 5


@dataclass
class LineData:
    description: str
    quantity: Decimal
    unit_price: Decimal
    unit: str = "hour"
    service: Service | None = None
    discount_kind: str = ""
    discount_value: Decimal = Decimal(0)
    taxes: list[TaxRate] = field(default_factory=list)
    recurrence: str = "one_off"

    @classmethod
    def from_line(cls, line: PricedLine) -> LineData:
        """The editable data of a stored line (copying a deal's lines onto an estimate...)."""
        return cls(
            description=line.description,
            quantity=line.quantity,
            unit_price=line.unit_price,
            unit=line.unit,
            service=line.service,
            discount_kind=line.discount_kind,
            discount_value=line.discount_value,
            taxes=line.taxes,
            recurrence=line.recurrence,
        )

    def fields(self) -> dict[str, Any]:
        """Keyword arguments for a PricedLine model."""
        return {
            "service": self.service,
            "description": self.description.strip(),
            "quantity": self.quantity,
            "unit": self.unit,
            "unit_price": self.unit_price,
            "discount_kind": self.discount_kind,
            "discount_value": self.discount_value if self.discount_kind else Decimal(0),
            "tax_1": self.taxes[0] if self.taxes else None,
            "tax_2": self.taxes[1] if len(self.taxes) > 1 else None,
            "recurrence": self.recurrence,
        }


class LinesInvalid(ValidationError):
    """Per-line errors: `line_errors[i]` maps field names to messages for line i;
    `total_errors` are about the lines as a whole (reported as "lines")."""

    def __init__(self, line_errors: list[dict[str, str]], total_errors: Sequence[str] = ()) -> None:
        self.line_errors = line_errors
        self.total_errors = list(total_errors)
        flat = {
            f"lines[{index}].{name}": message
            for index, errors in enumerate(line_errors)
            for name, message in errors.items()
        }
        if self.total_errors:
            flat["lines"] = " ".join(self.total_errors)
        super().__init__(flat)


def lines_validate(
    *, agency: Agency, client: Client, lines: list[LineData], existing: Iterable[PricedLine]
) -> None:
    """Raise LinesInvalid unless every line is valid and together they stay within the
    posting bound in the client's currency; archived services and taxes may stay on the
    document that already has them (`existing`) but not be added anywhere new."""
    in_use: set[tuple[str, int | None]] = set()
    for line in existing:
        in_use.update(
            {("service", line.service_id), ("tax", line.tax_1_id), ("tax", line.tax_2_id)}
        )
    line_errors = [_line_errors(agency, data, in_use) for data in lines]
    if any(line_errors):
        raise LinesInvalid(line_errors)
    totals = document_totals(
        lines, currency=client.currency, rounding=agency.tax_rounding, tax_exempt=client.tax_exempt
    )
    totals_check(totals, client.currency)


def totals_check(totals: DocumentTotals, currency: str) -> None:
    """Raise LinesInvalid when the lines come to more than a document may post: deals,
    drafts, issuing and sending all refuse such lines with the same messages."""
    try:
        totals_validate(totals, currency)
    except AmountTooLarge as error:
        message = f"{capfirst(error.message)}."
        line_errors: list[dict[str, str]] = [{} for _ in totals.lines]
        if error.line is None:
            raise LinesInvalid(line_errors, [message]) from None
        line_errors[error.line] = {error.field: message}
        raise LinesInvalid(line_errors) from None


def _line_errors(
    agency: Agency, data: LineData, in_use: set[tuple[str, int | None]]
) -> dict[str, str]:
    errors: dict[str, str] = {}
    if data.service is not None:
        if data.service.agency_id != agency.pk:
            errors["service"] = "Choose a service of your agency."
        elif not data.service.is_active and ("service", data.service.pk) not in in_use:
            errors["service"] = f"“{data.service.name}” is archived and cannot be added."
    for tax in data.taxes:
        if tax.agency_id != agency.pk:
            errors["taxes"] = "Choose tax rates of your agency."
        elif not tax.is_active and ("tax", tax.pk) not in in_use:
            errors["taxes"] = f"The tax rate “{tax.name}” is archived."
    if not data.description.strip():
        errors["description"] = "Enter a description."
    # Any concrete line model checks the shared field rules; DealLine is the simplest one.
    line = DealLine(
        agency=agency,
        **{k: v for k, v in data.fields().items() if k not in ("service", "tax_1", "tax_2")},
    )
    line.discount_value = data.discount_value
    try:
        # The field validators and the money engine below name the field; the same rules as
        # table constraints would only report "__all__".
        line.full_clean(
            exclude=["deal", "agency", "service", "tax_1", "tax_2", "position"],
            validate_constraints=False,
        )
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            errors.setdefault(name, " ".join(messages))
    if not errors:
        try:
            line_validate(line_input(data))
        except CalculationError as exc:
            name, _, message = str(exc).partition(": ")
            errors.setdefault(name if message else "__all__", message or str(exc))
    return errors


def recurring_amounts(lines: Iterable[DocumentLine], currency: str) -> list[str]:
    """What a document bills again every period, as its email states it: the amounts of its
    recurring lines added up per period ("$650.00 / month"), shortest period first."""
    per_period: dict[str, int] = {}
    for line in lines:
        if line.period:
            per_period[line.period] = per_period.get(line.period, 0) + line.net_minor
    return [
        f"{format_money(from_minor(per_period[period], currency), currency)} / {period}"
        for period in RECURRENCE_PERIODS.values()
        if period in per_period
    ]


# --- changing a tax rate ----------------------------------------------------------------------


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
