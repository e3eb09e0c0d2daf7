from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from clientledger.core.models import AuditEvent
from clientledger.crm.models import Client
from clientledger.crm.services import client_delete, client_update
from tests.factories import ClientFactory, DealFactory, DealLineFactory

pytestmark = pytest.mark.django_db


def test_a_client_with_priced_deals_keeps_its_currency() -> None:
    line = DealLineFactory(deal__client__currency="USD")
    client = line.deal.client
    with pytest.raises(ValidationError, match="currency cannot change"):
        client_update(client=client, actor=None, currency="EUR")
    assert Client.objects.get(pk=client.pk).currency == "USD"


def test_a_client_without_prices_may_change_currency() -> None:
    client = ClientFactory(currency="USD")
    DealFactory(client=client, agency=client.agency)
    client_update(client=client, actor=None, currency="EUR")
    assert Client.objects.get(pk=client.pk).currency == "EUR"


def test_a_client_with_deals_cannot_be_deleted_and_nothing_is_audited() -> None:
    deal = DealFactory()
    with pytest.raises(ValidationError, match="cannot be deleted"):
        client_delete(client=deal.client, actor=None)
    assert Client.objects.filter(pk=deal.client.pk).exists()
    assert not AuditEvent.objects.filter(verb="client.deleted").exists()


def test_deleting_a_client_is_audited() -> None:
    client = ClientFactory()
    client_delete(client=client, actor=None)
    assert not Client.objects.filter(pk=client.pk).exists()
    assert AuditEvent.objects.filter(verb="client.deleted", data__name=client.name).exists()
