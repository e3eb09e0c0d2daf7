"""What every document writer shares: the kind of a document, its lock, the draft check,
pricing and writing its lines."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar, cast

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.options import Options

from clientledger.billing.models import (
    BillingDocument,
    CreditNote,
    CreditNoteLine,
    DocumentLine,
    Estimate,
    EstimateLine,
    Invoice,
    InvoiceLine,
)
from clientledger.core import clock
from clientledger.core.error_codes import ErrorCode
from clientledger.core.money import format_money, from_minor, to_minor
from clientledger.core.rows import row_new, rows_insert_together, rows_lock
from clientledger.lines.calculations.values import CalculationError, DocumentTotals
from clientledger.lines.data import LineData
from clientledger.lines.pricing import PriceableLine, inputs_totals, line_input, pricing_problem
from clientledger.lines.validation import totals_check

D = TypeVar("D", bound=Estimate | Invoice | CreditNote)
LineModel = type[EstimateLine] | type[InvoiceLine] | type[CreditNoteLine]


def document_kind(document: BillingDocument) -> str:
    """The document's kind ("estimate", "credit_note"): its model's name in snake case, which
    is also the name its lines and portal links give their key to it, and the prefix of its
    audit verbs."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", type(document).__name__).lower()


def document_noun(document: BillingDocument) -> str:
    """How messages name the kind: "credit note"."""
    return str(document._meta.verbose_name)


def line_model(document: BillingDocument) -> LineModel:
    """The model of the document's lines, found through their `lines` relation."""
    options: Options[Any] = document._meta
    return cast(LineModel, options.get_field("lines").related_model)


def document_lines(document: BillingDocument) -> models.QuerySet[DocumentLine]:
    lines = line_model(document).objects.filter(**{document_kind(document): document})
    return cast(models.QuerySet[DocumentLine], lines)


def document_lock(document: D) -> D:
    # Only the document's row: joined agency and client rows locked with it would make every
    # write of an agency wait for every other one.
    rows = rows_lock(type(document), ids=[document.pk], related=["agency", "client"])
    if not rows:
        raise type(document).DoesNotExist(f"No {document_noun(document)} #{document.pk}")
    locked = rows[0]
    # The client's agency is the document's (the client's payment terms default to it): the
    # row read once, not again.
    locked.client.agency = locked.agency
    return locked


def draft_require(document: BillingDocument, status: str) -> None:
    if status != "draft":
        kind = document_noun(document)
        raise ValidationError(
            f"This {kind} is {status} and can no longer be changed.", code=ErrorCode.NOT_DRAFT
        )


@dataclass(frozen=True)
class PricedAmounts:
    """What pricing gives, in minor units: each line's (net, tax, total, tax snapshot) and
    the document's (subtotal, discount, tax total, total, tax breakdown); and what it was
    priced from (`stored_pricing_digest` of the same lines once stored)."""

    lines: list[tuple[int, int, int, list[dict[str, Any]]]]
    document: tuple[int, int, int, int, list[dict[str, Any]]]
    priced_from: str


# Priced amounts by everything pricing reads (`_pricing_key`): a batch bills the same few
# sets of lines (a retainer's) to many clients, each set priced once.
PriceMemo = dict[tuple[object, ...], PricedAmounts]


def _pricing_key(
    currency: str, rounding: str, tax_exempt: bool, lines: Sequence[PriceableLine]
) -> tuple[object, ...]:
    """What `line_input` and `tax_spec` give the engine of each line, and the document's
    currency, rounding and exemption (`_key`). Cheaper than the engine's inputs themselves."""
    return _key(
        currency,
        rounding,
        tax_exempt,
        (
            (
                line.quantity,
                line.unit_price,
                line.discount_kind,
                line.discount_value,
                [
                    (tax.pk, tax.name, tax.percent, tax.is_compound, tax.is_inclusive)
                    for tax in line.taxes
                ],
            )
            for line in lines
        ),
    )


# A line's pricing inputs: quantity, unit price, discount kind and value, and its taxes (id,
# name, percent, compound, inclusive).
_LineInputs = tuple[Any, Any, str, Any, Iterable[Sequence[Any]]]


def _key(
    currency: str, rounding: str, tax_exempt: bool, lines: Iterable[_LineInputs]
) -> tuple[object, ...]:
    """The pricing key of lines' inputs. Quantities, prices and discounts by value (a line
    read back holds its column's decimal places, 3 as 3.0000, and prices alike: every amount
    is rounded to the currency); tax percents as text (Decimal("19") equals
    Decimal("19.0000") but prints otherwise in a tax snapshot); choices as their text (an
    enum member equals its value but has another repr)."""
    return (
        str(currency),
        str(rounding),
        tax_exempt,
        *(
            (
                Decimal(quantity).normalize(),
                Decimal(unit_price).normalize(),
                str(discount_kind),
                Decimal(discount_value).normalize(),
                *(
                    (pk, name, str(percent), is_compound, is_inclusive)
                    for pk, name, percent, is_compound, is_inclusive in taxes
                ),
            )
            for quantity, unit_price, discount_kind, discount_value, taxes in lines
        ),
    )


_TAX_COLUMNS = ("id", "name", "percent", "is_compound", "is_inclusive")
# What `stored_pricing_digest` reads of each stored line (`core.rows.rows_values`).
PRICING_COLUMNS = (
    "quantity",
    "unit_price",
    "discount_kind",
    "discount_value",
    *(f"tax_1__{name}" for name in _TAX_COLUMNS),
    *(f"tax_2__{name}" for name in _TAX_COLUMNS),
)


def stored_pricing_digest(document: BillingDocument, rows: Sequence[Sequence[Any]]) -> str:
    """A short fingerprint of everything pricing `document`'s stored lines reads, from their
    PRICING_COLUMNS: the `priced_from` its lines were priced with while nothing that prices
    them changed, whatever process computes it."""
    taxes = len(_TAX_COLUMNS)
    lines = (
        (
            *row[:4],
            [tax for tax in (row[4 : 4 + taxes], row[4 + taxes :]) if tax[0] is not None],
        )
        for row in rows
    )
    key = _key(document.currency, document.agency.tax_rounding, document.client.tax_exempt, lines)
    return _digest(key)


def _digest(key: tuple[object, ...]) -> str:
    # The key holds only texts, numbers, booleans and decimals, whose repr is stable.
    return hashlib.blake2b(repr(key).encode(), digest_size=16).hexdigest()


def amounts_price(
    document: BillingDocument,
    lines: Sequence[PriceableLine],
    *,
    memo: PriceMemo | None = None,
    totals: DocumentTotals | None = None,
) -> PricedAmounts:
    """Price lines for `document` (its agency's rounding, its client's tax exemption), in
    memory; refuse (ValidationError) lines beyond the posting bound, also when issuing or
    sending after a tax rate changed. With a `memo`, the amounts of lines priced before with
    the same inputs (quantities, prices, discounts, taxes as the engine reads them, currency,
    rounding) are those, not priced again. `totals`: the lines' totals as `lines_validate`
    answered them for the document's client, checked there, turned into amounts here."""
    currency = document.currency
    rounding = document.agency.tax_rounding
    tax_exempt = document.client.tax_exempt
    key = _pricing_key(currency, rounding, tax_exempt, lines)
    if memo is not None and key in memo:
        return memo[key]
    if totals is None:
        inputs = [line_input(line, tax_exempt=tax_exempt) for line in lines]
        try:
            totals = inputs_totals(inputs, currency=currency, rounding=rounding)
        except CalculationError as error:
            # Lines saved before a rule existed, or a rate changed around the catalog's check.
            raise ValidationError(
                f"This {document_noun(document)} cannot be priced: {pricing_problem(error)}. "
                "Change the taxes of that line."
            ) from error
        totals_check(totals, currency)
    line_amounts = [
        (
            to_minor(result.net, currency),
            to_minor(result.tax_total, currency),
            to_minor(result.total, currency),
            [
                {
                    "name": t.tax.name,
                    "percent": str(t.tax.percent),
                    "is_compound": t.tax.is_compound,
                    "is_inclusive": t.tax.is_inclusive,
                    "amount": str(t.amount),
                }
                for t in result.taxes
            ],
        )
        for result in totals.lines
    ]
    breakdown = [
        {
            "name": row.tax.name,
            "percent": str(row.tax.percent),
            "is_inclusive": row.tax.is_inclusive,
            "base": str(row.base),
            "amount": str(row.amount),
        }
        for row in totals.tax_breakdown
    ]
    priced = PricedAmounts(
        lines=line_amounts,
        document=(
            to_minor(totals.subtotal, currency),
            to_minor(totals.discount_total, currency),
            to_minor(totals.tax_total, currency),
            to_minor(totals.total, currency),
            breakdown,
        ),
        priced_from=_digest(key),
    )
    if memo is not None:
        memo[key] = priced
    return priced


def line_price(
    document: BillingDocument,
    lines: Sequence[DocumentLine],
    *,
    totals: DocumentTotals | None = None,
) -> None:
    """Compute each line's amounts and the document totals (`amounts_price`, given the
    `totals` when validation priced the lines) and set them on the lines and the document,
    in memory."""
    priced = amounts_price(document, lines, totals=totals)
    for line, amounts in zip(lines, priced.lines, strict=True):
        for name, value in zip(_LINE_AMOUNTS, amounts, strict=True):
            setattr(line, name, value)
    amounts_set(document, priced)


def amounts_set(document: BillingDocument, priced: PricedAmounts) -> None:
    """Give the document its priced totals and what they were priced from (not saved)."""
    for name, value in zip(DOCUMENT_AMOUNTS, priced.document, strict=True):
        setattr(document, name, value)
    document.priced_from = priced.priced_from


# What `line_price` sets on each line and on the document.
_LINE_AMOUNTS = ("net_minor", "tax_minor", "total_minor", "tax_snapshot")
DOCUMENT_AMOUNTS = (
    "subtotal_minor",
    "discount_minor",
    "tax_total_minor",
    "total_minor",
    "tax_breakdown",
)
# What pricing changes on a document's row.
DOCUMENT_PRICED = (*DOCUMENT_AMOUNTS, "priced_from")


def lines_write(document: BillingDocument, lines: list[LineData]) -> None:
    """Replace the lines of a locked draft and refresh its totals."""
    document_lines(document).delete()
    rows_insert_together(lines_priced(document, lines))
    document.updated_at = clock.now()
    document.save()


def lines_priced(
    document: BillingDocument, lines: list[LineData], *, totals: DocumentTotals | None = None
) -> list[DocumentLine]:
    """The document's unsaved lines, priced (`totals`: as `lines_validate` answered them),
    with the document's totals set in memory: a new document is then inserted with its
    totals and its lines inserted after it."""
    model = line_model(document)
    parent = document_kind(document)
    built = [
        row_new(
            model, agency=document.agency, position=position, **{parent: document}, **data.fields()
        )
        for position, data in enumerate(lines)
    ]
    line_price(document, built, totals=totals)
    return built  # type: ignore[return-value]


def money_text(minor: int, currency: str) -> str:
    """An amount in minor units, formatted in its currency for a message."""
    return format_money(from_minor(minor, currency), currency)
