"""What money does to an invoice: billing's settlement services move what was paid on it
and its status by the transition table, under the caller's invoice locks."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from clientledger.accounts.models import Agency
from clientledger.billing.models import Invoice, InvoiceStatus
from clientledger.billing.services.drafts import invoice_create
from clientledger.billing.services.invoices import invoice_issue, invoice_void
from clientledger.billing.services.settlement import (
    invoice_payable_check,
    invoice_payment_applied,
    invoice_payment_reversed,
    invoices_lock,
)
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db

# The default draft invoice: 10 h at 100.00 plus 19 % VAT.
TOTAL_MINOR = 119_000


@pytest.fixture
def issued(draft_invoice: Callable[..., Invoice], frozen_now: object) -> Invoice:
    return invoice_issue(invoice=draft_invoice(), actor=None)


def locked(invoice: Invoice) -> Invoice:
    return invoices_lock(agency=invoice.agency, ids=[invoice.pk])[invoice.pk]


def stored(invoice: Invoice) -> tuple[str, int]:
    invoice.refresh_from_db()
    return invoice.status, invoice.amount_paid_minor


def test_part_of_the_total_leaves_the_invoice_open(issued: Invoice) -> None:
    with transaction.atomic():
        invoice_payment_applied(invoice=locked(issued), amount_minor=40_000)

    assert stored(issued) == (InvoiceStatus.OPEN, 40_000)


def test_the_last_of_the_total_pays_the_invoice(issued: Invoice) -> None:
    with transaction.atomic():
        invoice = locked(issued)
        invoice_payment_applied(invoice=invoice, amount_minor=40_000)
        invoice_payment_applied(invoice=invoice, amount_minor=TOTAL_MINOR - 40_000)

    assert stored(issued) == (InvoiceStatus.PAID, TOTAL_MINOR)


def test_money_taken_back_reopens_a_paid_invoice(issued: Invoice) -> None:
    with transaction.atomic():
        invoice = locked(issued)
        invoice_payment_applied(invoice=invoice, amount_minor=TOTAL_MINOR)
        invoice_payment_reversed(invoice=invoice, amount_minor=10_000)

    assert stored(issued) == (InvoiceStatus.OPEN, TOTAL_MINOR - 10_000)


@pytest.mark.parametrize("status", [InvoiceStatus.DRAFT, InvoiceStatus.PAID, InvoiceStatus.VOID])
def test_only_an_open_invoice_takes_money(issued: Invoice, status: str) -> None:
    Invoice.objects.filter(pk=issued.pk).update(status=status)

    with transaction.atomic(), pytest.raises(ValidationError, match="only open invoices"):
        invoice_payment_applied(invoice=locked(issued), amount_minor=100)

    assert stored(issued) == (status, 0)


def test_the_refusal_names_the_field_it_is_on(issued: Invoice) -> None:
    void = invoice_void(invoice=issued, actor=None, reason="Sent twice")

    with pytest.raises(ValidationError) as refusal:
        invoice_payable_check(void, field="allocations")

    assert refusal.value.message_dict == {
        "allocations": [f"Invoice {void} is void; only open invoices can be paid."]
    }


def test_the_lock_takes_only_the_agencys_invoices_in_id_order(
    issued: Invoice, draft_invoice: Callable[..., Invoice], agency: Agency
) -> None:
    second = invoice_issue(invoice=draft_invoice(), actor=None)
    outsider = ClientFactory(currency="USD")
    foreign = invoice_create(agency=outsider.agency, actor=None, client=outsider, lines=[])

    with transaction.atomic():
        invoices = invoices_lock(agency=agency, ids=[second.pk, foreign.pk, issued.pk])

    assert list(invoices) == sorted([issued.pk, second.pk])
