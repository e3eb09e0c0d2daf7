"""Service CSV import: all rows or none, with a per-row report."""

from __future__ import annotations

import io
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client as HttpClient
from django.urls import reverse

from clientledger.accounts.models import Agency, Membership
from clientledger.catalog.csv_import import services_import_csv
from clientledger.catalog.models import Service
from clientledger.core import clock
from clientledger.core.csv_io import CsvRowsInvalid, RowError
from clientledger.core.models import AuditEvent
from tests.factories import ServiceFactory, TaxRateFactory

Login = Callable[[Membership], HttpClient]

pytestmark = pytest.mark.django_db

HEADER = "name,description,unit_type,default_unit_price,currency,default_tax_1,default_tax_2"


def csv_file(*lines: str, encoding: str = "utf-8") -> io.BytesIO:
    return io.BytesIO("\r\n".join(lines).encode(encoding))


def upload(*lines: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("services.csv", "\n".join(lines).encode(), "text/csv")


def import_errors(agency: Agency, *lines: str) -> list[RowError]:
    with pytest.raises(CsvRowsInvalid) as refused:
        services_import_csv(agency=agency, actor=None, file=csv_file(*lines))
    return refused.value.row_errors


def test_importing_services_creates_each_with_its_taxes_and_audits_it(
    agency: Agency, owner: Membership, owner_client: HttpClient
) -> None:
    vat = TaxRateFactory(agency=agency, name="VAT")
    TaxRateFactory(agency=agency, name="Other")

    response = owner_client.post(
        reverse("catalog:service_import"),
        {
            "file": upload(
                HEADER,
                "Design,UX and visual design,hour,120,USD,vat,",
                "Hosting,,Month,49.90,,,",
            )
        },
        follow=True,
    )

    assert "Imported 2 services." in response.content.decode()
    design, hosting = Service.objects.filter(agency=agency).order_by("name")
    assert (design.default_unit_price, design.default_tax_1, design.unit_type) == (
        Decimal("120"),
        vat,
        "hour",
    )
    assert (hosting.unit_type, hosting.currency, hosting.default_tax_1) == ("month", "USD", None)
    assert set(
        AuditEvent.objects.filter(verb="service.created", actor=owner.user).values_list(
            "subject_id", flat=True
        )
    ) == {design.pk, hosting.pk}


def test_a_file_with_a_byte_order_mark_and_columns_in_another_order_is_accepted(
    agency: Agency,
) -> None:
    file = io.BytesIO("\ufeffdefault_unit_price,name\r\n10,Design\r\n".encode())

    result = services_import_csv(agency=agency, actor=None, file=file)

    assert result.summary() == "Imported 1 service."
    assert Service.objects.get(agency=agency).name == "Design"


def test_a_wrong_header_names_the_unknown_and_missing_columns_and_imports_nothing(
    agency: Agency, owner_client: HttpClient
) -> None:
    response = owner_client.post(
        reverse("catalog:service_import"),
        {"file": upload("title,price,currency", "Design,120,USD")},
    )

    [message] = response.context["form"].errors["file"]
    assert "Unknown columns: title, price." in message
    assert "Missing required columns: name, default_unit_price." in message
    assert not Service.objects.exists()


def test_one_bad_row_among_good_rows_is_reported_and_nothing_is_imported(
    agency: Agency, owner_client: HttpClient
) -> None:
    response = owner_client.post(
        reverse("catalog:service_import"),
        {
            "file": upload(
                HEADER,
                "Design,,hour,120,USD,,",
                "Hosting,,month,-5,USD,,",
                "Support,,hour,80,USD,,",
            )
        },
    )

    assert response.status_code == 200
    assert response.context["report"].row_errors == [
        RowError(3, "default_unit_price", "The price cannot be negative.")
    ]
    page = response.content.decode()
    assert "Nothing was imported" in page
    assert "The price cannot be negative." in page
    assert not Service.objects.exists()
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize(
    ("row", "column", "message"),
    [
        (",,hour,1,USD,,", "name", "Enter a name."),
        ("Design,,hour,12.5.0,USD,,", "default_unit_price", "“12.5.0” is not a price"),
        ('Design,,hour,"1,200",USD,,', "default_unit_price", "“1,200” is not a price"),
        ("Design,,hour,-0.01,USD,,", "default_unit_price", "The price cannot be negative."),
        ("Design,,hour,1.23456,USD,,", "default_unit_price", "more than 4 decimal places"),
        ("Design,,hour,1,XYZ,,", "currency", "“XYZ” is not an ISO 4217 currency code."),
        ("Design,,weekly,1,USD,,", "unit_type", "“weekly” is not a unit type"),
        ("Design,,hour,1,USD,Sales tax,", "default_tax_1", "no tax rate named “Sales tax”"),
    ],
)
def test_a_bad_value_is_reported_with_its_row_column_and_problem(
    agency: Agency, row: str, column: str, message: str
) -> None:
    [error] = import_errors(agency, HEADER, "Fine,,hour,1,USD,,", row)

    assert (error.row, error.column) == (3, column)
    assert message in error.message
    assert not Service.objects.exists()


def test_every_bad_row_is_reported_in_one_go(agency: Agency) -> None:
    errors = import_errors(agency, HEADER, "A,,hour,x,USD,,", "B,,hour,1,USD,,", "C,,day,1,ZZZ,,")

    assert [(error.row, error.column) for error in errors] == [
        (2, "default_unit_price"),
        (4, "currency"),
    ]


def test_a_name_already_in_the_catalog_or_twice_in_the_file_is_refused(agency: Agency) -> None:
    ServiceFactory(agency=agency, name="Design")

    errors = import_errors(
        agency, HEADER, "design,,hour,1,USD,,", "Hosting,,hour,1,USD,,", "HOSTING,,hour,1,USD,,"
    )

    assert errors == [
        RowError(2, "name", "A service named “design” already exists."),
        RowError(4, "name", "“HOSTING” is also on row 3; names must be unique."),
    ]
    assert Service.objects.filter(agency=agency).count() == 1


def test_the_default_tax_rules_of_the_service_form_apply_to_imports(agency: Agency) -> None:
    TaxRateFactory(agency=agency, name="QST", is_compound=True)
    TaxRateFactory(agency=agency, name="Old", archived_at=clock.now())

    errors = import_errors(agency, HEADER, "A,,hour,1,USD,QST,", "B,,hour,1,USD,Old,")

    assert errors == [
        RowError(2, "default_tax_1", "A compound tax can only be the second tax."),
        RowError(3, "default_tax_1", "The tax rate “Old” is archived."),
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file is empty."),
        (HEADER.encode(), "The file has a header row but no data rows."),
        (f"{HEADER}\nCaf\xe9,,hour,1,EUR,,".encode("latin-1"), "The file is not UTF-8 text"),
        (b"name,default_unit_price\n" + b"x" * (5 * 1024 * 1024), "larger than 5 MB"),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_with_a_clear_message(
    agency: Agency, content: bytes, message: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        services_import_csv(agency=agency, actor=None, file=io.BytesIO(content))

    assert message in refused.value.message_dict["file"][0]
    assert not Service.objects.exists()


def test_a_row_with_more_values_than_columns_is_reported(agency: Agency) -> None:
    [error] = import_errors(agency, "name,default_unit_price", "Design,1,200")

    assert (error.row, error.column) == (2, "")
    assert "3 values but the header has 2 columns" in error.message


def test_the_import_page_shows_the_expected_header_and_offers_a_template(
    agency: Agency, owner_client: HttpClient
) -> None:
    page = owner_client.get(reverse("catalog:service_import")).content.decode()
    template = owner_client.get(reverse("catalog:service_import_template"))

    assert ",<wbr>".join(HEADER.split(",")) in page
    assert reverse("catalog:service_import_template") in page
    assert template["Content-Disposition"] == 'attachment; filename="services-template.csv"'
    assert template.content.decode().splitlines()[0] == HEADER


def test_the_template_imports_as_it_is(agency: Agency, owner_client: HttpClient) -> None:
    template = owner_client.get(reverse("catalog:service_import_template")).content

    result = services_import_csv(agency=agency, actor=None, file=io.BytesIO(template))

    assert result.created == {"service": 2}


@pytest.mark.parametrize("role", ["viewer", "sales"])
def test_only_roles_allowed_to_import_can_import_services(
    request: pytest.FixtureRequest, login: Login, role: str
) -> None:
    http = login(request.getfixturevalue(role))

    assert http.get(reverse("catalog:service_import")).status_code == 403
    response = http.post(
        reverse("catalog:service_import"), {"file": upload(HEADER, "Design,,hour,1,USD,,")}
    )
    assert response.status_code == 403
    assert not Service.objects.exists()


def test_finance_can_import_services(finance: Membership, login: Login) -> None:
    response = login(finance).post(
        reverse("catalog:service_import"), {"file": upload(HEADER, "Design,,hour,1,USD,,")}
    )

    assert response.status_code == 302
    assert Service.objects.filter(agency=finance.agency).count() == 1


def test_a_nul_byte_in_a_cell_is_reported_and_nothing_is_imported(
    agency: Agency, owner_client: HttpClient
) -> None:
    response = owner_client.post(
        reverse("catalog:service_import"),
        {"file": upload(HEADER, "Design,UX,hour,120,USD,,", "Dev\x00,Code,hour,100,USD,,")},
    )

    assert response.status_code == 200
    assert response.context["report"].row_errors == [
        RowError(3, "name", "Remove the NUL character U+0000: text cannot contain it.")
    ]
    assert not Service.objects.exists()


def test_a_service_description_may_span_lines_but_hold_no_other_control_character(
    agency: Agency,
) -> None:
    errors = import_errors(
        agency, HEADER, 'Design,"UX\nand UI",hour,120,USD,,', "Dev,Co\x0bde,hour,100,USD,,"
    )

    assert errors == [
        RowError(3, "description", "Remove the control character U+000B: text cannot contain it.")
    ]
