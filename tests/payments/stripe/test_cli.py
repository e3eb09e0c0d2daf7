"""`clientledger stripe reprocess` and `reconcile`: Stripe events from the command line."""

from __future__ import annotations

import sys
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connections
from pytest_django import Settings

from clientledger import cli
from clientledger.accounts.models import Agency, Membership
from clientledger.billing.models import InvoiceStatus
from clientledger.core.models import AuditEvent
from clientledger.payments.models import StripeEvent, StripeEventStatus
from tests.payments.conftest import OpenInvoice
from tests.payments.stripe.test_inbox import failed_card_payment, stored_event
from tests.payments.stripe_fake import FakeStripe, published

pytestmark = pytest.mark.django_db


def stripe_command(*args: str) -> str:
    out = StringIO()
    call_command("stripe", *args, stdout=out)
    return out.getvalue()


def failing_command(*args: str) -> tuple[str, str]:
    out = StringIO()
    with pytest.raises(CommandError) as refused:
        call_command("stripe", *args, stdout=out)
    return out.getvalue(), str(refused.value)


def test_reprocess_applies_the_named_events_and_prints_their_new_status(
    fake_stripe: FakeStripe, open_invoice: OpenInvoice
) -> None:
    invoice = open_invoice("80.00")
    event = failed_card_payment(fake_stripe, invoice)

    output = stripe_command("reprocess", event.stripe_id)

    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    assert output.splitlines() == [
        f"{event.stripe_id}: processed",
        "1 event(s) reprocessed: 1 processed.",
    ]
    audit = AuditEvent.objects.get(verb="stripe.event_reprocessed")
    assert audit.actor is None


def test_reprocess_failed_retries_every_failed_event_and_fails_while_one_still_does(
    fake_stripe: FakeStripe, open_invoice: OpenInvoice
) -> None:
    fixed = failed_card_payment(fake_stripe, open_invoice("80.00"))
    lost = stored_event(
        fixed.agency, status=StripeEventStatus.FAILED, minutes_ago=60, intent="pi_unknown"
    )
    processed = stored_event(fixed.agency)

    output, error = failing_command("reprocess", "--failed")

    assert output.splitlines()[0].startswith(f"{lost.stripe_id}: failed: ")
    assert f"{fixed.stripe_id}: processed" in output
    assert processed.stripe_id not in output
    assert "2 event(s) reprocessed: 1 failed, 1 processed." in output
    assert error == "1 event(s) not processed; see the lines above."


def test_reprocess_failed_for_one_agency_leaves_the_others_alone(
    fake_stripe: FakeStripe, agency: Agency, outsider: Membership
) -> None:
    ours = stored_event(agency, status=StripeEventStatus.FAILED, event_type="charge.updated")
    theirs = stored_event(outsider.agency, status=StripeEventStatus.FAILED)

    output = stripe_command("reprocess", "--failed", "--agency", str(agency.pk))

    assert f"{ours.stripe_id}: processed" in output
    assert StripeEvent.objects.get(pk=theirs.pk).status == StripeEventStatus.FAILED


def test_an_unknown_event_id_is_reported_and_fails_the_command(agency: Agency) -> None:
    output, error = failing_command("reprocess", "evt_unknown")

    assert "evt_unknown: no such event" in output
    assert error == "1 event(s) not processed; see the lines above."


def test_an_event_of_another_agency_is_unknown_with_agency(
    agency: Agency, outsider: Membership
) -> None:
    theirs = stored_event(outsider.agency, status=StripeEventStatus.FAILED)

    output, _ = failing_command("reprocess", theirs.stripe_id, "--agency", str(agency.pk))

    assert f"{theirs.stripe_id}: no such event" in output


def test_a_processed_event_is_left_as_it_is(agency: Agency) -> None:
    event = stored_event(agency, attempts=1)

    output = stripe_command("reprocess", event.stripe_id)

    assert "is already processed; there is nothing to reprocess." in output
    assert StripeEvent.objects.get(pk=event.pk).attempts == 1


def test_no_failed_events_is_said_plainly(agency: Agency) -> None:
    assert stripe_command("reprocess", "--failed") == "No failed Stripe events.\n"


def test_an_unknown_agency_is_refused(db: None) -> None:
    assert failing_command("reprocess", "--failed", "--agency", "999999")[1] == (
        "There is no agency with id 999999."
    )


@pytest.mark.parametrize("args", [(), ("reprocess",), ("reprocess", "evt_1", "--failed")])
def test_reprocess_needs_either_event_ids_or_failed(db: None, args: tuple[str, ...]) -> None:
    with pytest.raises(CommandError):
        call_command("stripe", *args)


def test_the_console_script_runs_the_subcommand(
    db: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "argv", ["clientledger", "stripe", "reprocess", "--failed"])
    # A command run from argv closes every connection when done, the test's included.
    monkeypatch.setattr(connections, "close_all", lambda: None)

    cli.main()

    assert capsys.readouterr().out == "No failed Stripe events.\n"


def test_reconcile_applies_the_events_a_lost_webhook_missed_and_a_second_run_finds_nothing(
    fake_stripe: FakeStripe, open_invoice: OpenInvoice
) -> None:
    invoice = open_invoice("80.00")
    fake_stripe.event(
        "payment_intent.succeeded",
        fake_stripe.intent("pi_lost", invoice=invoice, status="succeeded"),
    )

    first = stripe_command("reconcile", "--days", "2")

    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    assert "1 event(s) fetched: 1 new, 0 repaired." in first
    assert "Stripe reconciled." in first
    second = stripe_command("reconcile", "--days", "2")
    assert "1 event(s) fetched: 0 new, 0 repaired." in second
    assert StripeEvent.objects.count() == 1


def test_reconcile_fails_loudly_when_an_event_cannot_be_applied(
    fake_stripe: FakeStripe, open_invoice: OpenInvoice
) -> None:
    invoice = open_invoice("80.00")
    intent = fake_stripe.intent("pi_eur", invoice=invoice, status="succeeded")
    intent["currency"] = "eur"
    fake_stripe.event("payment_intent.succeeded", intent)

    out, error = failing_command("reconcile")

    assert "pays in USD, not in EUR" in out
    assert "could not be applied" in error


def test_reconcile_fetches_only_our_event_types_and_ignores_payments_clientledger_did_not_create(
    fake_stripe: FakeStripe, open_invoice: OpenInvoice
) -> None:
    invoice = open_invoice("80.00")
    fake_stripe.event(
        "payment_intent.succeeded",
        fake_stripe.intent("pi_ours", invoice=invoice, status="succeeded"),
    )
    fake_stripe.event("payment_intent.succeeded", fake_stripe.foreign_intent("pi_shop"))
    fake_stripe.event("customer.created", published("customer", id="cus_1", discount=None))

    output = stripe_command("reconcile")

    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    assert "2 event(s) fetched: 2 new, 0 repaired." in output
    assert "1 event(s) about payments ClientLedger did not create, ignored." in output
    assert "Stripe reconciled." in output
    assert sorted(StripeEvent.objects.values_list("status", flat=True)) == [
        StripeEventStatus.IGNORED,
        StripeEventStatus.PROCESSED,
    ]


@pytest.mark.parametrize("days", ["0", "31", "two"])
def test_reconcile_refuses_a_window_stripe_does_not_keep(days: str) -> None:
    with pytest.raises(CommandError, match="1 to 30"):
        call_command("stripe", "reconcile", "--days", days, stdout=StringIO())


def test_reconcile_refuses_an_unknown_agency(fake_stripe: FakeStripe) -> None:
    assert "no agency with id 999" in failing_command("reconcile", "--agency", "999")[1]


def test_reconcile_says_when_stripe_cannot_be_read(
    fake_stripe: FakeStripe, settings: Settings
) -> None:
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"

    assert "Stripe could not be read" in failing_command("reconcile")[1]
