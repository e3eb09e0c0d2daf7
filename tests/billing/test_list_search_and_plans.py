"""Document search by the start of the number or a part of the client's name, the same on
SQLite and PostgreSQL, and on PostgreSQL the plans that keep the lists fast at scale: the
number prefix on its pattern index and the overdue list on the partial index of open
invoices' due dates, in its order."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from django.db import connection

from clientledger.accounts.models import Agency
from clientledger.billing.models import CreditNote, Invoice, InvoiceStatus
from clientledger.billing.selectors.lists import (
    NARROW_SEARCH,
    DocumentFilters,
    InvoiceFilters,
    credit_note_list,
    invoice_list,
    list_ordering,
)
from clientledger.crm.models import Client
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 24)
on_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="PostgreSQL's plans and indexes"
)


def invoices(agency: Agency, client: Client, count: int, *, prefix: str = "INV-") -> None:
    """Issued invoices numbered `prefix`00000...; every tenth open, half of those past due."""
    Invoice.objects.bulk_create(
        Invoice(
            agency=agency,
            client=client,
            currency="USD",
            number=f"{prefix}{index:05d}",
            status=InvoiceStatus.OPEN if index % 10 == 0 else InvoiceStatus.PAID,
            issue_date=TODAY - dt.timedelta(days=60),
            due_date=TODAY + dt.timedelta(days=-5 if index % 20 == 0 else 5),
            total_minor=10_000,
        )
        for index in range(count)
    )


def numbers(agency: Agency, search: str) -> set[str]:
    found = invoice_list(agency=agency, filters=InvoiceFilters(search=search), today=TODAY)
    return set(found.values_list("number", flat=True))


@pytest.fixture
def acme(agency: Agency) -> Client:
    return ClientFactory(agency=agency, name="Acme Robotics")


@pytest.fixture
def globex(agency: Agency) -> Client:
    return ClientFactory(agency=agency, name="Globex")


def test_the_number_matches_from_its_start_in_any_case(
    agency: Agency, acme: Client, globex: Client
) -> None:
    invoices(agency, acme, 3, prefix="INV-A")
    invoices(agency, globex, 3, prefix="INV-B")

    assert numbers(agency, "inv-b0000") == {"INV-B00000", "INV-B00001", "INV-B00002"}
    assert numbers(agency, "INV-A00001") == {"INV-A00001"}
    assert numbers(agency, "00001") == set()
    assert numbers(agency, "100%") == set()


def test_the_client_name_matches_anywhere_in_any_case(
    agency: Agency, acme: Client, globex: Client
) -> None:
    invoices(agency, acme, 2, prefix="INV-A")
    invoices(agency, globex, 2, prefix="INV-B")

    assert numbers(agency, "ROBOT") == {"INV-A00000", "INV-A00001"}
    assert numbers(agency, "lobe") == {"INV-B00000", "INV-B00001"}


def test_a_broad_search_finds_the_same_as_a_narrow_one_would(
    agency: Agency, acme: Client, globex: Client
) -> None:
    invoices(agency, acme, NARROW_SEARCH + 5, prefix="INV-A")
    invoices(agency, globex, 3, prefix="INV-B")

    assert len(numbers(agency, "inv-")) == NARROW_SEARCH + 8
    assert numbers(agency, "globex") == {"INV-B00000", "INV-B00001", "INV-B00002"}


def test_another_agencys_documents_never_match(agency: Agency, acme: Client) -> None:
    elsewhere = ClientFactory(name="Acme Elsewhere")
    invoices(elsewhere.agency, elsewhere, 2)

    assert numbers(agency, "acme") == set()
    assert numbers(agency, "INV-") == set()


def test_a_credit_note_is_found_by_its_invoices_number(agency: Agency, acme: Client) -> None:
    invoices(agency, acme, 1, prefix="INV-C")
    invoice = Invoice.objects.get(number="INV-C00000")
    CreditNote.objects.create(
        agency=agency, client=acme, invoice=invoice, currency="USD", number="CN-00001"
    )

    found = credit_note_list(agency=agency, filters=DocumentFilters(search="inv-c"))

    assert [note.number for note in found] == ["CN-00001"]


@pytest.fixture
def planned() -> Iterator[None]:
    """Plans as on a large table: sequential scans (which a test-sized table would get) cost
    the planner more than any index; each test analyses its tables once they are filled."""
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
    yield
    with connection.cursor() as cursor:
        cursor.execute("RESET enable_seqscan")


def analyse() -> None:
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE billing_invoice")
        cursor.execute("ANALYZE crm_client")


@on_postgres
def test_the_number_prefix_reads_its_pattern_index(
    agency: Agency, acme: Client, planned: None
) -> None:
    invoices(agency, acme, 2000)
    analyse()

    plan = Invoice.objects.filter(agency=agency, number__istartswith="inv-0004").explain()

    assert "billing_invoice_number_prefix" in plan


@on_postgres
def test_client_names_are_searched_by_their_trigram_index(
    agency: Agency, acme: Client, planned: None
) -> None:
    Client.objects.bulk_create(
        Client(agency=agency, name=f"Studio {index}", currency="USD") for index in range(20_000)
    )
    analyse()

    # What the document search asks (`_searched`): the clients whose name contains it.
    plan = Client.objects.filter(name__icontains="robot").order_by().values("pk").explain()

    assert "crm_client_name_trgm" in plan


@on_postgres
def test_the_overdue_list_reads_the_partial_index_in_its_order(
    agency: Agency, acme: Client, planned: None
) -> None:
    invoices(agency, acme, 4000)
    analyse()
    filters = InvoiceFilters(overdue=True)
    overdue = invoice_list(agency=agency, filters=filters, today=TODAY)

    plan = overdue.order_by(*list_ordering(filters))[:26].explain()

    assert "invoice_open_due_idx" in plan
    assert list(overdue.order_by(*list_ordering(filters)).values_list("number", flat=True))[:2] == [
        "INV-00000",
        "INV-00020",
    ]
