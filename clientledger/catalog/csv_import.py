"""CSV import of services, and the CSV reading every import shares.

Imports are all-or-nothing: every row is validated first and reported with its spreadsheet row
number (the header is row 1); only a file without a single problem is written, in one
transaction, through the same services as the forms so each record is validated and audited.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.db import models, transaction

from clientledger.accounts.models import Agency, User
from clientledger.catalog.models import Service, TaxRate, UnitType
from clientledger.catalog.services import service_create, service_default_taxes_check
from clientledger.core.money import parse_decimal

MAX_CSV_BYTES = 5 * 1024 * 1024
# Spreadsheets run cells starting with these characters as formulas ("CSV injection"):
# exports prefix such text with an apostrophe and imports take it off again.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class CsvColumn:
    name: str
    help: str
    required: bool = False


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    message: str


@dataclass(frozen=True)
class CsvRow:
    number: int
    values: dict[str, str]


@dataclass(frozen=True)
class ImportResult:
    """How many records of each kind an import created, e.g. {"client": 3, "contact": 5}."""

    created: dict[str, int]

    def summary(self) -> str:
        counts = [
            f"{count} {noun}{'' if count == 1 else 's'}" for noun, count in self.created.items()
        ]
        return f"Imported {' and '.join(counts)}."


class CsvRowsInvalid(ValidationError):
    """The per-row report of a refused import: nothing of the file was saved."""

    def __init__(self, row_errors: list[RowError]) -> None:
        self.row_errors = sorted(row_errors, key=lambda error: error.row)
        rows = len({error.row for error in row_errors})
        super().__init__(
            f"{rows} row{' has' if rows == 1 else 's have'} problems; nothing was imported."
        )


def header_line(columns: Sequence[CsvColumn]) -> str:
    return ",".join(column.name for column in columns)


def spreadsheet_safe(text: str) -> str:
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def _cell(text: str) -> str:
    value = text.strip()
    if value.startswith("'") and value[1:].startswith(FORMULA_STARTS):
        return value[1:]
    return value


def _decode(file: IO[bytes]) -> str:
    raw = file.read(MAX_CSV_BYTES + 1)
    if len(raw) > MAX_CSV_BYTES:
        raise ValidationError(
            {"file": "The file is larger than 5 MB; split it into smaller files."}
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationError(
            {
                "file": f"The file is not UTF-8 text (unreadable byte at position {exc.start}). "
                "Save it as “CSV UTF-8” and upload it again."
            }
        ) from None
    if not text.strip():
        raise ValidationError({"file": "The file is empty."})
    return text


def _check_header(
    header: list[str], columns: Sequence[CsvColumn], ignored: Collection[str]
) -> None:
    known = {column.name for column in columns} | set(ignored)
    unknown = [
        name or f"(column {index} has no name)"
        for index, name in enumerate(header, 1)
        if name not in known
    ]
    repeated = sorted({name for name in header if name and header.count(name) > 1})
    missing = [column.name for column in columns if column.required and column.name not in header]
    problems = []
    if unknown:
        problems.append(f"Unknown columns: {', '.join(unknown)}.")
    if repeated:
        problems.append(f"Columns named more than once: {', '.join(repeated)}.")
    if missing:
        problems.append(f"Missing required columns: {', '.join(missing)}.")
    if problems:
        problems.append(f"The first row must be a header such as: {header_line(columns)}")
        raise ValidationError({"file": " ".join(problems)})


def read_csv(
    file: IO[bytes], *, columns: Sequence[CsvColumn], ignored: Collection[str] = ()
) -> tuple[list[CsvRow], list[RowError]]:
    """The data rows of an uploaded CSV keyed by column, and rows that do not fit the header.

    Problems with the file as a whole (size, encoding, header) raise a ValidationError on
    "file". Entirely blank rows are skipped; a missing column in a row reads as empty.
    """
    reader = csv.reader(io.StringIO(_decode(file), newline=""))
    try:
        records = list(reader)
    except csv.Error as exc:
        raise ValidationError(
            {"file": f"Line {reader.line_num} of the file is not valid CSV ({exc})."}
        ) from None
    header = [name.strip().lower() for name in records[0]] if records else []
    _check_header(header, columns, ignored)
    names = [column.name for column in columns]
    rows: list[CsvRow] = []
    errors: list[RowError] = []
    for number, record in enumerate(records[1:], start=2):
        if not any(cell.strip() for cell in record):
            continue
        if len(record) > len(header) and any(cell.strip() for cell in record[len(header) :]):
            errors.append(
                RowError(
                    number,
                    "",
                    f"This row has {len(record)} values but the header has "
                    f"{len(header)} columns; put text containing commas in double quotes.",
                )
            )
            continue
        cells = dict(zip(header, (_cell(cell) for cell in record), strict=False))
        rows.append(CsvRow(number, {name: cells.get(name, "") for name in names}))
    if not rows and not errors:
        raise ValidationError({"file": "The file has a header row but no data rows."})
    return rows, errors


def row_errors_from(
    exc: ValidationError, *, row: int, columns: Mapping[str, str] | None = None
) -> list[RowError]:
    """A model or service ValidationError as report lines; `columns` maps fields to columns."""
    if not hasattr(exc, "error_dict"):
        return [RowError(row, "", message) for message in exc.messages]
    renamed = columns or {}
    return [
        RowError(row, "" if field == "__all__" else renamed.get(field, field), " ".join(messages))
        for field, messages in exc.message_dict.items()
    ]


def model_errors(
    instance: models.Model,
    *,
    row: int,
    exclude: Collection[str],
    columns: Mapping[str, str] | None = None,
) -> list[RowError]:
    """Field validation of an unsaved row without database queries (uniqueness and foreign
    keys are checked by the importer once for the whole file)."""
    try:
        instance.full_clean(
            exclude=list(exclude), validate_unique=False, validate_constraints=False
        )
    except ValidationError as exc:
        return row_errors_from(exc, row=row, columns=columns)
    return []


SERVICE_COLUMNS = (
    CsvColumn("name", "The service's name, unique in your catalog.", required=True),
    CsvColumn("description", "What the service includes."),
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
    out = io.StringIO()
    writer = csv.DictWriter(
        out, fieldnames=[column.name for column in SERVICE_COLUMNS], lineterminator="\r\n"
    )
    writer.writeheader()
    currency = agency.default_currency
    writer.writerow(
        {
            "name": "Design",
            "description": "UX and visual design",
            "unit_type": "hour",
            "default_unit_price": "120.00",
            "currency": currency,
        }
    )
    writer.writerow(
        {
            "name": "Website care plan",
            "description": "Updates, backups and monitoring",
            "unit_type": "month",
            "default_unit_price": "450.00",
            "currency": currency,
        }
    )
    return out.getvalue()


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
