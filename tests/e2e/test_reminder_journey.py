"""A reminder in a real browser and through a real SMTP server: the invoice falls overdue
(time moved with `clientledger reminders run --as-of`), the client gets the +1 reminder,
pays by card through its link, and the +7 reminder is shown skipped because it is paid."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from pytest_django import Settings

from clientledger.receivables.models import Reminder, ReminderOutcome
from tests.conftest import SmtpInbox
from tests.e2e.test_estimate_to_invoice_journey import deliver, portal_link
from tests.e2e.test_payment_journeys import (
    CARD,
    Journey,
    assert_paid,
    invoice,
    journey,
    staff,
)
from tests.payments.stripe_fake import fake_stripe

# The payment journey's fixtures: an open invoice, its link, Stripe's stand-in, staff.
__all__ = ["fake_stripe", "invoice", "journey", "staff"]

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _run_reminders(on: dt.date) -> None:
    call_command("reminders", "run", "--as-of", on.isoformat())


def test_the_overdue_client_is_reminded_pays_from_the_link_and_is_not_reminded_again(
    journey: Journey,
    smtp_server: tuple[SmtpInbox, int],
    settings: Settings,
) -> None:
    inbox, port = smtp_server
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    due = journey.invoice.due_date
    assert due is not None

    _run_reminders(due + dt.timedelta(days=1))
    reminder = deliver(inbox, to="ap@acme.example")

    assert "is now overdue" in reminder["Subject"]
    link = portal_link(reminder)
    assert link == journey.portal_url
    attachments = [part.get_filename() for part in reminder.walk() if part.get_filename()]
    assert attachments == [f"{journey.invoice.number}.pdf"]

    checkout = journey.pay_now("Card")
    succeeded = journey.stripe_holds("pi_card", status="succeeded", method=CARD, fee=3510)
    journey.webhook(
        "checkout.session.completed", checkout.session("pi_card", payment_status="paid")
    )
    journey.webhook("payment_intent.succeeded", succeeded)
    assert_paid(journey)

    _run_reminders(due + dt.timedelta(days=7))

    sent = Reminder.objects.filter(outcome=ReminderOutcome.SENT)
    assert [r.step.offset_days for r in sent] == [1]
    page = journey.staff_invoice()
    panel = page.locator("#invoice-reminders")
    week_after = panel.locator("li", has_text="7 days after the due date")
    assert "Skipped" in week_after.inner_text()
    assert "Paid" in week_after.inner_text()
    assert "Sent" in panel.locator("li", has_text="1 day after the due date").inner_text()
