"""The reminder pages: the policy settings, pausing an invoice, a client's choice, the
statement page, its PDF and email, and the client's statement in the portal."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core import mail
from django.test import Client as HttpClient
from django.urls import reverse
from django.utils import timezone

from clientledger.accounts.models import Agency, Membership
from clientledger.billing.portal_tokens import document_portal_url
from clientledger.billing.services.sending import invoice_send
from clientledger.crm.models import Client
from clientledger.jobs.sweeps import SWEEPS
from clientledger.notifications.models import EmailMessage
from clientledger.receivables.models import (
    ClientReminderSetting,
    InvoiceReminderState,
    ReminderPolicy,
    StatementDelivery,
)
from clientledger.receivables.services.policies import reminder_policy_default
from clientledger.receivables.services.reminders import reminders_run
from tests.receivables.conftest import IssueInvoice, at, day, pay

pytestmark = pytest.mark.django_db


def _policy_post(policy: ReminderPolicy, **changes: str) -> dict[str, str]:
    steps = list(policy.steps.all())
    data = {
        "name": policy.name,
        "enabled": "on",
        "send_hour": "8",
        "business_days_only": "on",
        "steps-TOTAL_FORMS": str(len(steps) + 1),
        "steps-INITIAL_FORMS": str(len(steps)),
        "steps-MIN_NUM_FORMS": "0",
        "steps-MAX_NUM_FORMS": "30",
    }
    for index, step in enumerate(steps):
        data |= {
            f"steps-{index}-id": str(step.pk),
            f"steps-{index}-trigger": step.trigger,
            f"steps-{index}-offset_days": str(step.offset_days),
            f"steps-{index}-subject": step.subject,
            f"steps-{index}-body": step.body,
            f"steps-{index}-enabled": "on",
        }
    return data | changes


def test_the_owner_edits_the_policy_and_a_bad_placeholder_is_shown_on_the_form(
    agency: Agency, owner_client: HttpClient
) -> None:
    listing = owner_client.get(reverse("receivables:policy_settings"))
    policy = ReminderPolicy.objects.get(agency=agency)
    assert "Standard reminders" in listing.content.decode()

    refused = owner_client.post(
        reverse("receivables:policy_edit", args=[policy.pk]),
        _policy_post(policy, **{"steps-0-subject": "Hi {first_name}"}),
    )
    saved = owner_client.post(
        reverse("receivables:policy_edit", args=[policy.pk]),
        _policy_post(policy, **{"steps-0-enabled": "", "steps-5-remove": "on"}),
    )

    assert refused.status_code == 400
    assert "Unknown placeholder {first_name}" in refused.content.decode()
    assert saved.status_code == 302
    policy.refresh_from_db()
    assert policy.send_hour == 8
    assert policy.steps.all()[0].enabled is False
    assert policy.steps.count() == 6


def test_finance_pauses_an_invoice_with_a_reason_and_resumes_it(
    finance: Membership, login: Callable[[Membership], HttpClient], issue: IssueInvoice
) -> None:
    http = login(finance)
    invoice = issue(due_on=day(2))

    refused = http.post(reverse("receivables:invoice_reminders_pause", args=[invoice.pk]), {})
    http.post(
        reverse("receivables:invoice_reminders_pause", args=[invoice.pk]),
        {"reason": "Waiting for the PO number"},
    )
    panel = http.get(reverse("receivables:invoice_reminders", args=[invoice.pk])).content.decode()
    http.post(reverse("receivables:invoice_reminders_resume", args=[invoice.pk]))

    assert refused.status_code == 400
    assert "Reminders paused" in panel and "Waiting for the PO number" in panel
    assert InvoiceReminderState.objects.get(invoice=invoice).status == "active"


def test_the_invoice_page_loads_the_reminders_panel_and_the_client_page_its_card(
    owner_client: HttpClient, debtor: Client, issue: IssueInvoice
) -> None:
    reminder_policy_default(agency=debtor.agency)
    invoice = issue(due_on=day(-1))
    reminders_run(as_of=at(0))

    invoice_page = owner_client.get(reverse("billing:invoice_detail", args=[invoice.pk]))
    client_page = owner_client.get(reverse("crm:client_detail", args=[debtor.pk]))
    card = owner_client.get(reverse("receivables:client_reminders", args=[debtor.pk]))

    assert (
        reverse("receivables:invoice_reminders", args=[invoice.pk]) in invoice_page.content.decode()
    )
    assert reverse("receivables:client_reminders", args=[debtor.pk]) in client_page.content.decode()
    assert invoice.number in card.content.decode()


def test_a_client_is_set_to_no_reminders_and_its_card_says_so(
    owner_client: HttpClient, debtor: Client
) -> None:
    saved = owner_client.post(
        reverse("receivables:client_reminders_edit", args=[debtor.pk]), {"policy": "none"}
    )
    card = owner_client.get(reverse("receivables:client_reminders", args=[debtor.pk]))

    assert saved.status_code == 302
    assert ClientReminderSetting.objects.get(client=debtor).policy is None
    assert "No reminders" in card.content.decode()


def test_the_statement_page_its_pdf_and_its_email_with_the_pdf_attached(
    owner_client: HttpClient, debtor: Client, issue: IssueInvoice
) -> None:
    invoice = issue("90.00", due_on=day(-3))
    pay(invoice, "30.00")

    page = owner_client.get(reverse("receivables:client_statement", args=[debtor.pk]))
    pdf = owner_client.get(reverse("receivables:client_statement_pdf", args=[debtor.pk]))
    sent = owner_client.post(
        reverse("receivables:client_statement_send", args=[debtor.pk]),
        {"recipients": ["ap@acme.example"], "message": "As discussed"},
    )
    mail.outbox.clear()
    # Outbox rows take the real clock's time when created (their field default).
    SWEEPS["drain_outbox"](as_of=timezone.now())

    assert "$60.00" in page.content.decode()
    assert pdf.content.startswith(b"%PDF-")
    assert sent.status_code == 302
    assert StatementDelivery.objects.get().recipients == ["ap@acme.example"]
    [delivered] = [m for m in mail.outbox if "statement" in m.subject]
    [(filename, content, _)] = delivered.attachments
    assert filename.startswith("statement-") and content.startswith(b"%PDF-")


def test_the_portal_statement_lists_every_open_invoice_with_pay_now(
    debtor: Client, issue: IssueInvoice
) -> None:
    first, second = issue("10.00", due_on=day(-3)), issue("20.00", due_on=day(5))
    for invoice in (first, second):
        invoice_send(invoice=invoice, actor=None, recipients=["ap@acme.example"])
    link = document_portal_url(first)
    assert link is not None
    token = link.rstrip("/").rsplit("/", 1)[-1]

    page = HttpClient().get(reverse("portal:statement", args=[token]))
    pdf = HttpClient().get(reverse("portal:statement_pdf", args=[token]))

    body = page.content.decode()
    assert page.status_code == 200
    assert first.number in body and second.number in body
    assert body.count("Pay now") == 2
    assert pdf.content.startswith(b"%PDF-")
    assert EmailMessage.objects.count() >= 2
