"""Client and contact pages: list, form validation, detail page, deletion."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from clientledger.accounts.models import Agency, Membership
from clientledger.core.models import AuditEvent
from clientledger.crm.models import Client, Contact, Deal
from tests.factories import ClientFactory, ContactFactory

Login = Callable[[Membership], HttpClient]

VALID_CLIENT = {
    "name": "Globex Corporation",
    "billing_email": "accounts@globex.example",
    "address_line1": "1 Main Street",
    "city": "Springfield",
    "postal_code": "12345",
    "country": "United States",
    "currency": "EUR",
    "tax_id": "US-123",
    "payment_terms_days": "14",
    "notes": "Prefers email.",
}


def test_sales_creates_a_client_and_lands_on_its_page(sales: Membership, login: Login) -> None:
    response = login(sales).post(reverse("crm:client_create"), VALID_CLIENT, follow=True)
    client = Client.objects.get(name="Globex Corporation")
    assert client.currency == "EUR"
    assert client.payment_terms_days == 14
    assert response.redirect_chain[-1][0] == reverse("crm:client_detail", args=[client.pk])
    page = response.content.decode()
    assert "Client “Globex Corporation” created." in page
    assert "created client “Globex Corporation”" in page
    assert AuditEvent.objects.filter(verb="client.created", subject_id=client.pk).exists()


def test_the_new_client_form_proposes_the_agency_currency(
    owner_client: HttpClient, agency: Agency
) -> None:
    agency.default_currency = "GBP"
    agency.save()
    page = owner_client.get(reverse("crm:client_create")).content.decode()
    assert '<option value="GBP" selected>GBP — British Pound</option>' in page


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "", "Enter the company name."),
        ("name", "   ", "Enter the company name."),
        ("billing_email", "not-an-email", "Enter a valid billing email address"),
        ("currency", "ZZZ", "Choose a currency from the list"),
        ("currency", "XXX", "Choose a currency from the list"),
        ("currency", "BYR", "Choose a currency from the list"),
        ("payment_terms_days", "-5", "Payment terms cannot be negative."),
        ("payment_terms_days", "400", "Payment terms can be at most 365 days."),
        ("payment_terms_days", "ten", "Enter the payment terms as a whole number of days."),
        ("name", "Acme\r\nBcc: everyone@example.com", "Enter this on one line"),
        ("name", "Acme\x1b[31m", "Remove the control character U+001B"),
        ("city", "Spring\tfield", "Remove the tab character"),
        ("tax_id", "US\x00123", "Null characters are not allowed."),
        ("notes", "Prefers\x07 email.", "Remove the control character U+0007"),
        ("notes", "Prefers\u0085email.", "Remove the control character U+0085"),
        ("notes", "\ufdd0", "Remove the invalid character U+FDD0"),
    ],
)
def test_an_invalid_client_shows_the_error_inline_and_saves_nothing(
    owner_client: HttpClient, field: str, value: str, message: str
) -> None:
    response = owner_client.post(reverse("crm:client_create"), {**VALID_CLIENT, field: value})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert 'class="invalid-feedback d-block"' in response.content.decode()
    assert not Client.objects.exists()
    assert not AuditEvent.objects.exists()


def test_editing_a_client_records_the_changed_fields_on_its_timeline(
    owner_client: HttpClient, acme: Client
) -> None:
    data = {**VALID_CLIENT, "name": "Acme Inc", "currency": "USD"}
    response = owner_client.post(reverse("crm:client_edit", args=[acme.pk]), data, follow=True)
    acme.refresh_from_db()
    assert acme.name == "Acme Inc"
    page = response.content.decode()
    assert "updated client “Acme Inc”" in page
    assert "Company name" in page and "Acme Corp" in page


def test_an_invalid_edit_leaves_the_client_unchanged(
    owner_client: HttpClient, acme: Client
) -> None:
    data = {**VALID_CLIENT, "name": "", "currency": "USD"}
    response = owner_client.post(reverse("crm:client_edit", args=[acme.pk]), data)
    assert "Enter the company name." in response.content.decode()
    acme.refresh_from_db()
    assert acme.name == "Acme Corp"
    assert not AuditEvent.objects.exists()


def test_the_client_list_searches_by_contact_and_filters_by_currency(
    viewer: Membership, login: Login, agency: Agency
) -> None:
    found = ClientFactory(agency=agency, name="Initech", currency="EUR")
    ContactFactory(client=found, name="Peter Gibbons")
    ClientFactory(agency=agency, name="Hooli", currency="USD")
    http = login(viewer)
    by_contact = http.get(reverse("crm:client_list"), {"q": "gibbons"}).content.decode()
    assert "Initech" in by_contact and "Hooli" not in by_contact
    by_currency = http.get(reverse("crm:client_list"), {"currency": "USD"}).content.decode()
    assert "Hooli" in by_currency and "Initech" not in by_currency


def test_the_client_list_pages_with_a_cursor(owner_client: HttpClient, agency: Agency) -> None:
    Client.objects.bulk_create(
        Client(agency=agency, name=f"Client {index:02d}", currency="USD") for index in range(30)
    )
    first = owner_client.get(reverse("crm:client_list"))
    assert "Client 24" in first.content.decode() and "Client 25" not in first.content.decode()
    second = owner_client.get(
        reverse("crm:client_list"), {"after": first.context["page"].next_cursor}
    )
    assert "Client 25" in second.content.decode() and "Client 24" not in second.content.decode()


def test_a_tampered_cursor_starts_the_list_over(owner_client: HttpClient) -> None:
    response = owner_client.get(reverse("crm:client_list"), {"after": "garbage", "q": "a"})
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('crm:client_list')}?q=a"


def test_an_empty_client_list_invites_to_add_a_client(owner_client: HttpClient) -> None:
    page = owner_client.get(reverse("crm:client_list")).content.decode()
    assert "No clients yet" in page
    assert reverse("crm:client_create") in page


def test_a_viewer_is_not_offered_buttons_they_cannot_use(
    viewer: Membership, login: Login, acme: Client
) -> None:
    page = login(viewer).get(reverse("crm:client_detail", args=[acme.pk])).content.decode()
    assert reverse("crm:client_edit", args=[acme.pk]) not in page
    assert reverse("crm:client_delete", args=[acme.pk]) not in page


def test_the_client_page_shows_balance_contacts_and_an_empty_documents_section(
    viewer: Membership, login: Login, acme: Client, acme_contact: Contact
) -> None:
    acme_contact.is_billing_contact = True
    acme_contact.save()
    page = login(viewer).get(reverse("crm:client_detail", args=[acme.pk])).content.decode()
    assert "Outstanding balance" in page and "$0.00" in page
    assert "Jane Buyer" in page and "Billing contact" in page
    assert "No estimates or invoices yet" in page


def test_a_client_with_deals_cannot_be_deleted(
    owner_client: HttpClient, acme: Client, deal: Deal
) -> None:
    response = owner_client.post(reverse("crm:client_delete", args=[acme.pk]), follow=True)
    assert "cannot be deleted" in response.content.decode()
    assert Client.objects.filter(pk=acme.pk).exists()


def test_the_owner_deletes_a_client_after_confirming(
    owner_client: HttpClient, acme: Client
) -> None:
    confirm = owner_client.get(reverse("crm:client_delete", args=[acme.pk]))
    assert "Delete the client “Acme Corp”?" in confirm.content.decode()
    response = owner_client.post(reverse("crm:client_delete", args=[acme.pk]))
    assert response["Location"] == reverse("crm:client_list")
    assert not Client.objects.filter(pk=acme.pk).exists()
    assert AuditEvent.objects.filter(verb="client.deleted").exists()


def test_adding_a_billing_contact_replaces_the_previous_one(
    sales: Membership, login: Login, acme: Client, acme_contact: Contact
) -> None:
    acme_contact.is_billing_contact = True
    acme_contact.save()
    response = login(sales).post(
        reverse("crm:contact_create", args=[acme.pk]),
        {"name": "Sam Payer", "email": "sam@acme.example", "is_billing_contact": "on"},
    )
    assert response["Location"] == reverse("crm:client_detail", args=[acme.pk])
    assert list(acme.contacts.filter(is_billing_contact=True).values_list("name", flat=True)) == [
        "Sam Payer"
    ]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": ""}, "Enter the contact&#x27;s name."),
        ({"name": "Sam", "email": "sam@"}, "Enter a valid email address"),
    ],
)
def test_an_invalid_contact_is_not_saved(
    owner_client: HttpClient, acme: Client, data: dict[str, str], message: str
) -> None:
    response = owner_client.post(reverse("crm:contact_create", args=[acme.pk]), data)
    assert message in response.content.decode()
    assert not Contact.objects.exists()


def test_editing_and_deleting_a_contact(owner_client: HttpClient, acme_contact: Contact) -> None:
    owner_client.post(
        reverse("crm:contact_edit", args=[acme_contact.pk]),
        {"name": "Jane Doe", "email": "jane@acme.example", "job_title": "CFO"},
    )
    acme_contact.refresh_from_db()
    assert (acme_contact.name, acme_contact.job_title) == ("Jane Doe", "CFO")
    owner_client.post(reverse("crm:contact_delete", args=[acme_contact.pk]))
    assert not Contact.objects.filter(pk=acme_contact.pk).exists()


def test_client_notes_keep_line_breaks_and_tabs(owner_client: HttpClient) -> None:
    notes = "Prefers email.\r\nInvoices to:\tfinance"
    owner_client.post(reverse("crm:client_create"), {**VALID_CLIENT, "notes": notes})
    assert Client.objects.get().notes == notes
