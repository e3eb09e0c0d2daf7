"""Emails are rendered by the worker that delivers them, from what their outbox row stores."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.utils import timezone

from clientledger.accounts.models import Agency, User
from clientledger.jobs.sweeps import SWEEPS
from clientledger.notifications.email_context import context_decode, context_encode
from clientledger.notifications.models import EmailMessage, EmailStatus
from clientledger.notifications.services import email_enqueue, email_render
from tests.factories import AgencyFactory, UserFactory

drain_outbox = SWEEPS["drain_outbox"]
pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 24, 12, 0, tzinfo=dt.UTC)


# Outbox rows take the real clock's time when created (their field default).
def invitation(agency: Agency, inviter: User) -> EmailMessage:
    return email_enqueue(
        agency=agency,
        to=["new@agency.example"],
        subject="You are invited",
        template="invitation",
        context={
            "inviter": inviter,
            "role": "Admin",
            "link": "https://app.example/accounts/invite/abc",
            "expires_at": NOW + dt.timedelta(days=7),
        },
    )


def test_an_email_is_rendered_when_delivered_with_its_rows_as_they_are_then() -> None:
    agency = AgencyFactory(name="Northwind")
    inviter = UserFactory(full_name="Ada Lovelace")
    message = invitation(agency, inviter)
    assert (message.body_text, message.body_html) == ("", "")
    Agency.objects.filter(pk=agency.pk).update(name="Northwind Studio")
    User.objects.filter(pk=inviter.pk).update(full_name="Ada King")

    assert drain_outbox(as_of=timezone.now()) == {"sent": 1}

    [sent] = mail.outbox
    assert isinstance(sent, EmailMultiAlternatives)
    assert "Ada King invited you to work with Northwind Studio" in sent.body
    assert "1 December 2026, 12:00" in sent.body
    html = str(sent.alternatives[0][0])
    assert "https://app.example/accounts/invite/abc" in html
    message.refresh_from_db()
    # The row keeps what was sent, and shows it from then on.
    assert (message.body_text, message.body_html) == (sent.body, html)
    Agency.objects.filter(pk=agency.pk).update(name="Renamed later")
    assert email_render(message).text == sent.body


def test_a_message_rendered_when_queued_before_the_change_is_sent_as_stored() -> None:
    EmailMessage.objects.create(
        to=["ada@client.example"],
        subject="Invoice INV-1",
        body_text="Here is your invoice.",
        body_html="<p>Here is your invoice.</p>",
        next_attempt_at=NOW,
    )

    assert drain_outbox(as_of=NOW) == {"sent": 1}

    [sent] = mail.outbox
    assert isinstance(sent, EmailMultiAlternatives)
    assert sent.body == "Here is your invoice."
    assert sent.alternatives[0][0] == "<p>Here is your invoice.</p>"


def test_an_email_whose_row_was_deleted_is_not_sent_and_says_why() -> None:
    agency = AgencyFactory()
    inviter = UserFactory()
    message = invitation(agency, inviter)
    inviter.delete()

    assert drain_outbox(as_of=timezone.now()) == {"queued": 1}

    message.refresh_from_db()
    assert message.status == EmailStatus.QUEUED
    assert message.last_error.startswith("DoesNotExist")
    assert mail.outbox == []


def test_the_context_reads_back_as_it_was_given() -> None:
    agency = AgencyFactory()
    context = {
        "agency_row": agency,
        "amount": Decimal("150.10"),
        "on": dt.date(2026, 11, 24),
        "at": NOW,
        "allocations": [("INV-1", 1200)],
        "nested": {"flag": True, "none": None, "count": 3},
    }

    stored = context_encode(context)
    read = context_decode(stored)

    assert read == {**context, "allocations": [["INV-1", 1200]]}
    assert read["agency_row"] is not agency  # read again from the database


def test_the_context_refuses_what_it_could_not_read_back() -> None:
    with pytest.raises(TypeError, match="cannot hold set"):
        context_encode({"recipients": {"a@example.com"}})
    with pytest.raises(ValueError, match="saved row"):
        context_encode({"agency": Agency(name="Unsaved")})
