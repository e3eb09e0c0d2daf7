"""Every query a pass of the sweeps runs reads its table through a partial index over the
pending rows: however many invoices, estimates, emails and refunds are done, a pass that
finds nothing to do reads nothing of them (PostgreSQL plans, read with EXPLAIN)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clientledger.billing.models import Estimate, EstimateStatus, Invoice, InvoiceStatus
from clientledger.core import clock
from clientledger.jobs.runner import run_sweeps_once
from clientledger.notifications.models import EmailMessage
from tests.factories import ClientFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="reads PostgreSQL's query plans"),
]

# A Tuesday afternoon: the reminder policies send, so their queries run too.
NOW = dt.datetime(2026, 11, 24, 15, 0, tzinfo=dt.UTC)
DONE_ROWS = 500

# The tables the sweeps find their work in, and the partial indexes allowed to read them.
PENDING_INDEXES = {
    "billing_invoice": {"invoice_pdf_pending_idx", "invoice_open_due_idx"},
    "billing_estimate": {"estimate_pdf_pending_idx", "estimate_sent_valid_idx"},
    "billing_creditnote": {"creditnote_pdf_pending_idx"},
    "notifications_emailmessage": {"email_due_idx"},
    "payments_striperequest": {"stripe_request_due_idx"},
    "recurring_recurringschedule": {"recurring_due_idx"},
}


def done_rows() -> None:
    """Documents with their PDF, answered estimates and sent emails: nothing to do."""
    client = ClientFactory()
    common: dict[str, Any] = {
        "agency": client.agency,
        "client": client,
        "currency": "USD",
        "pdf": "documents/done.pdf",
        "issue_date": NOW.date(),
    }
    Invoice.objects.bulk_create(
        Invoice(
            number=f"INV-{n}",
            status=InvoiceStatus.OPEN,
            due_date=NOW.date() + dt.timedelta(days=365),
            **common,
        )
        for n in range(DONE_ROWS)
    )
    Estimate.objects.bulk_create(
        Estimate(number=f"EST-{n}", status=EstimateStatus.APPROVED, **common)
        for n in range(DONE_ROWS)
    )
    EmailMessage.objects.bulk_create(
        EmailMessage(
            agency=client.agency, to=["x@example.com"], subject="Sent", body_text="", status="sent"
        )
        for _ in range(DONE_ROWS)
    )


def scans(plan: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(table, how) for every scan of a plan: the index's name, or the node type without one."""
    relation = plan.get("Relation Name")
    if relation is not None:
        if plan["Node Type"] == "Bitmap Heap Scan":
            yield from ((relation, index) for index in bitmap_indexes(plan))
        else:
            yield relation, plan.get("Index Name", plan["Node Type"])
    for child in plan.get("Plans", []):
        if child["Node Type"] != "Bitmap Index Scan":
            yield from scans(child)


def bitmap_indexes(plan: dict[str, Any]) -> Iterator[str]:
    for child in plan.get("Plans", []):
        if child["Node Type"] == "Bitmap Index Scan":
            yield child["Index Name"]
        else:
            yield from bitmap_indexes(child)


def test_a_pass_with_nothing_due_reads_pending_rows_through_partial_indexes_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    done_rows()
    monkeypatch.setattr(clock, "now", lambda: NOW)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
        with CaptureQueriesContext(connection) as captured:
            run_sweeps_once()
        reads = [query["sql"] for query in captured if query["sql"].startswith("SELECT")]
        # The tables are small for a test: only an index the condition allows may win.
        cursor.execute("SET LOCAL enable_seqscan = off")
        found: dict[str, set[str]] = {table: set() for table in PENDING_INDEXES}
        for sql in reads:
            cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}")
            raw = cursor.fetchone()[0]
            plan = (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]
            for table, index in scans(plan):
                if table in found:
                    found[table].add(index)

    assert {table: indexes - PENDING_INDEXES[table] for table, indexes in found.items()} == {
        table: set() for table in PENDING_INDEXES
    }
    # Each table was read: the pass did look for its work.
    assert all(found.values()), found
