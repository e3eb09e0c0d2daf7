from __future__ import annotations

import pytest

from clientledger.core.pagination import InvalidCursor, keyset_page
from clientledger.crm.models import Client
from tests.factories import AgencyFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def clients() -> list[Client]:
    agency = AgencyFactory()
    # Duplicate names prove the id tie-breaker keeps pages disjoint.
    names = ["Acme", "Acme", "Beta", "Gamma", "Gamma", "Delta", "Omega"]
    return Client.objects.bulk_create(
        Client(agency=agency, name=name, currency="USD") for name in names
    )


def walk_forward(per_page: int) -> list[list[int]]:
    pages, cursor = [], None
    while True:
        page = keyset_page(
            Client.objects.all(), ordering=("name", "id"), after=cursor, per_page=per_page
        )
        pages.append([c.pk for c in page])
        if page.next_cursor is None:
            return pages
        cursor = page.next_cursor


def test_walking_forward_visits_every_row_once_in_order(clients: list[Client]) -> None:
    expected = [c.pk for c in sorted(clients, key=lambda c: (c.name, c.pk))]
    pages = walk_forward(per_page=2)
    assert [pk for page in pages for pk in page] == expected
    assert [len(page) for page in pages] == [2, 2, 2, 1]


def test_previous_returns_the_page_before(clients: list[Client]) -> None:
    first = keyset_page(Client.objects.all(), ordering=("name", "id"), per_page=3)
    second = keyset_page(
        Client.objects.all(), ordering=("name", "id"), after=first.next_cursor, per_page=3
    )
    back = keyset_page(
        Client.objects.all(), ordering=("name", "id"), before=second.previous_cursor, per_page=3
    )
    assert [c.pk for c in back] == [c.pk for c in first]
    assert first.previous_cursor is None
    assert back.previous_cursor is None and back.next_cursor is not None


def test_descending_orderings_page_correctly(clients: list[Client]) -> None:
    first = keyset_page(Client.objects.all(), ordering=("-name", "-id"), per_page=4)
    rest = keyset_page(
        Client.objects.all(), ordering=("-name", "-id"), after=first.next_cursor, per_page=4
    )
    names = [c.name for c in first] + [c.name for c in rest]
    assert names == sorted((c.name for c in clients), reverse=True)


@pytest.mark.parametrize("cursor", ["not-base64!", "bnVsbA", "WzFd"])
def test_a_tampered_cursor_is_rejected(clients: list[Client], cursor: str) -> None:
    with pytest.raises(InvalidCursor):
        keyset_page(Client.objects.all(), ordering=("name", "id"), after=cursor)
