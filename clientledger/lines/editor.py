"""The line editor of deals, estimates and invoices: its rows (forms.LineForm) in the order
the page posts them, and their totals priced live while typing."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.http import QueryDict
from django.utils.text import capfirst

from clientledger.core.money import currency_digits, plain_decimal
from clientledger.lines.data import LineData, LinesInvalid
from clientledger.lines.forms import LineForm
from clientledger.lines.models import PricedLine, recurrence_for_unit
from clientledger.lines.pricing import PriceableLine
from clientledger.lines.selectors import LineCatalog, LinesValue, lines_value

# Eleven inputs per row: 80 rows stay under Django's DATA_UPLOAD_MAX_NUMBER_FIELDS (1,000),
# so the editor answers with this limit rather than a bare 400.
MAX_LINES = 80


def _line_initial(line: PricedLine, price_places: int) -> dict[str, Any]:
    return {
        "service": line.service_id,
        "description": line.description,
        "quantity": plain_decimal(line.quantity),
        "unit": line.unit,
        "unit_price": plain_decimal(line.unit_price, price_places),
        "discount_kind": line.discount_kind,
        "discount_value": plain_decimal(line.discount_value) if line.discount_kind else "",
        "tax_1": line.tax_1_id,
        "tax_2": line.tax_2_id,
        "recurrence": line.recurrence,
    }


def _service_options(catalog: LineCatalog, currency: str) -> dict[str, dict[str, str]]:
    """What choosing a service fills in; its price only when it is in the client's currency."""
    places = currency_digits(currency)
    options = {}
    for service in catalog.offered_services:
        attrs = {"data-description": service.name, "data-unit": service.unit_type}
        if service.currency == currency:
            attrs["data-price"] = plain_decimal(service.default_unit_price, places)
        active_taxes = [tax for tax in service.default_taxes if tax.is_active]
        attrs["data-taxes"] = ",".join(str(tax.pk) for tax in active_taxes)
        attrs["data-recurrence"] = recurrence_for_unit(service.unit_type)
        options[str(service.pk)] = attrs
    return options


@dataclass(frozen=True)
class EditorTotals:
    """The editor's rows through the money engine: the totals and each row's net amount."""

    value: LinesValue
    amounts: dict[str, Decimal | None]


class LinesEditor:
    """The line editor of a deal, an estimate or an invoice: one LineForm per row, in the
    order the page posts them.

    Rows are identified by a key (the `row` inputs) rather than numbered, so the browser adds
    and removes rows without renumbering; a row left blank is not a line. `holder` names
    what the lines belong to in messages ("a deal", "an invoice").
    """

    def __init__(
        self,
        *,
        catalog: LineCatalog,
        currency: str,
        holder: str,
        data: QueryDict | None = None,
        lines: Sequence[PricedLine] = (),
    ) -> None:
        self.catalog = catalog
        self.currency = currency
        self.service_options = _service_options(catalog, currency)
        self.errors: list[str] = []
        self.is_bound = data is not None
        self.lines_shown = list(lines)
        if data is None:
            places = currency_digits(currency)
            self.rows = [
                self._row(str(index), initial=_line_initial(line, places))
                for index, line in enumerate(lines)
            ] or [self._row("0")]
            return
        keys = list(
            dict.fromkeys(key for key in data.getlist("row") if key.isascii() and key.isdigit())
        )
        if len(keys) > MAX_LINES:
            self.errors.append(f"{capfirst(holder)} can have at most {MAX_LINES} lines.")
        self.rows = [self._row(key, data=data) for key in keys]

    def _row(
        self, key: str, data: QueryDict | None = None, initial: dict[str, Any] | None = None
    ) -> LineForm:
        return LineForm(
            data,
            key=key,
            catalog=self.catalog,
            service_options=self.service_options,
            currency=self.currency,
            initial=initial,
        )

    @property
    def template_row(self) -> LineForm:
        """The row the browser copies when adding a line (its key is replaced there)."""
        return self._row("__key__")

    @property
    def next_key(self) -> int:
        return max((int(row.key) for row in self.rows), default=-1) + 1

    @property
    def filled_rows(self) -> list[LineForm]:
        return [row for row in self.rows if not row.is_blank]

    def is_valid(self) -> bool:
        row_results = [row.is_valid() for row in self.filled_rows]
        return not self.errors and all(row_results)

    def lines(self) -> list[LineData]:
        return [row.line_data() for row in self.filled_rows]

    def priceable_lines(self) -> list[tuple[str, PriceableLine]]:
        """Each row key with its line: the stored lines as shown, or the posted rows that are
        valid so far (the live totals while typing)."""
        if not self.is_bound:
            return [(row.key, line) for row, line in zip(self.rows, self.lines_shown, strict=False)]
        return [(row.key, row.line_data()) for row in self.filled_rows if row.is_valid()]

    def totals(self, *, rounding: str, tax_exempt: bool) -> EditorTotals:
        """Every row that can be priced, through the money engine."""
        keyed = self.priceable_lines()
        value = lines_value(
            [line for _, line in keyed],
            currency=self.currency,
            rounding=rounding,
            tax_exempt=tax_exempt,
        )
        amounts = {
            key: result.net if result else None
            for key, result in value.with_results(key for key, _ in keyed)
        }
        return EditorTotals(value=value, amounts=amounts)

    @property
    def has_row_errors(self) -> bool:
        return any(row.errors for row in self.rows)

    @property
    def invalid_count(self) -> int:
        return sum(1 for row in self.filled_rows if not row.is_valid())

    def add_line_errors(self, error: LinesInvalid) -> None:
        """Put the service's errors on the right rows and cells, and those about all the
        lines above them."""
        self.errors.extend(error.total_errors)
        for row, errors in zip(self.filled_rows, error.line_errors, strict=True):
            for name, message in errors.items():
                cell = LineForm.ENGINE_FIELDS.get(name, (name, ""))[0]
                row.add_error(cell if cell in row.fields else None, message)
