"""The Stripe events inbox: the agency's events newest first, filters, an event's detail and
reprocessing a failed one."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from clientledger.accounts.models import Agency, Membership
from clientledger.billing.models import Invoice, InvoiceStatus
from clientledger.core.models import AuditEvent
from clientledger.payments.models import Payment, StripeAccount, StripeEvent, StripeEventStatus
from tests.payments.conftest import NOW, OpenInvoice
from tests.payments.stripe_fake import FakeStripe, deliver, signature_header

pytestmark = pytest.mark.django_db
Login = Callable[[Membership], HttpClient]
SERIAL = itertools.count(1)
INBOX = reverse("payments:stripe_event_list")


def stored_event(
    agency: Agency | None,
    *,
    status: str = StripeEventStatus.PROCESSED,
    event_type: str = "payment_intent.succeeded",
    minutes_ago: int = 0,
    intent: str | None = None,
    **fields: Any,
) -> StripeEvent:
    """An event already in the inbox; about a charge of `intent`, or about nothing of ours."""
    stripe_id = fields.pop("stripe_id", f"evt_stored_{next(SERIAL)}")
    about = {"object": "charge", "payment_intent": intent} if intent else {"object": "customer"}
    return StripeEvent.objects.create(
        stripe_id=stripe_id,
        agency=agency,
        type=event_type,
        payload={"id": stripe_id, "type": event_type, "data": {"object": about}},
        status=status,
        received_at=NOW - dt.timedelta(minutes=minutes_ago),
        **fields,
    )


def listed_ids(response: Any) -> list[str]:
    return [event.stripe_id for event in response.context["page"]]


def failed_card_payment(fake: FakeStripe, invoice: Invoice) -> StripeEvent:
    """A card payment whose event arrived while Stripe could not be read back."""
    intent = fake.intent("pi_lost", invoice=invoice, status="succeeded")
    del fake.intents["pi_lost"]
    event = fake.event("payment_intent.succeeded", intent)
    # We answer an error, so Stripe would retry; the inbox keeps the event as failed.
    assert deliver(event) == 500
    fake.intents["pi_lost"] = intent
    stored = StripeEvent.objects.get(stripe_id=event["id"])
    assert stored.status == StripeEventStatus.FAILED
    return stored


# --- the list ------------------------------------------------------------------------------


def test_the_inbox_lists_the_agencys_events_newest_first_and_no_one_elses(
    finance: Membership, login: Login, outsider: Membership
) -> None:
    old = stored_event(finance.agency, minutes_ago=10)
    new = stored_event(finance.agency, minutes_ago=1)
    stored_event(outsider.agency)
    stored_event(None)

    response = login(finance).get(INBOX)

    assert listed_ids(response) == [new.stripe_id, old.stripe_id]


def test_the_inbox_filters_by_status(finance: Membership, login: Login) -> None:
    failed = stored_event(finance.agency, status=StripeEventStatus.FAILED, error="Boom")
    stored_event(finance.agency)

    response = login(finance).get(INBOX, {"status": "failed"})

    assert listed_ids(response) == [failed.stripe_id]
    assert "Boom" in response.content.decode()


@pytest.mark.parametrize("query", ["evt_wanted", "dispute"])
def test_the_inbox_finds_an_event_by_its_stripe_id_or_its_type(
    finance: Membership, login: Login, query: str
) -> None:
    wanted = stored_event(
        finance.agency, stripe_id="evt_wanted", event_type="charge.dispute.created"
    )
    stored_event(finance.agency)

    assert listed_ids(login(finance).get(INBOX, {"q": query})) == [wanted.stripe_id]


def test_an_empty_search_says_nothing_matches(finance: Membership, login: Login) -> None:
    stored_event(finance.agency)

    assert "No event matches" in login(finance).get(INBOX, {"q": "nothing"}).content.decode()


def test_the_inbox_pages_with_cursors(finance: Membership, login: Login) -> None:
    events = [stored_event(finance.agency, minutes_ago=minute) for minute in range(30)]
    http = login(finance)

    first = http.get(INBOX)
    second = http.get(INBOX, {"after": first.context["page"].next_cursor})

    assert listed_ids(first) == [event.stripe_id for event in events[:25]]
    assert listed_ids(second) == [event.stripe_id for event in events[25:]]


def test_the_inbox_costs_the_same_queries_for_few_or_many_events(
    finance: Membership, login: Login
) -> None:
    http = login(finance)

    def queries_with(count: int) -> int:
        StripeEvent.objects.all().delete()
        for minute in range(count):
            stored_event(finance.agency, minutes_ago=minute)
        with CaptureQueriesContext(connection) as captured:
            assert http.get(INBOX).status_code == 200
        return len(captured)

    assert queries_with(3) == queries_with(60)


def test_the_payments_list_and_the_settings_page_link_to_the_inbox(
    owner_client: HttpClient,
) -> None:
    link = f'href="{INBOX}"'

    assert link in owner_client.get(reverse("payments:payment_list")).content.decode()
    assert link in owner_client.get(reverse("payments:stripe_settings")).content.decode()


def test_an_event_about_a_payment_clientledger_did_not_create_is_listed_as_ignored_with_why(
    fake_stripe: FakeStripe, finance: Membership, login: Login
) -> None:
    StripeAccount.objects.create(agency=finance.agency, webhook_secret="whsec_own")
    event = fake_stripe.event("payment_intent.succeeded", fake_stripe.foreign_intent("pi_shop"))
    payload = json.dumps(event)
    assert deliver(payload, signature_header(payload, "whsec_own")) == 200
    http = login(finance)

    listed = http.get(INBOX, {"status": StripeEventStatus.IGNORED})
    stored = StripeEvent.objects.get()
    detail = http.get(reverse("payments:stripe_event_detail", args=[stored.pk])).content.decode()

    assert listed_ids(listed) == [event["id"]]
    assert "Ignored" in listed.content.decode()
    assert "pi_shop was not created by ClientLedger" in detail
    assert "Reprocess" not in detail


# --- one event -----------------------------------------------------------------------------


def test_an_event_page_shows_its_facts_and_its_payload_pretty_printed(
    finance: Membership, login: Login
) -> None:
    event = stored_event(
        finance.agency, status=StripeEventStatus.FAILED, error="Stripe could not be read"
    )

    html = login(finance).get(reverse("payments:stripe_event_detail", args=[event.pk])).content
    page = html.decode()

    assert "payment_intent.succeeded" in page
    assert "Stripe could not be read" in page
    assert "\n  &quot;data&quot;: {\n    &quot;object&quot;: {" in page
    assert "Reprocess" in page


def test_a_processed_event_offers_no_reprocessing(finance: Membership, login: Login) -> None:
    event = stored_event(finance.agency)

    page = login(finance).get(reverse("payments:stripe_event_detail", args=[event.pk]))

    assert "Reprocess" not in page.content.decode()


def test_another_agencys_event_is_not_found(
    finance: Membership, login: Login, outsider: Membership
) -> None:
    theirs = stored_event(outsider.agency, status=StripeEventStatus.FAILED)
    http = login(finance)

    assert http.get(reverse("payments:stripe_event_detail", args=[theirs.pk])).status_code == 404
    assert (
        http.post(reverse("payments:stripe_event_reprocess", args=[theirs.pk])).status_code == 404
    )


# --- reprocessing --------------------------------------------------------------------------


def test_reprocessing_a_failed_event_applies_it_and_audits_who_asked(
    fake_stripe: FakeStripe, finance: Membership, login: Login, open_invoice: OpenInvoice
) -> None:
    invoice = open_invoice("80.00")
    event = failed_card_payment(fake_stripe, invoice)

    response = login(finance).post(
        reverse("payments:stripe_event_reprocess", args=[event.pk]), follow=True
    )

    event.refresh_from_db()
    invoice.refresh_from_db()
    assert event.status == StripeEventStatus.PROCESSED
    assert invoice.status == InvoiceStatus.PAID
    assert Payment.objects.filter(stripe_payment_intent_id="pi_lost").count() == 1
    assert f"Event {event.stripe_id} reprocessed: it is processed now." in response.content.decode()
    audit = AuditEvent.objects.get(verb="stripe.event_reprocessed")
    assert audit.actor == finance.user
    assert audit.data == {"from": "failed", "to": "processed", "type": event.type}


def test_an_event_that_fails_again_says_why(
    fake_stripe: FakeStripe, finance: Membership, login: Login, open_invoice: OpenInvoice
) -> None:
    event = failed_card_payment(fake_stripe, open_invoice("80.00"))
    del fake_stripe.intents["pi_lost"]

    response = login(finance).post(
        reverse("payments:stripe_event_reprocess", args=[event.pk]), follow=True
    )

    event.refresh_from_db()
    assert event.status == StripeEventStatus.FAILED
    assert event.attempts == 2
    page = response.content.decode()
    assert f"Event {event.stripe_id} was reprocessed and is still failed:" in page
    assert not Payment.objects.exists()


def test_a_processed_event_is_not_reprocessed(finance: Membership, login: Login) -> None:
    event = stored_event(finance.agency, attempts=1)

    response = login(finance).post(
        reverse("payments:stripe_event_reprocess", args=[event.pk]), follow=True
    )

    event.refresh_from_db()
    assert event.attempts == 1
    assert "is already processed; there is nothing to reprocess." in response.content.decode()
    assert not AuditEvent.objects.filter(verb="stripe.event_reprocessed").exists()


def test_a_viewer_can_neither_see_nor_reprocess_events(viewer: Membership, login: Login) -> None:
    event = stored_event(viewer.agency, status=StripeEventStatus.FAILED)
    http = login(viewer)

    assert http.get(INBOX).status_code == 403
    assert http.post(reverse("payments:stripe_event_reprocess", args=[event.pk])).status_code == 403
