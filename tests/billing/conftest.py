"""Billing test data: a client and its deal, a VAT rate, documents built through the
services, a stopped clock and a throw-away media folder for stored PDFs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from pytest_django import Settings

from clientledger.accounts.models import Agency, Membership
from clientledger.billing.models import Estimate, Invoice
from clientledger.billing.services.drafts import estimate_create, invoice_create
from clientledger.billing.services.sending import estimate_send
from clientledger.catalog.models import TaxRate
from clientledger.core import clock
from clientledger.crm.models import Client, Deal
from clientledger.lines.data import LineData
from tests.factories import ClientFactory, DealFactory, TaxRateFactory

# Mid-day UTC on a weekday, far from any date boundary in the agency's Europe/Berlin.
NOW = dt.datetime(2026, 11, 24, 12, 0, tzinfo=dt.UTC)
TODAY = NOW.date()
RECIPIENTS = ["ap@client.example"]


@pytest.fixture
def media_root(settings: Settings, tmp_path: Path) -> Path:
    """Stored PDFs go to a folder of this test only."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def frozen_now(monkeypatch: pytest.MonkeyPatch) -> Callable[[dt.datetime], None]:
    """Stop the application clock (`clock.now`, hence `clock.local_today`) at a moment."""

    def freeze(moment: dt.datetime) -> None:
        monkeypatch.setattr(clock, "now", lambda: moment)

    freeze(NOW)
    return freeze


@pytest.fixture
def buyer(agency: Agency) -> Client:
    return ClientFactory(
        agency=agency,
        name="Acme Corp",
        currency="USD",
        address_line1="1 Market Street",
        city="Springfield",
        tax_id="US-123",
    )


@pytest.fixture
def vat(agency: Agency) -> TaxRate:
    return TaxRateFactory(agency=agency, name="VAT", percent=Decimal("19"))


@pytest.fixture
def deal(buyer: Client) -> Deal:
    return DealFactory(client=buyer, agency=buyer.agency, title="Website relaunch")


def line(
    description: str = "Design work",
    quantity: str = "10",
    unit_price: str = "100.00",
    **fields: object,
) -> LineData:
    return LineData(
        description=description,
        quantity=Decimal(quantity),
        unit_price=Decimal(unit_price),
        **fields,  # type: ignore[arg-type]
    )


@pytest.fixture
def draft_invoice(buyer: Client, vat: TaxRate) -> Callable[..., Invoice]:
    """A draft invoice of `buyer`: by default 10 h at 100.00 plus 19 % VAT (1,190.00)."""

    def make(lines: list[LineData] | None = None, **fields: object) -> Invoice:
        return invoice_create(
            agency=buyer.agency,
            actor=None,
            client=buyer,
            lines=[line(taxes=[vat])] if lines is None else lines,
            **fields,  # type: ignore[arg-type]
        )

    return make


@pytest.fixture
def draft_estimate(buyer: Client, vat: TaxRate, owner: Membership) -> Callable[..., Estimate]:
    """A draft estimate of `buyer` written by the agency's owner: 1,190.00 by default."""

    def make(lines: list[LineData] | None = None, **fields: object) -> Estimate:
        return estimate_create(
            agency=buyer.agency,
            actor=owner.user,
            client=buyer,
            lines=[line(taxes=[vat])] if lines is None else lines,
            **fields,  # type: ignore[arg-type]
        )

    return make


@pytest.fixture
def sent_estimate(draft_estimate: Callable[..., Estimate]) -> Callable[..., Estimate]:
    def make(**fields: object) -> Estimate:
        return estimate_send(estimate=draft_estimate(**fields), actor=None, recipients=RECIPIENTS)

    return make
