"""The reporting rollups count an agency's local days: when its time zone changes, the moments
near midnight move to the other day, as a recomputation from the rows would count them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.apps import apps

from clientledger.accounts.models import Agency, Membership
from clientledger.accounts.services import agency_update
from clientledger.billing.models import LedgerDay, OwedDay
from clientledger.billing.rollups_rebuild import rollups_rebuild
from clientledger.billing.services.drafts import invoice_create
from clientledger.billing.services.invoices import invoice_issue
from clientledger.crm.models import Client
from tests.billing.conftest import line
from tests.factories import AgencyFactory, ClientFactory

pytestmark = pytest.mark.django_db

# 23:30 in Berlin (the factory's zone) is already the next day in Auckland.
LATE_EVENING = dt.datetime(2026, 11, 24, 22, 30, tzinfo=dt.UTC)


def rollup_rows(agency: Agency) -> dict[str, list[tuple[Any, ...]]]:
    return {
        "ledger": sorted(
            LedgerDay.objects.filter(agency=agency).values_list(
                "day", "currency", "kind", "amount_minor"
            )
        ),
        "owed": sorted(
            OwedDay.objects.filter(agency=agency).values_list(
                "day", "currency", "due_date", "owed_minor", "open_count", "paid_minor"
            )
        ),
    }


def issue_late_in_the_evening(agency: Agency, client: Client) -> None:
    invoice = invoice_create(agency=agency, actor=None, client=client, lines=[line()])
    invoice_issue(invoice=invoice, actor=None, issue_date=LATE_EVENING.date())


def test_a_new_time_zone_moves_the_rollups_to_the_agencys_new_local_days(
    agency: Agency,
    owner: Membership,
    buyer: Client,
    frozen_now: Callable[[dt.datetime], None],
) -> None:
    frozen_now(LATE_EVENING)
    issue_late_in_the_evening(agency, buyer)
    assert {row[0] for row in rollup_rows(agency)["ledger"]} == {dt.date(2026, 11, 24)}

    agency_update(agency=agency, actor=owner.user, timezone="Pacific/Auckland")

    moved = rollup_rows(agency)
    assert {row[0] for row in moved["ledger"] + moved["owed"]} == {dt.date(2026, 11, 25)}
    rollups_rebuild(apps, agency_ids=[agency.pk])
    assert rollup_rows(agency) == moved


def test_another_agencys_rollups_are_left_as_they_are(
    agency: Agency,
    owner: Membership,
    buyer: Client,
    frozen_now: Callable[[dt.datetime], None],
) -> None:
    frozen_now(LATE_EVENING)
    other = AgencyFactory(name="Other Studio")
    issue_late_in_the_evening(other, ClientFactory(agency=other, currency="USD"))
    before = rollup_rows(other)
    row_ids = set(LedgerDay.objects.filter(agency=other).values_list("pk", flat=True))

    agency_update(agency=agency, actor=owner.user, timezone="Pacific/Auckland")

    assert rollup_rows(other) == before
    assert set(LedgerDay.objects.filter(agency=other).values_list("pk", flat=True)) == row_ids
