"""What the client reads: the balance at send time, the days overdue, the link and the PDF,
and placeholders filled in as plain text that cannot become markup."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from clientledger.accounts.models import Agency
from clientledger.notifications.models import EmailMessage
from clientledger.notifications.services import email_render
from clientledger.receivables.models import ReminderStep, ReminderTrigger
from clientledger.receivables.placeholders import placeholders_fill
from clientledger.receivables.services.policies import (
    StepData,
    reminder_policy_default,
    reminder_policy_update,
)
from clientledger.receivables.services.reminders import reminders_run
from tests.factories import ClientFactory
from tests.receivables.conftest import IssueInvoice, at, day, invoice_for, pay

pytestmark = pytest.mark.django_db


def test_the_reminder_shows_the_balance_due_when_it_is_sent_and_attaches_the_invoice(
    agency: Agency, issue: IssueInvoice
) -> None:
    reminder_policy_default(agency=agency)
    invoice = issue("250.00", due_on=day(-7))
    pay(invoice, "100.00")

    reminders_run(as_of=at(0))

    email = EmailMessage.objects.get(subject__contains="overdue")
    assert email.to == ["ap@acme.example"]
    assert "7 days overdue" in email.subject
    assert "$150.00" in email_render(email).text and "$150.00" in email_render(email).html
    assert "/p/" in email_render(email).text
    assert (email.attach_document_type, email.attach_document_id) == ("billing.invoice", invoice.pk)


def test_without_online_payments_the_reminder_gives_the_bank_instructions(
    agency: Agency, issue: IssueInvoice
) -> None:
    agency.payment_instructions = "IBAN DE89 3704 0044 0532 0130 00"
    agency.save()
    reminder_policy_default(agency=agency)
    issue(due_on=day(-1))

    reminders_run(as_of=at(0))

    email = EmailMessage.objects.get(subject__contains="overdue")
    assert "IBAN DE89 3704 0044 0532 0130 00" in email_render(email).text
    assert "Pay now" not in email_render(email).html


def test_a_client_name_full_of_markup_is_escaped_in_the_html_email(agency: Agency) -> None:
    reminder_policy_default(agency=agency)
    client = ClientFactory(
        agency=agency,
        name='<script>alert("x")</script><a href="https://evil.example">Pay here</a> {pay_link}',
        currency="USD",
        billing_email="ap@evil.example",
    )
    invoice_for(client, due_on=day(-1))

    reminders_run(as_of=at(0))

    email = EmailMessage.objects.get(subject__contains="overdue")
    assert "<script>" not in email_render(email).html
    assert 'href="https://evil.example"' not in email_render(email).html
    assert "&lt;script&gt;" in email_render(email).html
    # A value is inserted once, as typed: its own braces are not filled in again.
    assert "{pay_link}" in email_render(email).text


def test_placeholders_are_filled_once_and_unknown_ones_stay_as_typed() -> None:
    filled = placeholders_fill(
        "{client_name} owes {amount_due} {nope}",
        {"client_name": "{amount_due}", "amount_due": "$5"},
    )

    assert filled == "{amount_due} owes $5 {nope}"


def test_a_step_naming_an_unknown_placeholder_is_refused(agency: Agency) -> None:
    policy = reminder_policy_default(agency=agency)
    steps = [
        StepData(
            id=step.pk,
            trigger=step.trigger,
            offset_days=step.offset_days,
            subject=step.subject,
            body=step.body,
        )
        for step in policy.steps.all()
    ]
    steps[0] = StepData(
        id=steps[0].id,
        trigger=steps[0].trigger,
        offset_days=steps[0].offset_days,
        subject="Hello {{ client.agency.stripe_account }}",
        body="{balance}",
    )

    with pytest.raises(ValidationError) as refused:
        reminder_policy_update(
            policy=policy,
            actor=None,
            name=policy.name,
            enabled=True,
            send_hour=9,
            business_days_only=True,
            steps=steps,
        )

    assert "Unknown placeholder" in str(refused.value)
    assert "{{" not in ReminderStep.objects.get(pk=policy.steps.all()[0].pk).subject


def test_editing_a_policy_swaps_step_days_and_adds_a_step(agency: Agency) -> None:
    policy = reminder_policy_default(agency=agency)
    invoice_steps = list(policy.steps.filter(trigger=ReminderTrigger.INVOICE_DUE))
    first, second = invoice_steps[0], invoice_steps[1]
    steps = [
        StepData(
            id=step.pk,
            trigger=step.trigger,
            offset_days={first.pk: second.offset_days, second.pk: first.offset_days}.get(
                step.pk, step.offset_days
            ),
            subject=step.subject,
            body=step.body,
            enabled=step.pk != first.pk,
        )
        for step in policy.steps.all()
    ]
    steps.append(
        StepData(
            trigger=ReminderTrigger.INVOICE_DUE, offset_days=60, subject="Last", body="{pay_link}"
        )
    )

    reminder_policy_update(
        policy=policy,
        actor=None,
        name="House rules",
        enabled=True,
        send_hour=10,
        business_days_only=False,
        steps=steps,
    )

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.offset_days, first.enabled, second.offset_days) == (1, False, -3)
    assert policy.steps.filter(offset_days=60).exists()
