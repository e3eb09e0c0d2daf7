"""Reporting test data: a clock the test moves, and invoices, payments and credit notes made
through the services on the days the test names, so the ledger holds every entry."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import transaction
from django.utils import timezone

from clientledger.billing.models import Invoice, LedgerEntryKind
from clientledger.billing.services.drafts import invoice_create
from clientledger.billing.services.invoices import invoice_issue, invoice_void
from clientledger.billing.services.ledger import ledger_append
from clientledger.billing.services.settlement import invoices_lock
from clientledger.core.money import to_minor
from clientledger.crm.models import Client
from clientledger.lines.data import LineData
from clientledger.payments.models import PaymentMethod
from clientledger.payments.services.manual import payment_record_manual


class Clock:
    """Noon UTC of the day set: every `clock.now()` and model default reads it."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.moment = dt.datetime(2026, 1, 1, 12, tzinfo=dt.UTC)
        monkeypatch.setattr(timezone, "now", lambda: self.moment)

    def set(self, day: dt.date) -> None:
        self.moment = dt.datetime.combine(day, dt.time(12), dt.UTC)


@pytest.fixture
def clock_at(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return Clock(monkeypatch)


def invoice_issued(client: Client, total: str, *, on: dt.date, due: dt.date) -> Invoice:
    """An invoice of `client` with one untaxed line worth `total`, issued on the clock's day."""
    draft = invoice_create(
        agency=client.agency,
        actor=None,
        client=client,
        lines=[LineData(description="Work", quantity=Decimal(1), unit_price=Decimal(total))],
    )
    return invoice_issue(invoice=draft, actor=None, issue_date=on, due_date=due)


def payment_made(client: Client, amount: str, *, on: dt.date, to: Invoice | None = None) -> None:
    """A bank transfer received on `on`, paying `to` (or the oldest invoices first)."""
    payment_record_manual(
        agency=client.agency,
        actor=None,
        client=client,
        amount=Decimal(amount),
        currency=client.currency,
        received_on=on,
        method=PaymentMethod.BANK_TRANSFER,
        allocations=None if to is None else [(to, Decimal(amount))],
    )


def credit_note_issued(invoice: Invoice, amount: str) -> None:
    """A credit note as the current code represents one: the invoice's credited total grows
    and the client's ledger gets a negative credit note entry, in one transaction."""
    minor = to_minor(Decimal(amount), invoice.currency)
    with transaction.atomic():
        locked = invoices_lock(agency=invoice.agency, ids=[invoice.pk])[invoice.pk]
        locked.amount_credited_minor += minor
        locked.save(update_fields=["amount_credited_minor"])
        ledger_append(
            client=locked.client,
            kind=LedgerEntryKind.CREDIT_NOTE_ISSUED,
            document=locked,
            document_reference=f"CN-{locked.number}",
            amount_minor=-minor,
            currency=locked.currency,
            occurred_at=timezone.now(),
        )


def invoice_voided(invoice: Invoice) -> None:
    invoice_void(invoice=invoice, actor=None, reason="Sent to the wrong client.")
