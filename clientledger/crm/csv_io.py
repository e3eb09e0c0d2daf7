"""CSV import of clients with their contacts, and CSV export of clients.

One row per contact: rows with the same client name (ignoring case) add contacts to one
client. The first row of a client defines it; later rows may leave the client columns empty
or repeat them, but a different value is an error. All-or-nothing, like every import.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from django.db import transaction

from clientledger.accounts.models import Agency, User
from clientledger.core.audit import audit_record_many
from clientledger.core.csv_io import (
    CsvColumn,
    CsvRow,
    CsvRowsInvalid,
    ImportResult,
    RowError,
    csv_template,
    model_errors,
    read_csv,
    spreadsheet_safe,
)
from clientledger.core.money import from_minor
from clientledger.crm.audit_verbs import ClientVerb, ContactVerb
from clientledger.crm.models import Client, Contact
from clientledger.crm.selectors import client_list

CLIENT_COLUMNS = (
    CsvColumn(
        "name", "Company name. Rows with the same name add contacts to one client.", required=True
    ),
    CsvColumn("billing_email", "Where invoices are sent."),
    CsvColumn("address_line1", "Street and number."),
    CsvColumn("address_line2", "Suite, floor or building."),
    CsvColumn("city", ""),
    CsvColumn("postal_code", ""),
    CsvColumn("region", "State or region."),
    CsvColumn("country", ""),
    CsvColumn("currency", "ISO 4217 code such as USD or EUR; empty uses your agency's currency."),
    CsvColumn("tax_id", "VAT or tax number."),
    CsvColumn("tax_exempt", "yes or no (true/false and 1/0 work too); empty means no."),
    CsvColumn(
        "payment_terms_days",
        "Whole number of days from 0 to 365; empty uses your agency's default terms.",
    ),
    CsvColumn("notes", "Internal notes.", multiline=True),
)
CONTACT_COLUMNS = (
    CsvColumn("contact_name", "Required when any other contact column is filled."),
    CsvColumn("contact_email", ""),
    CsvColumn("contact_phone", ""),
    CsvColumn("contact_job_title", ""),
    CsvColumn("contact_is_billing", "yes for the contact who receives invoices (one per client)."),
)
CLIENT_IMPORT_COLUMNS = CLIENT_COLUMNS + CONTACT_COLUMNS
# An export can be imported again as it is: its computed columns are ignored, since balances
# only ever come from the ledger.
EXPORT_ONLY_COLUMNS = ("balance", "contacts")
CLIENT_EXPORT_HEADER = [column.name for column in CLIENT_COLUMNS] + list(EXPORT_ONLY_COLUMNS)

_CONTACT_FIELDS = {
    "contact_name": "name",
    "contact_email": "email",
    "contact_phone": "phone",
    "contact_job_title": "job_title",
    "contact_is_billing": "is_billing_contact",
}
_COLUMN_OF_CONTACT_FIELD = {name: column for column, name in _CONTACT_FIELDS.items()}
_TRUE = {"yes", "y", "true", "t", "1", "x"}
_FALSE = {"no", "n", "false", "f", "0", ""}


@dataclass
class _PendingClient:
    row: int
    values: dict[str, str]
    fields: dict[str, Any]
    contacts: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    billing_contact_row: int | None = None


def _parse_bool(row: CsvRow, column: str, errors: list[RowError]) -> bool:
    value = row.values[column].casefold()
    if value not in _TRUE | _FALSE:
        errors.append(RowError(row.number, column, f"“{row.values[column]}” is not yes or no."))
    return value in _TRUE


def _client_fields(row: CsvRow, agency: Agency, errors: list[RowError]) -> dict[str, Any]:
    values = row.values
    fields: dict[str, Any] = {column.name: values[column.name] for column in CLIENT_COLUMNS}
    fields["currency"] = values["currency"].upper() or agency.default_currency
    fields["tax_exempt"] = _parse_bool(row, "tax_exempt", errors)
    terms = values["payment_terms_days"]
    whole_number = terms.isascii() and terms.isdigit()
    fields["payment_terms_days"] = int(terms) if whole_number else None
    if terms and not whole_number:
        errors.append(
            RowError(row.number, "payment_terms_days", f"“{terms}” is not a whole number of days.")
        )
    if not values["name"]:
        errors.append(RowError(row.number, "name", "Enter the client's name."))
    return fields


def _disagreements(row: CsvRow, fields: dict[str, Any], client: _PendingClient) -> list[RowError]:
    """Client columns this row fills with a value other than the client's first row."""
    return [
        RowError(
            row.number,
            column.name,
            f"Differs from row {client.row}, where this client's {column.name} is "
            + (f"“{client.values[column.name]}”." if client.values[column.name] else "empty."),
        )
        # The name is what grouped the rows: it is the only column not compared.
        for column in CLIENT_COLUMNS[1:]
        if row.values[column.name] and fields[column.name] != client.fields[column.name]
    ]


def _contact_fields(row: CsvRow, errors: list[RowError]) -> dict[str, Any] | None:
    if not any(row.values[column] for column in _CONTACT_FIELDS):
        return None
    fields: dict[str, Any] = {name: row.values[column] for column, name in _CONTACT_FIELDS.items()}
    fields["is_billing_contact"] = _parse_bool(row, "contact_is_billing", errors)
    if not fields["name"]:
        errors.append(
            RowError(
                row.number,
                "contact_name",
                "Enter the contact's name, or leave all contact columns empty.",
            )
        )
    return fields


def _add_contact(
    row: CsvRow,
    fields: dict[str, Any],
    client: _PendingClient,
    agency: Agency,
    errors: list[RowError],
) -> None:
    reported = {
        _CONTACT_FIELDS[error.column] for error in errors if error.column in _CONTACT_FIELDS
    }
    errors += model_errors(
        Contact(agency=agency, **fields),
        row=row.number,
        exclude={"agency", "client", *reported},
        columns=_COLUMN_OF_CONTACT_FIELD,
    )
    if fields["is_billing_contact"]:
        if client.billing_contact_row is not None:
            errors.append(
                RowError(
                    row.number,
                    "contact_is_billing",
                    f"Row {client.billing_contact_row} is already this client's billing contact; "
                    "a client has one.",
                )
            )
        client.billing_contact_row = row.number
    client.contacts.append((row.number, fields))


def _pending_clients(
    rows: list[CsvRow], agency: Agency, errors: list[RowError]
) -> list[_PendingClient]:
    existing = {
        name.casefold()
        for name in Client.objects.filter(agency=agency).values_list("name", flat=True)
    }
    clients: dict[str, _PendingClient] = {}
    for row in rows:
        row_errors: list[RowError] = []
        fields = _client_fields(row, agency, row_errors)
        key = fields["name"].casefold()
        client = clients.get(key)
        if client is None:
            client = _PendingClient(row.number, row.values, fields)
            if key:
                clients[key] = client
            if key in existing:
                row_errors.append(
                    RowError(
                        row.number, "name", f"A client named “{fields['name']}” already exists."
                    )
                )
            reported = {error.column for error in row_errors}
            row_errors += model_errors(
                Client(agency=agency, **fields),
                row=row.number,
                exclude={"agency", *reported},
            )
        else:
            row_errors += _disagreements(row, fields, client)
        contact = _contact_fields(row, row_errors)
        if contact is not None:
            _add_contact(row, contact, client, agency, row_errors)
        errors += row_errors
    return list(clients.values())


@transaction.atomic
def _clients_write(
    *, agency: Agency, actor: User | None, clients: list[_PendingClient]
) -> ImportResult:
    """Every row was validated (model rules included) before this point, so the rows are
    written in bulk: three inserts per 500 records instead of one service call each."""
    created = Client.objects.bulk_create(
        (Client(agency=agency, **pending.fields) for pending in clients), batch_size=500
    )
    contacts = Contact.objects.bulk_create(
        (
            Contact(agency=agency, client=client, **fields)
            for client, pending in zip(created, clients, strict=True)
            for _, fields in pending.contacts
        ),
        batch_size=500,
    )
    audit_record_many(
        agency=agency,
        actor=actor,
        verb=ClientVerb.IMPORTED,
        subjects=((client, client.pk) for client in created),
    )
    audit_record_many(
        agency=agency,
        actor=actor,
        verb=ContactVerb.IMPORTED,
        subjects=((contact, contact.client_id) for contact in contacts),
    )
    return ImportResult({"client": len(created), "contact": len(contacts)})


def clients_import_csv(*, agency: Agency, actor: User | None, file: IO[bytes]) -> ImportResult:
    """Create the clients and contacts of `file`, all of them or none."""
    rows, errors = read_csv(file, columns=CLIENT_IMPORT_COLUMNS, ignored=EXPORT_ONLY_COLUMNS)
    clients = _pending_clients(rows, agency, errors)
    if errors:
        raise CsvRowsInvalid(errors)
    return _clients_write(agency=agency, actor=actor, clients=clients)


def client_import_template(*, agency: Agency) -> str:
    """A header and two example rows: one client with its billing contact, then a second
    contact of the same client."""
    return csv_template(
        CLIENT_IMPORT_COLUMNS,
        [
            {
                "name": "Acme Corporation",
                "billing_email": "billing@acme.example",
                "address_line1": "1 Main Street",
                "address_line2": "Suite 400",
                "city": "Springfield",
                "postal_code": "62701",
                "region": "IL",
                "country": "United States",
                "currency": agency.default_currency,
                "tax_exempt": "no",
                "payment_terms_days": "30",
                "contact_name": "Jane Doe",
                "contact_email": "jane@acme.example",
                "contact_phone": "555-0100",
                "contact_job_title": "CFO",
                "contact_is_billing": "yes",
            },
            {
                "name": "Acme Corporation",
                "contact_name": "John Roe",
                "contact_email": "john@acme.example",
                "contact_job_title": "Marketing lead",
                "contact_is_billing": "no",
            },
        ],
    )


def _export_cell(value: object) -> object:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str):
        return spreadsheet_safe(value)
    return "" if value is None else value


class _Line:
    """A file-like sink that hands back what csv.writer wrote, so rows can be streamed."""

    def write(self, text: str) -> str:
        return text


def clients_export_csv(
    *, agency: Agency, search: str = "", currency: str = "", chunk_size: int = 500
) -> Iterator[str]:
    """The agency's clients (as filtered on the client list) as CSV lines, in one query.

    Starts with a byte order mark so spreadsheet programs read the file as UTF-8.
    """
    writer = csv.writer(_Line(), lineterminator="\r\n")
    yield "\ufeff" + writer.writerow(CLIENT_EXPORT_HEADER)
    clients = client_list(agency=agency, search=search, currency=currency).order_by("name", "id")
    for client in clients.iterator(chunk_size=chunk_size):
        yield writer.writerow(
            [
                *(_export_cell(getattr(client, column.name)) for column in CLIENT_COLUMNS),
                str(from_minor(client.balance_minor, client.currency)),
                client.contact_count,  # type: ignore[attr-defined]
            ]
        )
