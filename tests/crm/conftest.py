"""CRM test data: one client with a deal in the agency, a VAT rate and a catalog service."""

from __future__ import annotations

from decimal import Decimal

import pytest

from clientledger.accounts.models import Agency
from clientledger.catalog.models import Service, TaxRate
from clientledger.crm.models import Client, Contact, Deal, DealLine
from tests.factories import (
    ClientFactory,
    ContactFactory,
    DealFactory,
    DealLineFactory,
    ServiceFactory,
    TaxRateFactory,
)


@pytest.fixture
def acme(agency: Agency) -> Client:
    return ClientFactory(agency=agency, name="Acme Corp", currency="USD")


@pytest.fixture
def acme_contact(acme: Client) -> Contact:
    return ContactFactory(client=acme, name="Jane Buyer")


@pytest.fixture
def vat(agency: Agency) -> TaxRate:
    return TaxRateFactory(agency=agency, name="VAT", percent=Decimal("19"))


@pytest.fixture
def design(agency: Agency, vat: TaxRate) -> Service:
    return ServiceFactory(
        agency=agency,
        name="Design",
        default_unit_price=Decimal("100.00"),
        currency="USD",
        default_tax_1=vat,
    )


@pytest.fixture
def deal(acme: Client) -> Deal:
    return DealFactory(client=acme, title="Website relaunch")


@pytest.fixture
def deal_line(deal: Deal) -> DealLine:
    return DealLineFactory(deal=deal, description="Discovery workshop")
