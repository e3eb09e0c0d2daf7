"""Client pickers stay bounded whatever the number of clients: the options endpoint and every
page with a client select offer the chosen client and at most CLIENT_PICKER_LIMIT matches of
what was typed, only of the agency's clients, with or without JavaScript."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from clientledger.accounts.models import Agency, Membership
from clientledger.crm.models import Client
from clientledger.crm.selectors import CLIENT_PICKER_LIMIT
from tests.factories import AgencyFactory, ClientFactory

pytestmark = pytest.mark.django_db

Login = Callable[[Membership], HttpClient]
CLIENT_COUNT = CLIENT_PICKER_LIMIT + 15


@pytest.fixture
def many_clients(agency: Agency) -> list[Client]:
    return Client.objects.bulk_create(
        Client(agency=agency, name=f"Studio {index:03d}", currency="USD")
        for index in range(CLIENT_COUNT)
    )


def client_options(html: str) -> list[str]:
    """The client ids a page's client select offers (the empty option left out)."""
    select = re.search(r'<select name="client"[^>]*>(.*?)</select>', html, re.S)
    assert select is not None, "no client select"
    return re.findall(r'<option value="(\d+)"', select.group(1))


def test_the_options_endpoint_is_bounded_and_finds_what_was_typed(
    viewer: Membership, login: Login, many_clients: list[Client]
) -> None:
    http = login(viewer)
    url = reverse("crm:client_options")

    everyone = http.get(url, {"field": "client", "empty": "All clients"}).content.decode()
    typed = http.get(url, {"field": "client", "client_q": "STUDIO 03"}).content.decode()

    assert len(re.findall(r'<option value="\d+"', everyone)) == CLIENT_PICKER_LIMIT
    assert '<option value="">All clients</option>' in everyone
    assert re.findall(r">(Studio \d+) \(USD\)<", typed) == [
        f"Studio {n:03d}" for n in range(30, 35)
    ]


def test_the_options_keep_the_chosen_client_first(
    viewer: Membership, login: Login, many_clients: list[Client]
) -> None:
    chosen = many_clients[-1]
    html = (
        login(viewer)
        .get(reverse("crm:client_options"), {"client_q": "Studio 00", "client": str(chosen.pk)})
        .content.decode()
    )

    assert re.findall(r'<option value="(\d+)"', html)[0] == str(chosen.pk)
    assert f'<option value="{chosen.pk}" selected>' in html


def test_the_options_never_show_another_agencys_clients(
    viewer: Membership, login: Login, many_clients: list[Client]
) -> None:
    stranger = ClientFactory(agency=AgencyFactory(), name="Studio Elsewhere")
    html = (
        login(viewer)
        .get(reverse("crm:client_options"), {"client_q": "Elsewhere", "client": str(stranger.pk)})
        .content.decode()
    )

    assert "Elsewhere" not in html


def test_the_options_need_a_member(client: HttpClient) -> None:
    response = client.get(reverse("crm:client_options"), {"client_q": "a"})

    assert response.status_code in (302, 403)


@pytest.mark.parametrize(
    ("url", "method"),
    [
        ("/billing/invoices/", "get"),
        ("/billing/estimates/", "get"),
        ("/billing/credit-notes/", "get"),
        ("/recurring/new/", "get"),
        ("/payments/new/", "get"),
        # Forms that post: without JavaScript, sending the search narrows the select.
        ("/billing/invoices/new/", "post"),
        ("/billing/estimates/new/", "post"),
        ("/clients/deals/new/", "post"),
    ],
)
def test_every_client_select_is_bounded_and_narrowed_by_the_sent_search(
    owner_client: HttpClient, many_clients: list[Client], url: str, method: str
) -> None:
    plain = owner_client.get(url)
    searched = getattr(owner_client, method)(url, {"client_q": "studio 012"})

    assert plain.status_code == searched.status_code == 200
    assert len(client_options(plain.content.decode())) == CLIENT_PICKER_LIMIT
    assert client_options(searched.content.decode()) == [str(many_clients[12].pk)]


def test_a_form_accepts_a_client_its_select_did_not_list(
    owner_client: HttpClient, many_clients: list[Client]
) -> None:
    last = many_clients[-1]
    response = owner_client.post(
        reverse("crm:deal_create"), {"title": "Rebrand", "client": last.pk, "stage": "lead"}
    )

    assert response.status_code == 302
    assert last.deals.get().title == "Rebrand"
