"""Client CSV import: contacts grouped under their client, all rows or none."""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client as HttpClient
from django.urls import reverse

from clientledger.accounts.models import Agency, Membership
from clientledger.core.csv_io import CsvRowsInvalid, RowError
from clientledger.core.models import AuditEvent
from clientledger.crm.csv_io import CLIENT_IMPORT_COLUMNS, clients_import_csv
from clientledger.crm.models import Client, Contact
from tests.factories import ClientFactory

Login = Callable[[Membership], HttpClient]

pytestmark = pytest.mark.django_db

COLUMNS = [column.name for column in CLIENT_IMPORT_COLUMNS]
HEADER = ",".join(COLUMNS)


def row(**values: str) -> dict[str, str]:
    return {"name": "Acme Corporation", "currency": "USD"} | values


def csv_bytes(*rows: dict[str, str], columns: list[str] = COLUMNS) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, restval="")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def upload(content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile("clients.csv", content, "text/csv")


def import_errors(agency: Agency, *rows: dict[str, str]) -> list[RowError]:
    with pytest.raises(CsvRowsInvalid) as refused:
        clients_import_csv(agency=agency, actor=None, file=io.BytesIO(csv_bytes(*rows)))
    return refused.value.row_errors


def test_rows_with_the_same_client_name_become_one_client_with_several_contacts(
    agency: Agency, owner: Membership, owner_client: HttpClient
) -> None:
    content = csv_bytes(
        row(
            billing_email="billing@acme.example",
            city="Springfield",
            tax_exempt="yes",
            payment_terms_days="14",
            contact_name="Jane Doe",
            contact_email="jane@acme.example",
            contact_is_billing="yes",
        ),
        row(name="ACME Corporation", contact_name="John Roe", contact_job_title="Designer"),
        row(name="Globex", currency="eur"),
    )

    response = owner_client.post(
        reverse("crm_csv:client_import"), {"file": upload(content)}, follow=True
    )

    assert "Imported 2 clients and 2 contacts." in response.content.decode()
    acme = Client.objects.get(agency=agency, name="Acme Corporation")
    assert (acme.billing_email, acme.city, acme.tax_exempt, acme.payment_terms_days) == (
        "billing@acme.example",
        "Springfield",
        True,
        14,
    )
    assert [(c.name, c.is_billing_contact) for c in acme.contacts.all()] == [
        ("Jane Doe", True),
        ("John Roe", False),
    ]
    globex = Client.objects.get(agency=agency, name="Globex")
    assert (globex.currency, globex.contacts.count()) == ("EUR", 0)
    assert sorted(
        AuditEvent.objects.filter(agency=agency, actor=owner.user).values_list("verb", flat=True)
    ) == ["client.imported", "client.imported", "contact.imported", "contact.imported"]


def test_an_empty_or_missing_currency_means_the_agencys_currency(agency: Agency) -> None:
    agency.default_currency = "GBP"
    agency.save()

    empty_cell = csv_bytes(row(name="Acme", currency=""))
    no_column = csv_bytes({"name": "Globex"}, columns=["name"])

    for content in (empty_cell, no_column):
        clients_import_csv(agency=agency, actor=None, file=io.BytesIO(content))

    assert set(Client.objects.values_list("currency", flat=True)) == {"GBP"}


def test_a_wrong_header_is_one_error_naming_the_columns_and_nothing_is_imported(
    agency: Agency, owner_client: HttpClient
) -> None:
    content = b"company,email,currency\nAcme,billing@acme.example,USD\n"

    response = owner_client.post(reverse("crm_csv:client_import"), {"file": upload(content)})

    [message] = response.context["form"].errors["file"]
    assert "Unknown columns: company, email." in message
    assert "Missing required columns: name." in message
    assert HEADER in message
    assert not Client.objects.exists()


def test_one_bad_row_among_good_rows_is_reported_and_nothing_is_imported(
    agency: Agency, owner_client: HttpClient
) -> None:
    content = csv_bytes(
        row(name="Acme", contact_name="Jane"),
        row(name="Globex", billing_email="not-an-email"),
        row(name="Initech", contact_name="Peter"),
    )

    response = owner_client.post(reverse("crm_csv:client_import"), {"file": upload(content)})

    assert response.context["report"].row_errors == [
        RowError(3, "billing_email", "Enter a valid email address.")
    ]
    page = response.content.decode()
    assert "Nothing was imported" in page
    assert "<code>billing_email</code>" in page
    assert (Client.objects.count(), Contact.objects.count(), AuditEvent.objects.count()) == (
        0,
        0,
        0,
    )


@pytest.mark.parametrize(
    ("values", "column", "message"),
    [
        ({"name": ""}, "name", "Enter the client's name."),
        ({"billing_email": "acme.example"}, "billing_email", "Enter a valid email address."),
        ({"currency": "DOLLARS"}, "currency", "is not an ISO 4217 currency code"),
        ({"currency": "XAU"}, "currency", "“XAU” is not legal tender anywhere today"),
        ({"tax_exempt": "maybe"}, "tax_exempt", "“maybe” is not yes or no."),
        ({"payment_terms_days": "thirty"}, "payment_terms_days", "not a whole number of days"),
        ({"payment_terms_days": "400"}, "payment_terms_days", "less than or equal to 365"),
        ({"contact_name": "Jane", "contact_email": "jane@"}, "contact_email", "valid email"),
        ({"contact_email": "jane@acme.example"}, "contact_name", "Enter the contact's name"),
        ({"contact_name": "Jane", "contact_is_billing": "oui"}, "contact_is_billing", "yes or no"),
        ({"name": "Acme\rCorp"}, "name", "Enter this on one line"),
        ({"address_line1": "1 Main\nStreet"}, "address_line1", "Enter this on one line"),
        ({"contact_name": "Jane\x1bDoe"}, "contact_name", "Remove the control character U+001B"),
        ({"notes": "Pays late\x07"}, "notes", "Remove the control character U+0007"),
        ({"notes": "\ufffe"}, "notes", "Remove the invalid character U+FFFE"),
    ],
)
def test_a_bad_value_is_reported_with_its_row_column_and_problem(
    agency: Agency, values: dict[str, str], column: str, message: str
) -> None:
    [error] = import_errors(agency, row(name="Fine Ltd"), row(**values))

    assert (error.row, error.column) == (3, column)
    assert message in error.message
    assert not Client.objects.exists()


def test_a_client_name_that_already_exists_is_refused(agency: Agency) -> None:
    ClientFactory(agency=agency, name="Acme Corporation")

    errors = import_errors(agency, row(name="acme corporation"), row(name="New Client"))

    assert errors == [RowError(2, "name", "A client named “acme corporation” already exists.")]
    assert Client.objects.filter(agency=agency).count() == 1


def test_a_name_of_another_agency_is_no_conflict(agency: Agency, outsider: Membership) -> None:
    ClientFactory(agency=outsider.agency, name="Acme Corporation")

    result = clients_import_csv(agency=agency, actor=None, file=io.BytesIO(csv_bytes(row())))

    assert result.created == {"client": 1, "contact": 0}


def test_rows_of_one_client_must_agree_on_the_client_columns(agency: Agency) -> None:
    errors = import_errors(
        agency,
        row(billing_email="a@acme.example", contact_name="Jane"),
        row(billing_email="a@acme.example", contact_name="John"),
        row(billing_email="b@acme.example", city="Paris", contact_name="Jim"),
    )

    assert errors == [
        RowError(
            4,
            "billing_email",
            "Differs from row 2, where this client's billing_email is “a@acme.example”.",
        ),
        RowError(4, "city", "Differs from row 2, where this client's city is empty."),
    ]


def test_a_client_has_at_most_one_billing_contact(agency: Agency) -> None:
    errors = import_errors(
        agency,
        row(contact_name="Jane", contact_is_billing="yes"),
        row(contact_name="John", contact_is_billing="true"),
    )

    assert errors == [
        RowError(
            3,
            "contact_is_billing",
            "Row 2 is already this client's billing contact; a client has one.",
        )
    ]


def test_a_file_that_is_not_utf8_is_refused_with_a_clear_message(
    agency: Agency, owner_client: HttpClient
) -> None:
    content = "name,city\nCafé Müller,Köln\n".encode("cp1252")

    response = owner_client.post(reverse("crm_csv:client_import"), {"file": upload(content)})

    [message] = response.context["form"].errors["file"]
    assert message.startswith("The file is not UTF-8 text")
    assert "CSV UTF-8" in message
    assert not Client.objects.exists()


def test_values_quoted_with_commas_and_line_breaks_are_read_whole(agency: Agency) -> None:
    content = b'name,notes\r\n"Acme, Inc.","Prefers email.\r\nPays late."\r\n'

    clients_import_csv(agency=agency, actor=None, file=io.BytesIO(content))

    client = Client.objects.get(agency=agency)
    assert (client.name, client.notes) == ("Acme, Inc.", "Prefers email.\r\nPays late.")


def test_an_empty_file_is_refused(agency: Agency) -> None:
    with pytest.raises(ValidationError) as refused:
        clients_import_csv(agency=agency, actor=None, file=io.BytesIO(b"\xef\xbb\xbf\r\n"))

    assert refused.value.message_dict == {"file": ["The file is empty."]}


def test_two_thousand_rows_import_in_a_few_seconds(agency: Agency) -> None:
    rows = [
        row(
            name=f"Client {n // 2:04}",
            billing_email=f"billing{n // 2}@client.example",
            contact_name=f"Person {n}",
            contact_email=f"person{n}@client.example",
        )
        for n in range(2000)
    ]
    started = time.perf_counter()

    result = clients_import_csv(agency=agency, actor=None, file=io.BytesIO(csv_bytes(*rows)))

    assert time.perf_counter() - started < 8
    assert result.created == {"client": 1000, "contact": 2000}
    assert AuditEvent.objects.filter(agency=agency).count() == 3000


def test_the_import_page_shows_the_expected_header_and_offers_a_template(
    agency: Agency, owner_client: HttpClient
) -> None:
    page = owner_client.get(reverse("crm_csv:client_import")).content.decode()
    template = owner_client.get(reverse("crm_csv:client_import_template"))

    assert ",<wbr>".join(HEADER.split(",")) in page
    assert reverse("crm_csv:client_import_template") in page
    assert template["Content-Type"] == "text/csv; charset=utf-8"
    assert template.content.decode().splitlines()[0] == HEADER


def test_the_template_imports_as_one_client_with_two_contacts(
    agency: Agency, owner_client: HttpClient
) -> None:
    template = owner_client.get(reverse("crm_csv:client_import_template")).content

    result = clients_import_csv(agency=agency, actor=None, file=io.BytesIO(template))

    assert result.created == {"client": 1, "contact": 2}


@pytest.mark.parametrize("role", ["viewer", "sales"])
def test_only_roles_allowed_to_import_can_import_clients(
    request: pytest.FixtureRequest, login: Login, role: str
) -> None:
    http = login(request.getfixturevalue(role))

    assert http.get(reverse("crm_csv:client_import")).status_code == 403
    response = http.post(reverse("crm_csv:client_import"), {"file": upload(csv_bytes(row()))})
    assert response.status_code == 403
    assert not Client.objects.exists()


def test_finance_can_import_clients(finance: Membership, login: Login) -> None:
    response = login(finance).post(
        reverse("crm_csv:client_import"), {"file": upload(csv_bytes(row()))}
    )

    assert response.status_code == 302
    assert Client.objects.filter(agency=finance.agency).count() == 1


def test_rows_without_a_name_are_reported_one_by_one_not_grouped(agency: Agency) -> None:
    errors = import_errors(
        agency, row(name="", city="Paris"), row(name="", city="Rome", contact_email="x@")
    )

    assert errors == [
        RowError(2, "name", "Enter the client's name."),
        RowError(3, "name", "Enter the client's name."),
        RowError(
            3, "contact_name", "Enter the contact's name, or leave all contact columns empty."
        ),
        RowError(3, "contact_email", "Enter a valid email address."),
    ]


def test_a_nul_byte_in_an_uploaded_file_is_reported_on_its_row(
    agency: Agency, owner_client: HttpClient
) -> None:
    content = csv_bytes(row(name="Fine Ltd"), row(name="Acme\x00 Corp", city="Par\x00is"))

    response = owner_client.post(reverse("crm_csv:client_import"), {"file": upload(content)})

    assert response.status_code == 200
    assert response.context["report"].row_errors == [
        RowError(3, "name", "Remove the NUL character U+0000: text cannot contain it."),
        RowError(3, "city", "Remove the NUL character U+0000: text cannot contain it."),
    ]
    assert not Client.objects.exists()


def test_multiline_notes_keep_their_line_breaks_and_tabs(agency: Agency) -> None:
    content = b'name,notes\r\nAcme,"Prefers email.\nPays:\tlate"\r\n'

    clients_import_csv(agency=agency, actor=None, file=io.BytesIO(content))

    assert Client.objects.get(agency=agency).notes == "Prefers email.\nPays:\tlate"
