"""Who may see and change what: roles, and other agencies' records answering 404."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from clientledger.accounts.models import Membership
from clientledger.crm.models import Client, Contact, Deal

Login = Callable[[Membership], HttpClient]


@pytest.fixture
def object_urls(acme: Client, acme_contact: Contact, deal: Deal) -> dict[str, str]:
    """Every URL of the app that names a record, keyed by URL name."""
    return {
        "client_detail": reverse("crm:client_detail", args=[acme.pk]),
        "client_edit": reverse("crm:client_edit", args=[acme.pk]),
        "client_delete": reverse("crm:client_delete", args=[acme.pk]),
        "contact_create": reverse("crm:contact_create", args=[acme.pk]),
        "contact_edit": reverse("crm:contact_edit", args=[acme_contact.pk]),
        "contact_delete": reverse("crm:contact_delete", args=[acme_contact.pk]),
        "deal_detail": reverse("crm:deal_detail", args=[deal.pk]),
        "deal_edit": reverse("crm:deal_edit", args=[deal.pk]),
        "deal_delete": reverse("crm:deal_delete", args=[deal.pk]),
        "deal_move": reverse("crm:deal_move", args=[deal.pk]),
        "deal_lines": reverse("crm:deal_lines", args=[deal.pk]),
        "deal_lines_totals": reverse("crm:deal_lines_totals", args=[deal.pk]),
    }


POST_ONLY = {"deal_move", "deal_lines_totals"}
GET_ONLY = {"client_detail", "deal_detail"}
CHANGES = [
    "client_edit",
    "client_delete",
    "contact_create",
    "contact_edit",
    "contact_delete",
    "deal_edit",
    "deal_delete",
    "deal_move",
    "deal_lines",
    "deal_lines_totals",
]


def test_a_viewer_sees_every_page(
    viewer: Membership, login: Login, object_urls: dict[str, str], deal_line: object
) -> None:
    http = login(viewer)
    pages = [
        reverse("crm:client_list"),
        reverse("crm:deal_list"),
        reverse("crm:pipeline"),
        object_urls["client_detail"],
        object_urls["deal_detail"],
    ]
    for url in pages:
        response = http.get(url)
        assert response.status_code == 200, url
        assert b"Acme Corp" in response.content, url


def test_an_anonymous_visitor_is_sent_to_the_login_page(object_urls: dict[str, str]) -> None:
    response = HttpClient().get(object_urls["client_detail"])
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.parametrize("name", ["client_create", "deal_create"])
def test_a_viewer_cannot_open_a_create_form(viewer: Membership, login: Login, name: str) -> None:
    assert login(viewer).get(reverse(f"crm:{name}")).status_code == 403


@pytest.mark.parametrize("name", CHANGES)
def test_a_viewer_cannot_change_anything(
    viewer: Membership, login: Login, object_urls: dict[str, str], name: str
) -> None:
    http = login(viewer)
    assert http.post(object_urls[name], {"stage": "won", "name": "X"}).status_code == 403
    if name not in POST_ONLY:
        assert http.get(object_urls[name]).status_code == 403


def test_a_viewer_posting_a_new_client_creates_nothing(viewer: Membership, login: Login) -> None:
    response = login(viewer).post(
        reverse("crm:client_create"), {"name": "Sneaky", "currency": "USD"}
    )
    assert response.status_code == 403
    assert not Client.objects.filter(name="Sneaky").exists()


@pytest.mark.parametrize("name", ["client_delete", "contact_delete", "deal_delete"])
def test_sales_cannot_delete(
    sales: Membership, login: Login, object_urls: dict[str, str], name: str
) -> None:
    assert login(sales).post(object_urls[name]).status_code == 403


@pytest.mark.parametrize("name", sorted(set(CHANGES) | {"client_detail", "deal_detail"}))
def test_another_agencys_records_are_not_found(
    outsider: Membership, login: Login, object_urls: dict[str, str], name: str
) -> None:
    http = login(outsider)
    if name not in GET_ONLY:
        assert http.post(object_urls[name], {"stage": "won"}).status_code == 404
    if name not in POST_ONLY:
        assert http.get(object_urls[name]).status_code == 404


def test_an_outsider_cannot_preselect_another_agencys_client(
    outsider: Membership, login: Login, acme: Client
) -> None:
    response = login(outsider).get(reverse("crm:deal_create"), {"client": acme.pk})
    assert response.status_code == 200
    assert b"Acme Corp" not in response.content


def test_an_outsider_cannot_attach_a_deal_to_another_agencys_client(
    outsider: Membership, login: Login, acme: Client
) -> None:
    response = login(outsider).post(
        reverse("crm:deal_create"), {"title": "Poach", "client": acme.pk, "stage": "lead"}
    )
    assert response.status_code == 200
    assert "Choose a client of your agency." in response.content.decode()
    assert not Deal.objects.filter(title="Poach").exists()


@pytest.mark.parametrize("name", ["client_create", "deal_create"])
def test_the_owner_sees_the_create_forms(owner_client: HttpClient, name: str) -> None:
    assert owner_client.get(reverse(f"crm:{name}")).status_code == 200


@pytest.mark.parametrize("name", ["client_edit", "contact_create", "contact_edit", "deal_edit"])
def test_the_owner_sees_the_edit_forms(
    owner_client: HttpClient, object_urls: dict[str, str], name: str
) -> None:
    assert owner_client.get(object_urls[name]).status_code == 200
