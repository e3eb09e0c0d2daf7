"""`rows_update`: many rows, each saved with its own values, in one statement per batch."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clientledger.accounts.models import Agency
from clientledger.core.bulk import rows_update
from clientledger.crm.models import Client
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db


def test_each_row_gets_its_own_values_and_nothing_else_changes(agency: Agency) -> None:
    clients = [ClientFactory.create(agency=agency, name=f"Client {n}") for n in range(3)]
    untouched = ClientFactory.create(agency=agency, name="Untouched", payment_terms_days=7)
    for number, client in enumerate(clients):
        client.name = f"Renamed {number}"
        client.payment_terms_days = 10 + number
        client.city = "not saved"
    with CaptureQueriesContext(connection) as queries:
        rows_update(clients, ["name", "payment_terms_days"])
    assert len(queries) == 1
    stored = Client.objects.filter(pk__in=[c.pk for c in clients]).order_by("pk")
    assert [(c.name, c.payment_terms_days, c.city) for c in stored] == [
        ("Renamed 0", 10, ""),
        ("Renamed 1", 11, ""),
        ("Renamed 2", 12, ""),
    ]
    untouched.refresh_from_db()
    assert (untouched.name, untouched.payment_terms_days) == ("Untouched", 7)


def test_a_null_is_saved_as_a_null(agency: Agency) -> None:
    client = ClientFactory.create(agency=agency, payment_terms_days=30)
    client.payment_terms_days = None
    rows_update([client], ["payment_terms_days"])
    client.refresh_from_db()
    assert client.payment_terms_days is None
