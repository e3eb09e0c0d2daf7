from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives
from django.test import override_settings
from pytest_django import Settings

from clientledger.core.outbox import MAX_ATTEMPTS
from clientledger.jobs.runner import run_sweeps_once
from clientledger.jobs.sweeps import SWEEPS
from clientledger.notifications.models import EmailMessage, EmailStatus
from clientledger.notifications.selectors import emails_due_chunks
from clientledger.notifications.services import email_send, emails_send
from tests.conftest import SmtpInbox

drain_outbox = SWEEPS["drain_outbox"]
pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 24, 12, 0, tzinfo=dt.UTC)


def queued(**fields: object) -> EmailMessage:
    defaults = {
        "to": ["ada@client.example"],
        "subject": "Hello",
        "body_text": "Hi",
        "body_html": "<p>Hi</p>",
        "next_attempt_at": NOW,
    }
    return EmailMessage.objects.create(**(defaults | fields))


def test_a_queued_message_is_sent_once_with_its_html_part() -> None:
    message = queued()
    assert drain_outbox(as_of=NOW) == {"sent": 1}
    assert drain_outbox(as_of=NOW) == {}
    [sent] = mail.outbox
    assert isinstance(sent, EmailMultiAlternatives)
    assert sent.to == ["ada@client.example"]
    assert sent.alternatives[0][1] == "text/html"
    message.refresh_from_db()
    assert (message.status, message.attempts) == (EmailStatus.SENT, 1)


def test_a_message_due_later_waits() -> None:
    queued(next_attempt_at=NOW + dt.timedelta(minutes=5))
    assert drain_outbox(as_of=NOW) == {}


@override_settings(
    EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
    EMAIL_HOST="127.0.0.1",
    EMAIL_PORT=9,
)
def test_a_transport_failure_is_recorded_and_retried_with_backoff() -> None:
    message = queued()
    assert drain_outbox(as_of=NOW) == {"queued": 1}
    message.refresh_from_db()
    assert message.status == EmailStatus.QUEUED
    assert message.last_error
    assert message.next_attempt_at == NOW + dt.timedelta(minutes=1)
    assert drain_outbox(as_of=NOW + dt.timedelta(seconds=59)) == {}


@override_settings(
    EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
    EMAIL_HOST="127.0.0.1",
    EMAIL_PORT=9,
)
def test_a_message_gives_up_after_the_last_attempt() -> None:
    message = queued(attempts=MAX_ATTEMPTS - 1)
    assert drain_outbox(as_of=NOW) == {"failed": 1}
    message.refresh_from_db()
    assert message.status == EmailStatus.FAILED


def test_a_stale_claim_of_a_dead_worker_is_taken_over() -> None:
    queued(status=EmailStatus.SENDING, claimed_at=NOW - dt.timedelta(hours=1))
    queued(status=EmailStatus.SENDING, claimed_at=NOW - dt.timedelta(seconds=30))
    assert drain_outbox(as_of=NOW) == {"sent": 1}


def test_the_runner_delivers_through_a_real_smtp_server(
    smtp_server: tuple[SmtpInbox, int], settings: Settings
) -> None:
    inbox, port = smtp_server
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    queued(subject="You are invited", next_attempt_at=dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
    results = run_sweeps_once()
    assert results["drain_outbox"] == {"sent": 1}
    [received] = inbox.received
    assert received["Subject"] == "You are invited"  # type: ignore[index]
    assert received["To"] == "ada@client.example"  # type: ignore[index]


def test_a_subject_with_line_breaks_is_sent_on_one_line() -> None:
    message = queued(subject="Acme\r\nBcc: everyone@example.com approved EST-1\x1b")
    assert drain_outbox(as_of=NOW) == {"sent": 1}
    [sent] = mail.outbox
    assert sent.subject == "Acme Bcc: everyone@example.com approved EST-1"
    assert sent.bcc == []
    message.refresh_from_db()
    assert message.status == EmailStatus.SENT


def test_a_message_is_sent_once_however_often_it_is_handed_out() -> None:
    message = queued()
    assert email_send(message_id=message.pk, as_of=NOW) == EmailStatus.SENT
    assert email_send(message_id=message.pk, as_of=NOW) is None
    assert emails_send(ids=[message.pk, message.pk], as_of=NOW) == {}
    assert len(mail.outbox) == 1


def test_a_message_a_live_worker_claimed_is_left_to_it() -> None:
    message = queued(status=EmailStatus.SENDING, claimed_at=NOW - dt.timedelta(seconds=30))
    assert email_send(message_id=message.pk, as_of=NOW) is None
    assert mail.outbox == []


def test_the_due_messages_are_read_in_chunks_without_being_claimed() -> None:
    first, second, third = queued(), queued(), queued()
    queued(next_attempt_at=NOW + dt.timedelta(minutes=1))
    queued(status=EmailStatus.SENT)
    assert list(emails_due_chunks(as_of=NOW, size=2)) == [[first.pk, second.pk], [third.pk]]
    assert set(EmailMessage.objects.values_list("status", flat=True)) == {"queued", "sent"}
