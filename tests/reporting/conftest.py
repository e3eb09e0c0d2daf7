"""Reporting test data: a clock the test moves, and invoices, payments and credit notes made
through the services on the days the test names, so the ledger holds every entry."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from clientledger.billing.models import CreditNote, CreditSettlement, Invoice
from clientledger.billing.services.credit_notes import (
    CreditLine,
    credit_note_create,
    credit_note_issue,
)
from clientledger.billing.services.drafts import invoice_create
from clientledger.billing.services.invoices import invoice_issue, invoice_void
from clientledger.crm.models import Client, Deal
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


def invoice_issued(
    client: Client, total: str, *, on: dt.date, due: dt.date, deal: Deal | None = None
) -> Invoice:
    """An invoice of `client` (for `deal`) with one untaxed line worth `total`, issued on the
    clock's day."""
    draft = invoice_create(
        agency=client.agency,
        actor=None,
        client=client,
        deal=deal,
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


def credit_note_issued(invoice: Invoice, amount: str) -> CreditNote:
    """A credit note of `invoice` with one untaxed adjustment line worth `amount`, issued on
    the clock's day and applied to the invoice's balance."""
    draft = credit_note_create(
        invoice=invoice,
        actor=None,
        reason="Part of the work was not delivered.",
        settlement=CreditSettlement.APPLY,
        lines=[
            CreditLine(
                data=LineData(
                    description="Adjustment", quantity=Decimal(1), unit_price=Decimal(amount)
                )
            )
        ],
    )
    return credit_note_issue(credit_note=draft, actor=None)


def invoice_voided(invoice: Invoice) -> None:
    invoice_void(invoice=invoice, actor=None, reason="Sent to the wrong client.")
