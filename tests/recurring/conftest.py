"""Recurring test data: a client in USD with its won deal, a VAT rate and a stopped clock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

import pytest

from clientledger.accounts.models import Agency
from clientledger.catalog.models import TaxRate, UnitType
from clientledger.core import clock
from clientledger.crm.models import Client, Deal, DealStage
from clientledger.lines.choices import Recurrence
from clientledger.lines.data import LineData
from tests.factories import ClientFactory, DealFactory, TaxRateFactory

# Mid-day UTC, far from any date boundary in the agency's time zone.
NOW = dt.datetime(2026, 11, 24, 12, 0, tzinfo=dt.UTC)
TODAY = NOW.date()


@pytest.fixture
def frozen_now(monkeypatch: pytest.MonkeyPatch) -> Callable[[dt.datetime], None]:
    """Stop the application clock (`clock.now`, hence the agency's today) at a moment."""

    def freeze(moment: dt.datetime) -> None:
        monkeypatch.setattr(clock, "now", lambda: moment)

    freeze(NOW)
    return freeze


@pytest.fixture
def buyer(agency: Agency) -> Client:
    return ClientFactory.create(agency=agency, name="Acme Corp", currency="USD")


@pytest.fixture
def vat(agency: Agency) -> TaxRate:
    return TaxRateFactory.create(agency=agency, name="VAT", percent=Decimal("20"))


@pytest.fixture
def won_deal(buyer: Client) -> Deal:
    return DealFactory.create(client=buyer, agency=buyer.agency, title="SEO", stage=DealStage.WON)


def line(
    description: str = "SEO retainer",
    quantity: str = "1",
    unit_price: str = "650.00",
    **fields: object,
) -> LineData:
    """A monthly line by default: 1 month of SEO at 650.00."""
    fields.setdefault("unit", UnitType.MONTH)
    fields.setdefault("recurrence", Recurrence.MONTHLY)
    return LineData(
        description=description,
        quantity=Decimal(quantity),
        unit_price=Decimal(unit_price),
        **fields,  # type: ignore[arg-type]
    )
