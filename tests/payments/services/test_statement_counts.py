"""Recording a payment sends the statements its work needs (DESIGN.md section 9): the two
locks, the key lookup when a key is given, and one write per row it books."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from clientledger.crm.models import Client
from clientledger.payments.services.manual import payment_record_manual
from tests.payments.conftest import TODAY, OpenInvoice
from tests.statements import ledger_statements, owed_row_statements, rollup_statements

pytestmark = pytest.mark.django_db

# SAVEPOINT and RELEASE (the test's transaction: BEGIN and COMMIT in production), the
# invoices' and the client's locks, then the payment, its allocation, the invoice's paid
# total, the audit event and the receipt; the ledger entry with the client's balance; the
# rollups: what the invoice owes on its due date and the ledger's day sum, and what its client
# owes.
ONE_ALLOCATION_STATEMENTS = (
    2 + 2 + 5 + ledger_statements(1) + rollup_statements(2) + owed_row_statements(1)
)


@pytest.mark.parametrize(("key", "lookups"), [(None, 0), ("form-42", 1)])
def test_recording_a_payment_of_one_invoice_takes_the_statements_its_work_needs(
    payer: Client,
    open_invoice: OpenInvoice,
    django_assert_num_queries: Any,
    key: str | None,
    lookups: int,
) -> None:
    invoice = open_invoice("100.00")

    with django_assert_num_queries(ONE_ALLOCATION_STATEMENTS + lookups):
        payment_record_manual(
            agency=payer.agency,
            actor=None,
            client=payer,
            amount=Decimal("100.00"),
            currency="USD",
            received_on=TODAY,
            method="bank_transfer",
            allocations=[(invoice, Decimal("100.00"))],
            idempotency_key=key,
        )


def test_paying_the_open_invoices_oldest_first_finds_and_locks_them_in_one_statement(
    payer: Client, open_invoice: OpenInvoice, django_assert_num_queries: Any
) -> None:
    open_invoice("60.00")
    open_invoice("40.00")

    # Two allocations: their rows, their invoices' paid totals and what they owe (the day's
    # and the client's) are four statements each.
    with django_assert_num_queries(
        ONE_ALLOCATION_STATEMENTS + 2 + rollup_statements(1) + owed_row_statements(1)
    ):
        payment_record_manual(
            agency=payer.agency,
            actor=None,
            client=payer,
            amount=Decimal("100.00"),
            currency="USD",
            received_on=TODAY,
            method="bank_transfer",
        )


def test_a_retried_key_answers_the_first_payment_after_the_locks_and_one_lookup(
    payer: Client, open_invoice: OpenInvoice, django_assert_num_queries: Any
) -> None:
    invoice = open_invoice("100.00")
    fields: dict[str, Any] = {
        "agency": payer.agency,
        "actor": None,
        "client": payer,
        "amount": Decimal("100.00"),
        "currency": "USD",
        "received_on": TODAY,
        "method": "bank_transfer",
        "allocations": [(invoice, Decimal("100.00"))],
        "idempotency_key": "form-42",
    }
    first = payment_record_manual(**fields)

    with django_assert_num_queries(2 + 2 + 1):
        assert payment_record_manual(**fields) == first
