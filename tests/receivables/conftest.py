"""Reminders test data: a stopped clock on a Monday, a client with a billing email and its
invoices issued through the billing services (so the ledger holds their entries)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from pytest_django import Settings

from clientledger.accounts.models import Agency
from clientledger.billing.models import Estimate, Invoice
from clientledger.billing.services.drafts import estimate_create, invoice_create
from clientledger.billing.services.invoices import invoice_issue
from clientledger.billing.services.sending import estimate_send
from clientledger.core import clock
from clientledger.crm.models import Client
from clientledger.lines.data import LineData
from clientledger.payments.models import Payment
from clientledger.payments.services.manual import payment_record_manual
from tests.factories import ClientFactory

# A Monday, mid-day UTC, after the default sending hour (9:00) of the agency's UTC day.
NOW = dt.datetime(2026, 11, 2, 12, 0, tzinfo=dt.UTC)
TODAY = NOW.date()

IssueInvoice = Callable[..., Invoice]


def day(offset: int) -> dt.date:
    return TODAY + dt.timedelta(days=offset)


@pytest.fixture
def media_root(settings: Settings, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def frozen_now(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clock, "now", lambda: NOW)


@pytest.fixture
def debtor(agency: Agency, frozen_now: None, media_root: Path) -> Client:
    return ClientFactory(
        agency=agency, name="Acme Corp", currency="USD", billing_email="ap@acme.example"
    )


def invoice_for(client: Client, total: str = "100.00", *, due_on: dt.date = TODAY) -> Invoice:
    """An open invoice of `client` worth `total` (one untaxed line), due on `due_on`."""
    draft = invoice_create(
        agency=client.agency,
        actor=None,
        client=client,
        lines=[LineData(description="Retainer", quantity=Decimal("1"), unit_price=Decimal(total))],
    )
    issued_on = min(due_on, TODAY) - dt.timedelta(days=30)
    return invoice_issue(invoice=draft, actor=None, issue_date=issued_on, due_date=due_on)


@pytest.fixture
def issue(debtor: Client) -> IssueInvoice:
    def make(total: str = "100.00", *, due_on: dt.date = TODAY) -> Invoice:
        return invoice_for(debtor, total, due_on=due_on)

    return make


def pay(invoice: Invoice, amount: str | None = None) -> Payment:
    """Record a bank transfer paying `amount` (all that is due by default) of the invoice."""
    due = Decimal(amount) if amount else Decimal(invoice.balance_due_minor) / 100
    return payment_record_manual(
        agency=invoice.agency,
        actor=None,
        client=invoice.client,
        amount=due,
        currency=invoice.currency,
        received_on=TODAY,
        method="bank_transfer",
        allocations=[(invoice, due)],
    )


def at(offset: int, hour: int = 12) -> dt.datetime:
    """`offset` days from TODAY at `hour` UTC (the agency's timezone)."""
    return dt.datetime.combine(day(offset), dt.time(hour), tzinfo=dt.UTC)


def sent_estimate(client: Client, *, valid_days: int = 30) -> Estimate:
    """An estimate sent to the client today, valid for `valid_days`."""
    draft = estimate_create(
        agency=client.agency,
        actor=None,
        client=client,
        lines=[LineData(description="Design", quantity=Decimal("1"), unit_price=Decimal("500"))],
    )
    draft.valid_until = day(valid_days)
    draft.save(update_fields=["valid_until"])
    return estimate_send(estimate=draft, actor=None, recipients=[client.billing_email])
