from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from clientledger.billing.ledger import client_outstanding_balance, ledger_mismatches
from clientledger.billing.models import LedgerEntry, LedgerEntryKind
from clientledger.billing.services.ledger import ledger_append
from clientledger.core.money import MAX_BALANCE_MINOR
from clientledger.crm.models import Client
from tests.factories import AgencyFactory, ClientFactory

pytestmark = pytest.mark.django_db
WHEN = dt.datetime(2026, 11, 2, 9, 30, tzinfo=dt.UTC)


def append(
    client: Client,
    amount_minor: int,
    kind: str = LedgerEntryKind.INVOICE_ISSUED,
    currency: str | None = None,
) -> None:
    ledger_append(
        client=client,
        kind=kind,
        document=client,
        document_reference="INV-2026-00001",
        amount_minor=amount_minor,
        currency=currency or client.currency,
        occurred_at=WHEN,
    )


def test_a_client_without_entries_owes_nothing() -> None:
    client = ClientFactory()
    assert client_outstanding_balance(agency=client.agency, client=client) == Decimal("0.00")


def test_the_balance_is_the_sum_of_signed_entries_in_the_currency_digits() -> None:
    client = ClientFactory(currency="USD")
    append(client, 119_000)
    append(client, -50_050, kind=LedgerEntryKind.PAYMENT_SUCCEEDED)
    assert client_outstanding_balance(agency=client.agency, client=client) == Decimal("689.50")


@pytest.mark.parametrize(
    ("currency", "minor", "expected"),
    [
        ("JPY", 12_345, Decimal("12345")),
        ("KWD", 12_345, Decimal("12.345")),
        ("USD", 12_345, Decimal("123.45")),
    ],
)
def test_minor_units_follow_iso_4217_digits(currency: str, minor: int, expected: Decimal) -> None:
    client = ClientFactory(currency=currency)
    append(client, minor)
    assert client_outstanding_balance(agency=client.agency, client=client) == expected


def test_appending_moves_the_cached_balance_in_the_same_transaction() -> None:
    client = ClientFactory()
    append(client, 10_000)
    append(client, -2_500)
    client.refresh_from_db()
    assert client.balance_minor == 7_500
    assert ledger_mismatches() == []


def test_an_entry_in_another_currency_than_the_clients_is_refused() -> None:
    client = ClientFactory(currency="EUR")
    with pytest.raises(ValueError, match="currency"):
        append(client, 100, currency="USD")
    assert not LedgerEntry.objects.exists()


def test_another_agencys_entries_never_count() -> None:
    client = ClientFactory()
    stranger = ClientFactory(agency=AgencyFactory())
    append(stranger, 99_999)
    assert client_outstanding_balance(agency=client.agency, client=client) == Decimal("0.00")
    assert client_outstanding_balance(agency=client.agency, client=stranger) == Decimal("0.00")


@pytest.mark.ledger_tampered
def test_a_corrupted_cached_balance_is_reported() -> None:
    client = ClientFactory()
    append(client, 5_000)
    Client.objects.filter(pk=client.pk).update(balance_minor=4_999)
    [mismatch] = ledger_mismatches()
    assert (mismatch.client_id, mismatch.cached_minor, mismatch.ledger_minor) == (
        client.pk,
        4_999,
        5_000,
    )


@pytest.mark.parametrize("direction", [1, -1])
def test_an_entry_that_would_take_the_balance_past_its_bound_is_refused(direction: int) -> None:
    client = ClientFactory(currency="USD")
    append(client, direction * (MAX_BALANCE_MINOR - 1))
    with pytest.raises(ValidationError, match=r"past \$1,000,000,000,000,000\.00, the most"):
        append(client, direction * 2)
    client.refresh_from_db()
    assert client.balance_minor == direction * (MAX_BALANCE_MINOR - 1)
    assert LedgerEntry.objects.count() == 1
    append(client, direction)
    client.refresh_from_db()
    assert client.balance_minor == direction * MAX_BALANCE_MINOR
