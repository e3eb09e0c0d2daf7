"""Billing reads: recipients offered for sending, a record's documents and overdue sums,
and the agency scoping of every read."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

import pytest

from clientledger.accounts.models import Agency
from clientledger.billing.models import Estimate, Invoice, InvoiceStatus
from clientledger.billing.selectors import (
    InvoiceFilters,
    client_documents,
    deal_documents,
    document_recipients,
    estimate_get,
    invoice_list,
)
from clientledger.billing.services.invoices import invoice_issue, invoice_void
from clientledger.crm.models import Client, Deal
from tests.billing.conftest import TODAY
from tests.factories import AgencyFactory, ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def stopped_clock(frozen_now: Callable[[dt.datetime], None]) -> None:
    """Every test here runs on 2026-11-24 (Europe/Berlin)."""


def test_recipients_suggest_billing_addresses_first_and_list_each_once(buyer: Client) -> None:
    buyer.billing_email = "Accounts@Acme.example"
    buyer.save()
    ContactFactory(client=buyer, name="Zoe", email="zoe@acme.example")
    ContactFactory(client=buyer, name="Amy", email="accounts@acme.example")
    ContactFactory(client=buyer, name="Bob", email="bob@acme.example", is_billing_contact=True)
    ContactFactory(client=buyer, name="Nobody", email="")
    recipients = document_recipients(client=buyer)
    assert [(r.email, r.is_billing) for r in recipients] == [
        ("bob@acme.example", True),
        ("accounts@acme.example", True),
        ("zoe@acme.example", False),
    ]


def test_the_billing_email_is_offered_when_no_contact_has_it(buyer: Client) -> None:
    assert [(r.label, r.is_billing) for r in document_recipients(client=buyer)] == [
        (f"Billing email <{buyer.billing_email}>", True)
    ]


def test_a_clients_overdue_amount_is_the_balance_of_its_open_invoices_past_due(
    buyer: Client, draft_invoice: Callable[..., Invoice], agency: Agency
) -> None:
    yesterday = TODAY - dt.timedelta(days=1)
    issued_long_ago = {"issue_date": dt.date(2026, 9, 1), "due_date": yesterday}
    part_paid = invoice_issue(invoice=draft_invoice(), actor=None, **issued_long_ago)
    Invoice.objects.filter(pk=part_paid.pk).update(amount_paid_minor=19_000)
    invoice_issue(invoice=draft_invoice(), actor=None, **issued_long_ago)
    voided = invoice_issue(invoice=draft_invoice(), actor=None, **issued_long_ago)
    invoice_void(invoice=voided, actor=None, reason="Duplicate")
    invoice_issue(invoice=draft_invoice(), actor=None, due_date=TODAY)
    draft_invoice()

    documents = client_documents(agency=agency, client=buyer)
    # 1,190 - 190 paid, plus 1,190; the voided, the not-yet-due and the draft do not count.
    assert documents.overdue == Decimal("2190.00")
    assert documents.overdue_count == 2
    assert (documents.estimate_count, documents.invoice_count) == (0, 5)
    balances = {row.document.status: row.balance_due for row in documents.rows}
    assert balances[InvoiceStatus.VOID] is None and balances[InvoiceStatus.DRAFT] is None
    assert [row.is_overdue for row in documents.rows].count(True) == 2


def test_a_deals_documents_are_only_its_own(
    deal: Deal, draft_invoice: Callable[..., Invoice], agency: Agency
) -> None:
    mine = draft_invoice(deal=deal)
    draft_invoice()
    documents = deal_documents(agency=agency, deal=deal)
    assert [row.document for row in documents.rows] == [mine]
    assert documents.list_query == f"deal={deal.pk}"


def test_a_deals_outstanding_and_overdue_amounts_come_from_its_own_invoices(
    deal: Deal, draft_invoice: Callable[..., Invoice], agency: Agency
) -> None:
    yesterday = TODAY - dt.timedelta(days=1)
    late = {"issue_date": dt.date(2026, 9, 1), "due_date": yesterday}
    part_paid = invoice_issue(invoice=draft_invoice(deal=deal), actor=None, **late)
    Invoice.objects.filter(pk=part_paid.pk).update(amount_paid_minor=19_000)
    invoice_issue(invoice=draft_invoice(deal=deal), actor=None, due_date=TODAY)
    paid = invoice_issue(invoice=draft_invoice(deal=deal), actor=None)
    Invoice.objects.filter(pk=paid.pk).update(
        status=InvoiceStatus.PAID, amount_paid_minor=paid.total_minor
    )
    voided = invoice_issue(invoice=draft_invoice(deal=deal), actor=None, **late)
    invoice_void(invoice=voided, actor=None, reason="Duplicate")
    draft_invoice(deal=deal)
    invoice_issue(invoice=draft_invoice(), actor=None, **late)

    documents = deal_documents(agency=agency, deal=deal)

    # Open: 1,190 - 190 paid, plus 1,190 not yet due; only the first is past due.
    assert (documents.outstanding, documents.outstanding_count) == (Decimal("2190.00"), 2)
    assert (documents.overdue, documents.overdue_count) == (Decimal("1000.00"), 1)


def test_reads_are_scoped_to_the_agency(
    draft_invoice: Callable[..., Invoice], draft_estimate: Callable[..., Estimate]
) -> None:
    invoice = draft_invoice()
    estimate = draft_estimate()
    stranger = AgencyFactory()
    with pytest.raises(Estimate.DoesNotExist):
        estimate_get(agency=stranger, pk=estimate.pk)
    assert not invoice_list(agency=stranger, filters=InvoiceFilters(), today=TODAY).exists()
    assert list(invoice_list(agency=invoice.agency, filters=InvoiceFilters(), today=TODAY)) == [
        invoice
    ]
