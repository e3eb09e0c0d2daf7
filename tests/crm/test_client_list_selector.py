"""`client_list`: its per-client counts and its contact search, one row per client."""

from __future__ import annotations

from clientledger.accounts.models import Agency
from clientledger.crm.models import DealStage
from clientledger.crm.selectors import client_list
from tests.factories import ClientFactory, ContactFactory, DealFactory


def test_the_client_list_counts_contacts_and_open_deals_only(agency: Agency) -> None:
    busy = ClientFactory(agency=agency, name="Busy")
    ContactFactory(client=busy)
    ContactFactory(client=busy)
    for stage in (DealStage.LEAD, DealStage.PROPOSAL, DealStage.WON, DealStage.LOST):
        DealFactory(client=busy, stage=stage)
    ClientFactory(agency=agency, name="Quiet")

    counts = {
        # Counts annotated by client_list, which the model type does not know.
        client.name: (client.contact_count, client.open_deal_count)  # type: ignore[attr-defined]
        for client in client_list(agency=agency)
    }

    assert counts == {"Busy": (2, 2), "Quiet": (0, 0)}


def test_a_client_found_through_several_contacts_is_listed_once(agency: Agency) -> None:
    client = ClientFactory(agency=agency, name="Initech")
    ContactFactory(client=client, name="Peter Gibbons", email="peter@initech.example")
    ContactFactory(client=client, name="Samir Nagheenanajar", email="samir@initech.example")
    ClientFactory(agency=agency, name="Hooli")

    found = list(client_list(agency=agency, search="initech.example"))

    counts = [(row.name, row.contact_count) for row in found]  # type: ignore[attr-defined]
    assert counts == [("Initech", 2)]
