"""The reminder emails, queued in the outbox in the transaction that logs the reminder."""

from __future__ import annotations

import datetime as dt

from django.utils.dateformat import format as date_format

from clientledger.billing.models import BillingDocument, Estimate, Invoice
from clientledger.billing.portal_tokens import document_portal_url, portal_url
from clientledger.billing.services.portal_links import portal_link_create
from clientledger.core.money import format_money, from_minor
from clientledger.notifications.models import EmailMessage
from clientledger.notifications.services import email_enqueue
from clientledger.payments.stripe.client import stripe_configured
from clientledger.receivables.models import ReminderStep
from clientledger.receivables.placeholders import placeholders_fill


def _client_link(document: BillingDocument) -> str:
    """The newest live link of the document, or a new one when every link was revoked."""
    url = document_portal_url(document)
    if url is not None:
        return url
    _, token = portal_link_create(document=document, actor=None)
    return portal_url(token)


def _texts(step: ReminderStep, values: dict[str, str]) -> tuple[str, str]:
    return placeholders_fill(step.subject, values), placeholders_fill(step.body, values)


def invoice_reminder_enqueue(
    *, invoice: Invoice, step: ReminderStep, recipients: list[str], today: dt.date
) -> EmailMessage:
    """The reminder as the client reads it: the balance due now, the days overdue, the link
    with Pay now (or the agency's bank instructions) and the invoice PDF attached."""
    link = _client_link(invoice)
    balance = from_minor(invoice.balance_due_minor, invoice.currency)
    assert invoice.due_date is not None  # an issued invoice has one
    days_overdue = max(0, (today - invoice.due_date).days)
    values = {
        "client_name": invoice.client.name,
        "agency_name": invoice.agency.name,
        "document_number": invoice.number,
        "amount_due": format_money(balance, invoice.currency),
        "due_date": date_format(invoice.due_date, "j F Y"),
        "days_overdue": str(days_overdue),
        "pay_link": link,
    }
    subject, body = _texts(step, values)
    return email_enqueue(
        agency=invoice.agency,
        to=recipients,
        subject=subject,
        template="invoice_reminder",
        context={
            "document": invoice,
            "body": body,
            "balance": balance,
            "days_overdue": days_overdue,
            "link": link,
            "pay_online": stripe_configured(invoice.agency),
            "payment_instructions": invoice.agency.payment_instructions,
        },
        attach=invoice,
    )


def estimate_reminder_enqueue(
    *, estimate: Estimate, step: ReminderStep, recipients: list[str], today: dt.date
) -> EmailMessage:
    """A follow-up of a sent estimate: the link to review, approve or decline it."""
    link = _client_link(estimate)
    values = {
        "client_name": estimate.client.name,
        "agency_name": estimate.agency.name,
        "document_number": estimate.number,
        "amount_due": format_money(
            from_minor(estimate.total_minor, estimate.currency), estimate.currency
        ),
        "due_date": date_format(estimate.valid_until, "j F Y") if estimate.valid_until else "",
        "days_overdue": "0",
        "pay_link": link,
    }
    subject, body = _texts(step, values)
    return email_enqueue(
        agency=estimate.agency,
        to=recipients,
        subject=subject,
        template="estimate_reminder",
        context={"document": estimate, "body": body, "link": link},
        attach=estimate,
    )
