"""Documents built through the billing services, as a client would receive them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from pytest_django import Settings

from clientledger.accounts.models import Agency
from clientledger.billing.models import Estimate, Invoice
from clientledger.billing.services.drafts import estimate_create_from_deal, invoice_create_from_deal
from clientledger.billing.services.invoices import invoice_issue
from clientledger.billing.services.portal_links import portal_link_create
from clientledger.billing.services.sending import estimate_send
from clientledger.crm.models import Deal
from tests.factories import AgencyFactory, DealFactory, DealLineFactory


@pytest.fixture(autouse=True)
def media_in_tmp(settings: Settings, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def deal_with_lines(agency: Agency | None = None, *, lines: int = 2, **deal: Any) -> Deal:
    agency = agency or AgencyFactory(name="Northwind Studio")
    made = DealFactory(client__agency=agency, agency=agency, **deal)
    for position in range(lines):
        DealLineFactory(deal=made, description=f"Design sprint {position + 1}")
    return made


SentEstimate = Callable[..., tuple[Estimate, str]]
IssuedInvoice = Callable[..., tuple[Invoice, str]]


@pytest.fixture
def sent_estimate(db: None) -> SentEstimate:
    """A sent estimate and a live portal token for it."""

    def make(deal: Deal | None = None, **kwargs: Any) -> tuple[Estimate, str]:
        estimate = estimate_create_from_deal(deal=deal or deal_with_lines(**kwargs), actor=None)
        estimate = estimate_send(estimate=estimate, actor=None, recipients=["x@example.com"])
        _, token = portal_link_create(document=estimate, actor=None)
        return estimate, token

    return make


@pytest.fixture
def issued_invoice(db: None) -> IssuedInvoice:
    """An issued invoice and a live portal token for it."""

    def make(deal: Deal | None = None, **kwargs: Any) -> tuple[Invoice, str]:
        invoice = invoice_create_from_deal(deal=deal or deal_with_lines(**kwargs), actor=None)
        invoice = invoice_issue(invoice=invoice, actor=None)
        _, token = portal_link_create(document=invoice, actor=None)
        return invoice, token

    return make
