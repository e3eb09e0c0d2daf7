"""Payments test data: a stopped clock, a USD client with a billing email and its issued
invoices, built through the billing services so the ledger holds their entries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

import pytest

from clientledger.accounts.models import Agency
from clientledger.billing.models import Invoice
from clientledger.billing.services.drafts import invoice_create
from clientledger.billing.services.invoices import invoice_issue
from clientledger.core import clock
from clientledger.crm.models import Client
from clientledger.lines.data import LineData
from tests.factories import ClientFactory
from tests.payments.stripe_fake import fake_stripe

__all__ = ["fake_stripe"]  # a fixture for every payments test

NOW = dt.datetime(2026, 11, 24, 12, 0, tzinfo=dt.UTC)
TODAY = NOW.date()

OpenInvoice = Callable[..., Invoice]


@pytest.fixture
def frozen_now(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clock, "now", lambda: NOW)


@pytest.fixture
def payer(agency: Agency, frozen_now: None) -> Client:
    return ClientFactory(
        agency=agency, name="Acme Corp", currency="USD", billing_email="ap@acme.example"
    )


def issue_invoice(
    client: Client, total: str, *, due_in_days: int = 30, issued_days_ago: int = 0
) -> Invoice:
    """An open invoice of `client` with one untaxed line worth `total`."""
    draft = invoice_create(
        agency=client.agency,
        actor=None,
        client=client,
        lines=[LineData(description="Retainer", quantity=Decimal("1"), unit_price=Decimal(total))],
    )
    issued_on = TODAY - dt.timedelta(days=issued_days_ago)
    return invoice_issue(
        invoice=draft,
        actor=None,
        issue_date=issued_on,
        due_date=issued_on + dt.timedelta(days=due_in_days),
    )


@pytest.fixture
def open_invoice(payer: Client) -> OpenInvoice:
    def make(total: str = "100.00", **timing: int) -> Invoice:
        return issue_invoice(payer, total, **timing)

    return make
