"""Bad requests get a 4xx JSON answer naming the problem, never a 500."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from clientledger.accounts.models import Agency
from clientledger.catalog.models import TaxRate
from clientledger.crm.models import Client, Deal
from tests.api.conftest import API, ApiClient, errors
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db


def send_raw(api: ApiClient, path: str, body: str) -> tuple[int, Any]:
    response = api.http.post(API + path, body, content_type="application/json", headers=api.headers)
    return response.status_code, response.json()


def test_malformed_json_is_a_bad_request(owner_api: ApiClient) -> None:
    status, body = send_raw(owner_api, "/clients", '{"name": "Acme",')

    assert status == 400
    assert body == {"detail": "Cannot parse request body"}


@pytest.mark.parametrize("body", ["[]", '"Acme"', "null", ""])
def test_a_body_that_is_not_an_object_is_refused(owner_api: ApiClient, body: str) -> None:
    status, answer = send_raw(owner_api, "/clients", body)

    assert status == 422
    assert answer == {"detail": [{"field": "__all__", "message": "Send a JSON object."}]}


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e3", "19.0"])
def test_json_numbers_with_a_fraction_are_refused_as_money(
    owner_api: ApiClient, literal: str
) -> None:
    status, answer = send_raw(owner_api, "/tax-rates", f'{{"name": "VAT", "percent": {literal}}}')

    assert status == 422
    assert answer["detail"][0]["field"] == "percent"
    assert "decimal string" in answer["detail"][0]["message"]
    assert not TaxRate.objects.exists()


def test_json_integers_and_decimal_strings_are_accepted_as_money(owner_api: ApiClient) -> None:
    status, answer = send_raw(owner_api, "/tax-rates", '{"name": "VAT", "percent": 19}')
    assert (status, answer["percent"]) == (201, "19")

    status, answer = send_raw(owner_api, "/tax-rates", '{"name": "GST", "percent": " 7.25 "}')
    assert (status, answer["percent"]) == (201, "7.25")


@pytest.mark.parametrize(
    "path",
    ["/clients/0", "/clients/abc", f"/clients/{2**63}", "/deals/-1", "/services/1.5"],
)
def test_an_id_that_cannot_exist_is_refused_as_input(owner_api: ApiClient, path: str) -> None:
    found = errors(owner_api.get(path))

    assert list(found) == [path.split("/")[1].rstrip("s") + "_id"]


def test_an_unknown_id_is_not_found(owner_api: ApiClient) -> None:
    response = owner_api.get(f"/clients/{2**63 - 1}")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": 5}, "name"),
        ({"name": ["Acme"]}, "name"),
        ({"name": "Acme", "tax_exempt": "maybe"}, "tax_exempt"),
        ({"name": "Acme", "payment_terms_days": "thirty"}, "payment_terms_days"),
        ({"name": "Acme", "currency": 840}, "currency"),
    ],
)
def test_wrong_json_types_are_refused_naming_the_field(
    owner_api: ApiClient, payload: dict[str, object], field: str
) -> None:
    assert field in errors(owner_api.post("/clients", payload))


def test_a_huge_reference_id_is_refused_before_reaching_the_database(
    owner_api: ApiClient, agency: Agency
) -> None:
    body = {"title": "X", "client_id": 2**70}

    assert "client_id" in errors(owner_api.post("/deals", body))


def test_errors_for_several_fields_come_together(owner_api: ApiClient, agency: Agency) -> None:
    client = ClientFactory(agency=agency)

    found = errors(
        owner_api.post(
            f"/clients/{client.pk}/contacts",
            {"name": "", "email": "@", "phone": "1" * 41, "is_billing_contact": "x"},
        )
    )

    assert set(found) == {"name", "email", "phone", "is_billing_contact"}


# Raw JSON: the escapes reach the server as written ("\ud800" is a lone surrogate).
@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ('{"name": "a\\ud800b"}', "name", "Remove the invalid character U+D800"),
        ('{"name": "Acme", "notes": "x\\udfff"}', "notes", "Remove the invalid character U+DFFF"),
        ('{"name": "Acme", "notes": "\\uffff"}', "notes", "Remove the invalid character U+FFFF"),
        ('{"name": "Acme\\u0000"}', "name", "Remove the NUL character U+0000"),
        ('{"name": "Acme\\r\\nBcc: x@example.com"}', "name", "Enter this on one line"),
        ('{"name": "Acme", "city": "New\\u2028York"}', "city", "Enter this on one line"),
        ('{"name": "Acme", "tax_id": "DE\\t123"}', "tax_id", "Remove the tab character"),
        (
            '{"name": "Acme", "notes": "bell\\u0007"}',
            "notes",
            "Remove the control character U+0007",
        ),
        ('{"name": "Acme", "notes": "old mac\\rline"}', "notes", "U+000D"),
        ('{"name": "Acme", "notes": "c1\\u0085c2"}', "notes", "U+0085"),
    ],
)
def test_control_characters_and_invalid_code_points_in_text_are_refused(
    owner_api: ApiClient, body: str, field: str, message: str
) -> None:
    status, answer = send_raw(owner_api, "/clients", body)

    assert status == 422
    [error] = answer["detail"]
    assert error["field"] == field
    assert message in error["message"]
    assert not Client.objects.exists()


def test_multiline_text_keeps_its_line_breaks_and_tabs(owner_api: ApiClient) -> None:
    status, answer = send_raw(
        owner_api, "/clients", '{"name": "Acme", "notes": "Call first.\\r\\nThen:\\tmail\\nOK"}'
    )

    assert status == 201
    assert answer["notes"] == "Call first.\r\nThen:\tmail\nOK"


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/tax-rates", '{"name": "V\\ud83dT", "percent": "19"}', "name"),
        (
            "/services",
            '{"name": "Design", "description": "\\udc00", "default_unit_price": "1"}',
            "description",
        ),
    ],
)
def test_a_lone_surrogate_in_any_text_field_is_refused_naming_it(
    owner_api: ApiClient, path: str, body: str, field: str
) -> None:
    status, answer = send_raw(owner_api, path, body)

    assert status == 422
    assert [error["field"] for error in answer["detail"]] == [field]


def test_a_lone_surrogate_in_a_key_is_refused_not_a_server_error(owner_api: ApiClient) -> None:
    status, _ = send_raw(owner_api, "/clients", '{"name": "Acme", "\\ud800": "x"}')

    assert status == 422
    assert not Client.objects.exists()


def test_a_lone_surrogate_in_a_line_description_names_the_line(
    owner_api: ApiClient, agency: Agency
) -> None:
    deal_client = ClientFactory(agency=agency)
    deal = owner_api.post("/deals", {"title": "Website", "client_id": deal_client.pk}).json()

    response = owner_api.http.put(
        f"{API}/deals/{deal['id']}/lines",
        '{"lines": [{"description": "Design \\ud800", "quantity": "1", "unit_price": "1"}]}',
        content_type="application/json",
        headers=owner_api.headers,
    )

    assert errors(response) == {
        "lines[0].description": "Remove the invalid character U+D800: it is not a Unicode "
        "character."
    }


# --- strict JSON types: nothing is coerced ---------------------------------------------


@pytest.mark.parametrize(
    ("value", "why"),
    [
        (0, "a number is no date (it became 1970-01-01)"),
        (1_767_225_600, "nor is a Unix timestamp"),
        ("1767225600", "nor a timestamp in a string"),
        ("2026-01-05T00:00:00", "a date-time is not a date"),
        ("20260105", "only the ISO form YYYY-MM-DD"),
        (True, "a boolean is no date"),
    ],
)
def test_a_date_is_only_an_iso_date_string(
    owner_api: ApiClient, agency: Agency, value: object, why: str
) -> None:
    client = ClientFactory(agency=agency)
    body = {"client_id": client.pk, "amount": "10.00", "method": "cash", "received_on": value}

    found = errors(owner_api.post("/payments", body))

    assert list(found) == ["received_on"], why
    assert "date" in found["received_on"].lower()


Payload = Callable[[int], dict[str, object]]


@pytest.mark.parametrize(
    ("path", "payload", "field"),
    [
        ("/clients", lambda _: {"name": "Acme", "payment_terms_days": False}, "payment_terms_days"),
        ("/clients", lambda _: {"name": "Acme", "payment_terms_days": True}, "payment_terms_days"),
        ("/clients", lambda _: {"name": "Acme", "payment_terms_days": 30.0}, "payment_terms_days"),
        ("/clients", lambda _: {"name": "Acme", "payment_terms_days": "30"}, "payment_terms_days"),
        ("/clients", lambda _: {"name": "Acme", "tax_exempt": 1}, "tax_exempt"),
        ("/clients", lambda _: {"name": "Acme", "tax_exempt": "true"}, "tax_exempt"),
        ("/clients", lambda _: {"name": "Acme", "billing_email": 5}, "billing_email"),
        ("/tax-rates", lambda _: {"name": 19, "percent": "19"}, "name"),
        (
            "/tax-rates",
            lambda _: {"name": "VAT", "percent": "9", "is_inclusive": 0},
            "is_inclusive",
        ),
        ("/deals", lambda client: {"title": "Site", "client_id": str(client)}, "client_id"),
        ("/deals", lambda client: {"title": "Site", "client_id": float(client)}, "client_id"),
        ("/deals", lambda client: {"title": "X", "client_id": client, "stage": 1}, "stage"),
        (
            "/deals",
            lambda client: {"title": "X", "client_id": client, "expected_close_date": 0},
            "expected_close_date",
        ),
        (
            "/services",
            lambda _: {"name": "Web", "default_unit_price": 1, "unit_type": 0},
            "unit_type",
        ),
        (
            "/services",
            lambda _: {"name": "Web", "default_unit_price": 1, "default_tax_rate_ids": ["1"]},
            "default_tax_rate_ids[0]",
        ),
    ],
)
def test_json_values_of_the_wrong_type_are_refused_not_converted(
    owner_api: ApiClient, agency: Agency, path: str, payload: Payload, field: str
) -> None:
    client = ClientFactory(agency=agency)

    assert list(errors(owner_api.post(path, payload(client.pk)))) == [field]
    assert not Deal.objects.exists()


def test_an_id_that_is_a_json_boolean_is_refused(owner_api: ApiClient, agency: Agency) -> None:
    ClientFactory(agency=agency, pk=1)

    found = errors(owner_api.post("/deals", {"title": "Site", "client_id": True}))

    assert found == {"client_id": "Input should be a valid integer"}


def test_a_contact_flag_must_be_a_json_boolean(owner_api: ApiClient, agency: Agency) -> None:
    client = ClientFactory(agency=agency)

    found = errors(
        owner_api.post(f"/clients/{client.pk}/contacts", {"name": "Ann", "is_billing_contact": 0})
    )

    assert list(found) == ["is_billing_contact"]
    assert found["is_billing_contact"] == "Input should be a valid boolean"


def test_iso_dates_and_choices_sent_as_strings_are_accepted(
    owner_api: ApiClient, agency: Agency
) -> None:
    client = ClientFactory(agency=agency)

    response = owner_api.post(
        "/deals",
        {
            "title": "Site",
            "client_id": client.pk,
            "stage": "proposal",
            "expected_close_date": "2026-03-31",
        },
    )

    assert response.status_code == 201, response.content
    assert (response.json()["stage"], response.json()["expected_close_date"]) == (
        "proposal",
        "2026-03-31",
    )


@pytest.mark.parametrize("value", ["0", "1767225600", "2026-01-05T00:00:00", "2026-02-30"])
def test_a_date_filter_is_only_an_iso_date(owner_api: ApiClient, value: str) -> None:
    assert list(errors(owner_api.get("/invoices", issued_from=value))) == ["issued_from"]
