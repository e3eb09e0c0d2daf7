"""Creating and issuing an invoice send the statements the work needs (DESIGN.md section 9),
and issuing still prices the lines from the live rates."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from clientledger.billing.models import DocumentCounter, InvoiceLine
from clientledger.billing.services.drafts import invoice_create
from clientledger.billing.services.invoices import invoice_issue
from clientledger.catalog.models import TaxRate
from clientledger.crm.models import Client
from tests.billing.conftest import line
from tests.statements import ledger_statements, owed_row_statements, rollup_statements

pytestmark = pytest.mark.django_db

# SAVEPOINT and RELEASE stand for the transaction's BEGIN and COMMIT in production.
TRANSACTION = 2
# The invoice priced in memory, then its row, its lines in one INSERT, the audit event.
CREATE_STATEMENTS = TRANSACTION + 3
# The invoice locked with its agency and client, the billing contact, the lines with their
# taxes, the counter's upsert, the invoice, the audit; the ledger entry with the client's
# balance; the rollups: what the invoice owes on its due date and the ledger's day sum, and
# what its client owes.
ISSUE_STATEMENTS = (
    TRANSACTION + 6 + ledger_statements(1) + rollup_statements(2) + owed_row_statements(1)
)


def test_a_draft_of_two_lines_is_created_in_three_statements(
    buyer: Client, vat: TaxRate, django_assert_num_queries: Any
) -> None:
    with django_assert_num_queries(CREATE_STATEMENTS):
        invoice_create(
            agency=buyer.agency,
            actor=None,
            client=buyer,
            lines=[line(taxes=[vat]), line(description="Travel")],
        )


@pytest.mark.parametrize("issued_before", [0, 1])
def test_issuing_takes_the_statements_its_work_needs_first_number_or_not(
    buyer: Client, vat: TaxRate, django_assert_num_queries: Any, issued_before: int
) -> None:
    rate = TaxRate.objects.get(pk=vat.pk)  # as the lines read it back: nothing to re-price
    for _ in range(issued_before):
        invoice_issue(
            invoice=invoice_create(
                agency=buyer.agency, actor=None, client=buyer, lines=[line(taxes=[rate])]
            ),
            actor=None,
        )
    draft = invoice_create(
        agency=buyer.agency, actor=None, client=buyer, lines=[line(taxes=[rate]), line()]
    )

    with django_assert_num_queries(ISSUE_STATEMENTS):
        issued = invoice_issue(invoice=draft, actor=None)

    assert issued.number.endswith(f"{issued_before + 1:05d}")
    assert DocumentCounter.objects.get().last_value == issued_before + 1


def test_a_rate_changed_since_the_draft_is_priced_at_issue_in_one_more_statement(
    buyer: Client, vat: TaxRate, django_assert_num_queries: Any
) -> None:
    draft = invoice_create(
        agency=buyer.agency, actor=None, client=buyer, lines=[line(taxes=[vat]), line()]
    )
    TaxRate.objects.filter(pk=vat.pk).update(percent=Decimal("20"))

    with django_assert_num_queries(ISSUE_STATEMENTS + 1):
        issued = invoice_issue(invoice=draft, actor=None)

    taxed = InvoiceLine.objects.get(invoice=issued, position=0)
    assert (taxed.tax_minor, taxed.tax_snapshot[0]["percent"]) == (20000, "20.0000")
    assert issued.total_minor == 100000 + 20000 + 100000
