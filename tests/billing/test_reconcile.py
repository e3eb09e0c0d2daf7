from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from clientledger.accounts.models import Agency
from clientledger.billing.models import LedgerEntryKind
from clientledger.billing.services.ledger import ledger_append
from clientledger.core import clock
from clientledger.crm.models import Client, Deal
from clientledger.demo.loader import demo_load
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_agency() -> Agency:
    demo_load(password="sunny-side-up-42", stdout=StringIO())
    return Agency.objects.get(name="Brightside Digital")


def reconcile(*args: str) -> str:
    out = StringIO()
    call_command("reconcile", *args, stdout=out)
    return out.getvalue()


def test_the_demo_data_reconciles(demo_agency: Agency) -> None:
    clients = Client.objects.filter(agency=demo_agency).count()
    assert f"Ledger reconciled: {clients} clients, cached balances equal ledger sums." in (
        reconcile()
    )


@pytest.mark.ledger_tampered
def test_a_corrupted_cached_balance_fails_and_names_the_client(demo_agency: Agency) -> None:
    client = Client.objects.get(agency=demo_agency, name="Nordlicht Möbel GmbH")
    # The demo invoiced this client €2,475.00 and gave it a €140.00 goodwill credit note.
    ledger = client.balance_minor
    Client.objects.filter(pk=client.pk).update(balance_minor=ledger + 123_456)
    out = StringIO()
    with pytest.raises(CommandError, match="1 client balance") as failure:
        call_command("reconcile", stdout=out)
    assert failure.value.returncode != 0
    assert (
        f"Client {client.pk} Nordlicht Möbel GmbH: cached €3,569.56, ledger €2,335.00, "
        "difference €1,234.56"
    ) in out.getvalue()


def test_entries_appended_through_the_ledger_keep_balances_reconciled(
    demo_agency: Agency,
) -> None:
    deal = Deal.objects.select_related("client").filter(agency=demo_agency).first()
    assert deal is not None
    for amount in (250_000, -100_000):
        ledger_append(
            client=deal.client,
            kind=LedgerEntryKind.ADJUSTMENT,
            document=deal,
            document_reference=f"DEAL-{deal.pk}",
            amount_minor=amount,
            currency=deal.client.currency,
            occurred_at=clock.now(),
        )
    deal.client.refresh_from_db()
    assert deal.client.balance_minor == 150_000
    assert "Ledger reconciled" in reconcile()


@pytest.mark.ledger_tampered
def test_restricting_to_one_agency_ignores_the_others(demo_agency: Agency) -> None:
    stranger = ClientFactory(name="Elsewhere Ltd")
    Client.objects.filter(pk=stranger.pk).update(balance_minor=500)
    clients = Client.objects.filter(agency=demo_agency).count()
    assert f"Ledger reconciled: {clients} clients" in reconcile("--agency", str(demo_agency.pk))
    with pytest.raises(CommandError):
        call_command("reconcile", "--agency", str(stranger.agency_id), stdout=StringIO())


def test_an_unknown_agency_is_refused() -> None:
    with pytest.raises(CommandError, match="no agency with id 999"):
        reconcile("--agency", "999")
