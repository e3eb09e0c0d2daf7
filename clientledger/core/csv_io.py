"""CSV reading and writing every import and export shares.

Imports are all-or-nothing: every row is validated first and reported with its spreadsheet row
number (the header is row 1); only a file without a single problem is written, in one
transaction, through the same services as the forms so each record is validated and audited.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import IO

from django.core.exceptions import ValidationError
from django.db import models

from clientledger.core.text import TextRefused, check_text

MAX_CSV_BYTES = 5 * 1024 * 1024
# Spreadsheets run cells starting with these characters as formulas ("CSV injection"):
# exports prefix such text with an apostrophe and imports take it off again.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class CsvColumn:
    name: str
    help: str
    required: bool = False
    # Notes and descriptions may hold line breaks and tabs (core.text), other columns not.
    multiline: bool = False


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
    "file". Entirely blank rows are skipped; a missing column in a row reads as empty. A row
    with a character its column does not take (core.text) is reported, not returned.
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
        values = {name: cells.get(name, "") for name in names}
        refused = _refused_characters(number, values, columns)
        if refused:
            errors += refused
        else:
            rows.append(CsvRow(number, values))
    if not rows and not errors:
        raise ValidationError({"file": "The file has a header row but no data rows."})
    return rows, errors


def _refused_characters(
    number: int, values: Mapping[str, str], columns: Sequence[CsvColumn]
) -> list[RowError]:
    errors = []
    for column in columns:
        try:
            check_text(values[column.name], multiline=column.multiline)
        except TextRefused as refused:
            errors.append(RowError(number, column.name, str(refused)))
    return errors


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


def csv_template(columns: Sequence[CsvColumn], examples: Iterable[Mapping[str, str]]) -> str:
    """An import template: the header, then example rows (missing columns left empty)."""
    out = io.StringIO()
    writer = csv.DictWriter(
        out, fieldnames=[column.name for column in columns], lineterminator="\r\n"
    )
    writer.writeheader()
    writer.writerows(examples)
    return out.getvalue()
