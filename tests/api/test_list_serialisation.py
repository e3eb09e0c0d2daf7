"""A list page's items are validated once, when the handler builds them: django-ninja then
only serialises the page (issue 14: validating every row again cost most of a page's CPU)."""

from __future__ import annotations

from typing import Any

import pytest
from ninja import Schema, operation

from clientledger.accounts.models import Membership
from clientledger.api.pagination import PageParams, paginate
from clientledger.crm.models import Client
from tests.api.conftest import ApiClient
from tests.factories import ClientFactory, ContactFactory

pytestmark = pytest.mark.django_db

LISTS = [
    "/clients",
    "/deals",
    "/services",
    "/tax-rates",
    "/estimates",
    "/invoices",
    "/credit-notes",
    "/payments",
    "/schedules",
]


class RevalidatedAnswer(AssertionError):
    pass


class _Refused:
    """django-ninja wraps an answer in a ResponseObject only to validate it again."""

    def __init__(self, answer: Any) -> None:
        raise RevalidatedAnswer(f"the answer was validated again: {answer!r:.200}")


@pytest.mark.parametrize("path", LISTS)
def test_a_list_page_is_serialised_without_validating_its_items_again(
    owner: Membership, owner_api: ApiClient, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    client = ClientFactory(agency=owner.agency, currency="USD")
    ContactFactory(agency=owner.agency, client=client)
    monkeypatch.setattr(operation, "ResponseObject", _Refused)

    response = owner_api.get(path)

    assert response.status_code == 200, response.content
    assert set(response.json()) == {"items", "next_cursor", "previous_cursor"}


def test_a_client_contact_page_is_serialised_without_validating_it_again(
    owner: Membership, owner_api: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = ClientFactory(agency=owner.agency, currency="USD")
    ContactFactory(agency=owner.agency, client=client, name="Ann")
    monkeypatch.setattr(operation, "ResponseObject", _Refused)

    response = owner_api.get(f"/clients/{client.pk}/contacts")

    assert [contact["name"] for contact in response.json()["items"]] == ["Ann"]


class NameOut(Schema):
    name: str


def test_a_page_of_items_other_than_the_declared_schema_is_refused(owner: Membership) -> None:
    ClientFactory(agency=owner.agency, currency="USD")

    with pytest.raises(TypeError, match="render\\(\\) made a dict, not a NameOut"):
        paginate(
            Client.objects.filter(agency=owner.agency),
            ordering=("name", "id"),
            params=PageParams(limit=50, after=None, before=None),
            item=NameOut,
            render=lambda page: [{"name": client.name} for client in page],  # type: ignore[misc]
        )
