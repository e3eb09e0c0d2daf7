"""Clients and contacts through the API: CRUD, filters, pagination and input errors."""

from __future__ import annotations

import pytest

from clientledger.accounts.models import Agency
from clientledger.core.models import AuditEvent
from clientledger.crm.models import Client, Contact
from tests.api.conftest import ApiClient, errors
from tests.factories import ClientFactory, ContactFactory, DealFactory

pytestmark = pytest.mark.django_db


def test_creating_a_client_with_only_a_name_uses_the_agency_currency(
    owner_api: ApiClient, agency: Agency
) -> None:
    agency.default_currency = "EUR"
    agency.save()

    response = owner_api.post("/clients", {"name": "  Acme GmbH  "})

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["name"] == "Acme GmbH"
    assert body["currency"] == "EUR"
    assert body["balance"] == "0.00"
    assert body["payment_terms_days"] is None
    client = Client.objects.get(pk=body["id"], agency=agency)
    assert AuditEvent.objects.filter(verb="client.created", subject_id=client.pk).exists()


def test_a_client_is_created_with_every_field(owner_api: ApiClient) -> None:
    payload = {
        "name": "Globex",
        "billing_email": "ap@globex.example",
        "address_line1": "1 Main St",
        "address_line2": "Floor 2",
        "city": "Springfield",
        "postal_code": "12345",
        "region": "OR",
        "country": "USA",
        "currency": "jpy",
        "tax_id": "US-1",
        "tax_exempt": True,
        "payment_terms_days": 14,
        "notes": "Prefers email.",
    }

    body = owner_api.post("/clients", payload).json()

    assert body | {"currency": "jpy"} == body | payload
    assert body["currency"] == "JPY"
    assert body["balance"] == "0"


def test_a_client_is_read_updated_and_deleted(owner_api: ApiClient, agency: Agency) -> None:
    client = ClientFactory(agency=agency, name="Old name", payment_terms_days=30)

    assert owner_api.get(f"/clients/{client.pk}").json()["name"] == "Old name"

    patched = owner_api.patch(
        f"/clients/{client.pk}", {"name": "New name", "payment_terms_days": None}
    )
    assert patched.status_code == 200, patched.content
    assert patched.json()["name"] == "New name"
    assert patched.json()["payment_terms_days"] is None
    assert patched.json()["billing_email"] == client.billing_email

    assert owner_api.delete(f"/clients/{client.pk}").status_code == 204
    assert not Client.objects.filter(pk=client.pk).exists()
    assert owner_api.get(f"/clients/{client.pk}").status_code == 404


def test_a_client_with_deals_cannot_be_deleted(owner_api: ApiClient, agency: Agency) -> None:
    deal = DealFactory(client__agency=agency)

    response = owner_api.delete(f"/clients/{deal.client_id}")

    assert "cannot be deleted" in errors(response)["__all__"]
    assert Client.objects.filter(pk=deal.client_id).exists()


def test_a_patch_cannot_blank_or_null_a_required_field(
    owner_api: ApiClient, agency: Agency
) -> None:
    client = ClientFactory(agency=agency, name="Keep me")

    assert "blank" in errors(owner_api.patch(f"/clients/{client.pk}", {"name": "  "}))["name"]
    assert errors(owner_api.patch(f"/clients/{client.pk}", {"name": None}))["name"]
    client.refresh_from_db()
    assert client.name == "Keep me"


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({"name": ""}, "name", "cannot be blank"),
        ({}, "name", "Field required"),
        ({"name": "A", "billing_email": "not-an-email"}, "billing_email", "valid email"),
        ({"name": "A", "currency": "XYZ"}, "currency", "ISO 4217"),
        ({"name": "A", "currency": "XTS"}, "currency", "not legal tender anywhere today"),
        ({"name": "A", "currency": "VEF"}, "currency", "not legal tender anywhere today"),
        ({"name": "A", "payment_terms_days": 400}, "payment_terms_days", "365"),
        ({"name": "x" * 201}, "name", "at most 200 characters"),
        ({"name": "A\x00"}, "name", "NUL"),
        ({"name": "A", "colour": "red"}, "colour", "Extra inputs are not permitted"),
    ],
)
def test_bad_client_input_is_refused_naming_the_field(
    owner_api: ApiClient, payload: dict[str, object], field: str, message: str
) -> None:
    response = owner_api.post("/clients", payload)

    assert message in errors(response)[field]
    assert not Client.objects.exists()


def test_clients_are_searched_and_filtered_by_currency(
    owner_api: ApiClient, agency: Agency
) -> None:
    acme = ClientFactory(agency=agency, name="Acme", currency="USD")
    ClientFactory(agency=agency, name="Acme Europe", currency="EUR")
    ClientFactory(agency=agency, name="Other", currency="USD")
    ContactFactory(
        client__agency=agency, client__name="Hidden", client__currency="GBP", name="Wile Acme"
    )

    names = [c["name"] for c in owner_api.get("/clients", q="acme").json()["items"]]
    assert names == ["Acme", "Acme Europe", "Hidden"]

    in_usd = owner_api.get("/clients", q="acme", currency="usd").json()["items"]
    assert [c["id"] for c in in_usd] == [acme.pk]


def test_client_pages_are_walked_forwards_and_backwards_with_cursors(
    owner_api: ApiClient, agency: Agency
) -> None:
    for letter in "ABCDE":
        ClientFactory(agency=agency, name=f"{letter} client")

    first = owner_api.get("/clients", limit=2).json()
    second = owner_api.get("/clients", limit=2, after=first["next_cursor"]).json()
    last = owner_api.get("/clients", limit=2, after=second["next_cursor"]).json()
    back = owner_api.get("/clients", limit=2, before=second["previous_cursor"]).json()

    def names(page: dict[str, list[dict[str, str]]]) -> list[str]:
        return [c["name"][0] for c in page["items"]]

    assert (names(first), names(second), names(last)) == (["A", "B"], ["C", "D"], ["E"])
    assert first["previous_cursor"] is None
    assert last["next_cursor"] is None
    assert names(back) == ["A", "B"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 201}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"after": "forged"}, "after"),
        ({"before": "eyJhIjoxfQ:forged"}, "before"),
        ({"after": "a", "before": "b"}, "before"),
    ],
)
def test_bad_page_parameters_are_refused(
    owner_api: ApiClient, query: dict[str, object], field: str
) -> None:
    assert field in errors(owner_api.get("/clients", **query))


def test_a_cursor_of_another_list_is_refused(owner_api: ApiClient, agency: Agency) -> None:
    for name in ("A", "B"):
        ContactFactory(client__agency=agency, client__name=name)
        DealFactory(client__agency=agency)
    deal_cursor = owner_api.get("/deals", limit=1).json()["next_cursor"]

    assert "after" in errors(owner_api.get("/clients", after=deal_cursor))


def test_a_client_contacts_are_created_listed_updated_and_deleted(
    owner_api: ApiClient, agency: Agency
) -> None:
    client = ClientFactory(agency=agency)
    ContactFactory(client__agency=agency, name="Someone else's contact")
    path = f"/clients/{client.pk}/contacts"

    created = owner_api.post(path, {"name": "Ann", "email": "ann@x.example", "phone": "+1 5"})
    assert created.status_code == 201, created.content
    ann = created.json()
    billing = owner_api.post(path, {"name": "Bob", "is_billing_contact": True}).json()

    listed = owner_api.get(path).json()["items"]
    assert [c["name"] for c in listed] == ["Bob", "Ann"]

    moved = owner_api.patch(f"{path}/{ann['id']}", {"is_billing_contact": True, "job_title": "CFO"})
    assert moved.json()["is_billing_contact"] is True
    assert moved.json()["job_title"] == "CFO"
    assert owner_api.get(f"{path}/{billing['id']}").json()["is_billing_contact"] is False

    assert owner_api.delete(f"{path}/{ann['id']}").status_code == 204
    assert list(Contact.objects.filter(client=client).values_list("name", flat=True)) == ["Bob"]


def test_a_contact_is_only_found_under_its_own_client(owner_api: ApiClient, agency: Agency) -> None:
    contact = ContactFactory(client__agency=agency)
    other_client = ClientFactory(agency=agency)

    assert owner_api.get(f"/clients/{other_client.pk}/contacts/{contact.pk}").status_code == 404


def test_a_contact_needs_a_name_and_a_valid_email(owner_api: ApiClient, agency: Agency) -> None:
    client = ClientFactory(agency=agency)

    response = owner_api.post(f"/clients/{client.pk}/contacts", {"name": " ", "email": "nope"})

    assert set(errors(response)) == {"name", "email"}
