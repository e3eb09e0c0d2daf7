"""CSV import of services (the reading and the all-or-nothing rules are in core.csv_io)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.db import transaction

from clientledger.accounts.models import Agency, User
from clientledger.catalog.models import Service, TaxRate, UnitType
from clientledger.catalog.services import service_create, service_default_taxes_check
from clientledger.core.csv_io import (
    CsvColumn,
    CsvRow,
    CsvRowsInvalid,
    ImportResult,
    RowError,
    csv_template,
    model_errors,
    read_csv,
    row_errors_from,
)
from clientledger.core.money import parse_decimal

SERVICE_COLUMNS = (
    CsvColumn("name", "The service's name, unique in your catalog.", required=True),
    CsvColumn("description", "What the service includes.", multiline=True),
    CsvColumn("unit_type", "hour, day, fixed, month or item; empty means hour."),
    CsvColumn(
        "default_unit_price",
        "A number such as 120 or 95.50, without currency symbol or thousands separator.",
        required=True,
    ),
    CsvColumn("currency", "ISO 4217 code such as USD or EUR; empty uses your agency's currency."),
    CsvColumn("default_tax_1", "The name of one of your tax rates, or empty."),
    CsvColumn("default_tax_2", "The name of a second tax rate, or empty."),
)
_UNIT_TYPES = {choice.casefold(): choice for choice in UnitType.values} | {
    label.casefold(): value for value, label in UnitType.choices
}


def service_import_template(*, agency: Agency) -> str:
    currency = agency.default_currency
    return csv_template(
        SERVICE_COLUMNS,
        [
            {
                "name": "Design",
                "description": "UX and visual design",
                "unit_type": "hour",
                "default_unit_price": "120.00",
                "currency": currency,
            },
            {
                "name": "Website care plan",
                "description": "Updates, backups and monitoring",
                "unit_type": "month",
                "default_unit_price": "450.00",
                "currency": currency,
            },
        ],
    )


def _service_fields(
    row: CsvRow, agency: Agency, taxes: Mapping[str, TaxRate]
) -> tuple[dict[str, Any], list[RowError]]:
    values = row.values
    errors: list[RowError] = []
    fields: dict[str, Any] = {
        "name": values["name"],
        "description": values["description"],
        "currency": values["currency"].upper() or agency.default_currency,
    }
    if not values["name"]:
        errors.append(RowError(row.number, "name", "Enter a name."))
    unit_type = values["unit_type"] or UnitType.HOUR
    fields["unit_type"] = _UNIT_TYPES.get(unit_type.casefold(), unit_type)
    if fields["unit_type"] not in UnitType.values:
        errors.append(
            RowError(
                row.number,
                "unit_type",
                f"“{unit_type}” is not a unit type; use one of {', '.join(UnitType.values)}.",
            )
        )
    try:
        price = parse_decimal(values["default_unit_price"], field="default_unit_price")
    except ValueError:
        errors.append(
            RowError(
                row.number,
                "default_unit_price",
                f"“{values['default_unit_price']}” is not a price; write a number such as 120.00.",
            )
        )
    else:
        fields["default_unit_price"] = price
        if price < 0:
            errors.append(
                RowError(row.number, "default_unit_price", "The price cannot be negative.")
            )
    for column in ("default_tax_1", "default_tax_2"):
        name = values[column]
        fields[column] = taxes.get(name.casefold()) if name else None
        if name and fields[column] is None:
            errors.append(
                RowError(row.number, column, f"There is no tax rate named “{name}” in your agency.")
            )
    return fields, errors


def _service_row_errors(
    row: CsvRow, fields: dict[str, Any], agency: Agency, *, reported: set[str]
) -> list[RowError]:
    """Model field rules and the default-tax rules of `service_create`, without queries, for
    the columns without a `reported` problem."""
    errors = model_errors(
        Service(agency=agency, **fields),
        row=row.number,
        exclude={"agency", "default_tax_1", "default_tax_2", *reported},
    )
    if reported.isdisjoint({"default_tax_1", "default_tax_2"}):
        try:
            service_default_taxes_check(agency, fields)
        except ValidationError as exc:
            errors += row_errors_from(exc, row=row.number)
    return errors


@transaction.atomic
def _services_write(
    *, agency: Agency, actor: User | None, services: list[tuple[int, dict[str, Any]]]
) -> int:
    errors: list[RowError] = []
    for number, fields in services:
        try:
            service_create(agency=agency, actor=actor, **fields)
        except ValidationError as exc:
            errors += row_errors_from(exc, row=number)
    if errors:
        # Raising inside the atomic block rolls back the services already written.
        raise CsvRowsInvalid(errors)
    return len(services)


def services_import_csv(*, agency: Agency, actor: User | None, file: IO[bytes]) -> ImportResult:
    """Create one service per row of `file`, all of them or none."""
    rows, errors = read_csv(file, columns=SERVICE_COLUMNS)
    taxes = {tax.name.casefold(): tax for tax in TaxRate.objects.filter(agency=agency)}
    existing = {
        name.casefold()
        for name in Service.objects.filter(agency=agency).values_list("name", flat=True)
    }
    first_row_of: dict[str, int] = {}
    services: list[tuple[int, dict[str, Any]]] = []
    for row in rows:
        fields, row_errors = _service_fields(row, agency, taxes)
        key = fields["name"].casefold()
        if key in existing:
            row_errors.append(
                RowError(row.number, "name", f"A service named “{fields['name']}” already exists.")
            )
        elif key in first_row_of:
            row_errors.append(
                RowError(
                    row.number,
                    "name",
                    f"“{fields['name']}” is also on row {first_row_of[key]}; names must be unique.",
                )
            )
        elif key:
            first_row_of[key] = row.number
        reported = {error.column for error in row_errors}
        errors += row_errors + _service_row_errors(row, fields, agency, reported=reported)
        services.append((row.number, fields))
    if errors:
        raise CsvRowsInvalid(errors)
    return ImportResult({"service": _services_write(agency=agency, actor=actor, services=services)})
