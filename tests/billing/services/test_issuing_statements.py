"""Creating and issuing an invoice send the statements the work needs (DESIGN.md section 9),
and issuing prices the lines again, from the live rates, exactly when what prices them changed
since the draft was saved."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clientledger.accounts.models import Agency, TaxRounding
from clientledger.billing.models import DocumentCounter, Invoice, InvoiceLine
from clientledger.billing.services.common import document_lock
from clientledger.billing.services.drafts import invoice_create
from clientledger.billing.services.invoices import invoice_issue
from clientledger.billing.services.snapshots import snapshot_freeze
from clientledger.catalog.models import TaxRate
from clientledger.crm.models import Client
from clientledger.lines.data import LineData
from tests.billing.conftest import line
from tests.statements import ledger_statements, owed_row_statements, rollup_statements

pytestmark = pytest.mark.django_db

# SAVEPOINT and RELEASE stand for the transaction's BEGIN and COMMIT in production.
TRANSACTION = 2
# The invoice priced in memory, then its row, its lines in one INSERT, the audit event.
CREATE_STATEMENTS = TRANSACTION + 3
# The invoice locked with its agency and client, the billing contact's name, what prices the
# lines (with their taxes), the counter's upsert, the invoice, the audit; the ledger entry with
# the client's balance; the rollups: what the invoice owes on its due date and the ledger's
# day sum, and what its client owes.
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


def test_a_rate_changed_since_the_draft_is_priced_at_issue_in_two_more_statements(
    buyer: Client, vat: TaxRate, django_assert_num_queries: Any
) -> None:
    draft = invoice_create(
        agency=buyer.agency, actor=None, client=buyer, lines=[line(taxes=[vat]), line()]
    )
    TaxRate.objects.filter(pk=vat.pk).update(percent=Decimal("20"))

    # The lines read whole to be priced again, and the changed ones written.
    with django_assert_num_queries(ISSUE_STATEMENTS + 2):
        issued = invoice_issue(invoice=draft, actor=None)

    taxed = InvoiceLine.objects.get(invoice=issued, position=0)
    assert (taxed.tax_minor, taxed.tax_snapshot[0]["percent"]) == (20000, "20.0000")
    assert issued.total_minor == 100000 + 20000 + 100000


def test_an_unchanged_draft_is_issued_without_writing_its_lines_or_totals_again(
    buyer: Client, vat: TaxRate
) -> None:
    rate = TaxRate.objects.get(pk=vat.pk)
    draft = invoice_create(
        agency=buyer.agency, actor=None, client=buyer, lines=[line(taxes=[rate]), line()]
    )

    with CaptureQueriesContext(connection) as captured:
        invoice_issue(invoice=draft, actor=None)

    invoice_table = Invoice._meta.db_table
    writes = [query["sql"] for query in captured.captured_queries if "UPDATE" in query["sql"]]
    assert not any(InvoiceLine._meta.db_table in sql for sql in writes)
    (invoice_update,) = [sql for sql in writes if f'UPDATE "{invoice_table}"' in sql]
    assert "total_minor" not in invoice_update


def test_a_renamed_rate_reaches_the_tax_snapshots_at_issue(buyer: Client, vat: TaxRate) -> None:
    draft = invoice_create(
        agency=buyer.agency, actor=None, client=buyer, lines=[line(taxes=[vat]), line()]
    )
    TaxRate.objects.filter(pk=vat.pk).update(name="MwSt")

    issued = invoice_issue(invoice=draft, actor=None)

    taxed = InvoiceLine.objects.get(invoice=issued, position=0)
    assert taxed.tax_snapshot[0]["name"] == "MwSt"
    assert Invoice.objects.get(pk=issued.pk).tax_breakdown[0]["name"] == "MwSt"


def test_the_agencys_rounding_changed_since_the_draft_is_applied_at_issue(
    agency: Agency, buyer: Client, vat: TaxRate
) -> None:
    # Three lines of 0.13 at 19 %: 0.0247 of tax each, 0.02 rounded per line (0.06 in all),
    # 0.0741 rounded once per document (0.07).
    Agency.objects.filter(pk=agency.pk).update(tax_rounding=TaxRounding.LINE)
    buyer.agency = Agency.objects.get(pk=agency.pk)
    lines = [line(quantity="1", unit_price="0.13", taxes=[vat]) for _ in range(3)]
    draft = invoice_create(agency=buyer.agency, actor=None, client=buyer, lines=lines)
    assert draft.tax_total_minor == 6
    Agency.objects.filter(pk=agency.pk).update(tax_rounding=TaxRounding.DOCUMENT)

    issued = invoice_issue(invoice=draft, actor=None)

    stored = Invoice.objects.get(pk=issued.pk)
    assert (stored.tax_total_minor, stored.total_minor) == (7, 39 + 7)


def test_a_client_made_tax_exempt_since_the_draft_is_issued_without_tax(
    buyer: Client, vat: TaxRate
) -> None:
    draft = invoice_create(agency=buyer.agency, actor=None, client=buyer, lines=[line(taxes=[vat])])
    Client.objects.filter(pk=buyer.pk).update(tax_exempt=True)

    issued = invoice_issue(invoice=draft, actor=None)

    stored = Invoice.objects.get(pk=issued.pk)
    assert (stored.tax_total_minor, stored.total_minor) == (0, 100000)
    assert InvoiceLine.objects.get(invoice=issued).tax_snapshot == []


def test_a_draft_saved_before_its_pricing_was_fingerprinted_is_priced_at_issue(
    buyer: Client, vat: TaxRate
) -> None:
    draft = invoice_create(agency=buyer.agency, actor=None, client=buyer, lines=[line(taxes=[vat])])
    Invoice.objects.filter(pk=draft.pk).update(priced_from="", total_minor=1)

    issued = invoice_issue(invoice=draft, actor=None)

    stored = Invoice.objects.get(pk=issued.pk)
    assert stored.total_minor == 119000
    assert stored.priced_from


quantities = st.decimals(min_value=Decimal("0.0001"), max_value=Decimal(1000), places=4)
prices = st.decimals(min_value=Decimal(0), max_value=Decimal(10000), places=2)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(
        st.tuples(
            quantities,
            prices,
            st.sampled_from([("", "0"), ("percent", "12.5"), ("amount", "0.5")]),
            st.booleans(),
        ),
        min_size=1,
        max_size=3,
    ),
    rounding=st.sampled_from(TaxRounding.values),
)
def test_a_draft_read_back_as_issuing_reads_it_is_not_priced_again(
    agency: Agency,
    buyer: Client,
    vat: TaxRate,
    rows: list[tuple[Decimal, Decimal, tuple[str, str], bool]],
    rounding: str,
) -> None:
    """Quantities and prices as typed (3, 120.5) and as their columns give them back
    (3.0000, 120.50) fingerprint alike: an unchanged draft is never priced twice."""
    Agency.objects.filter(pk=agency.pk).update(tax_rounding=rounding)
    buyer.agency = Agency.objects.get(pk=agency.pk)
    rate = TaxRate.objects.get(pk=vat.pk)
    draft = invoice_create(
        agency=buyer.agency,
        actor=None,
        client=buyer,
        lines=[
            LineData(
                description="Work",
                quantity=quantity.normalize(),
                unit_price=price.normalize(),
                discount_kind=discount[0],
                discount_value=Decimal(discount[1]),
                taxes=[rate] if taxed else [],
            )
            for quantity, price, discount, taxed in rows
        ],
    )

    with transaction.atomic():
        assert snapshot_freeze(document_lock(draft)) is False
