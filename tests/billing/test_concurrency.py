"""Numbers and approvals under real concurrency: threads with their own PostgreSQL
connections racing for the same counter row and the same estimate."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from decimal import Decimal
from functools import partial

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from clientledger.accounts.models import Agency
from clientledger.billing.ledger import ledger_mismatches
from clientledger.billing.models import (
    DocumentCounter,
    DocumentSeries,
    Estimate,
    EstimateStatus,
    Invoice,
    InvoiceLine,
    LedgerEntry,
)
from clientledger.billing.services.estimates import estimate_approve
from clientledger.billing.services.invoices import invoice_issue
from clientledger.billing.services.sending import estimate_send
from clientledger.core.models import AuditEvent
from clientledger.crm.models import Client
from clientledger.notifications.models import EmailMessage
from tests.billing.conftest import RECIPIENTS

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL row locks: SQLite runs one write transaction at a time, so "
        "it cannot race; CI runs these with DATABASE_URL=postgres://...",
    ),
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("frozen_now"),
]

Outcome = object


def run_concurrently(
    calls: list[Callable[[], Outcome]], threads: int, *, timeout: float = 60
) -> list[Outcome]:
    """Run `calls` spread over `threads` threads released at the same instant. A call's
    outcome is its result or the exception it raised; each thread closes its connection.
    All must be done within `timeout` seconds, or a thread is stuck."""
    start = threading.Barrier(threads, timeout=30)
    shares: list[list[Outcome]] = [[] for _ in range(threads)]

    def work(index: int) -> None:
        try:
            start.wait()
            for call in calls[index::threads]:
                try:
                    shares[index].append(call())
                except Exception as exc:  # kept for the assertions, whatever it is
                    shares[index].append(exc)
        finally:
            connection.close()

    workers = [threading.Thread(target=work, args=(index,)) for index in range(threads)]
    for worker in workers:
        worker.start()
    deadline = time.monotonic() + timeout
    for worker in workers:
        worker.join(timeout=max(0.0, deadline - time.monotonic()))
    assert not any(worker.is_alive() for worker in workers), "a thread is stuck"
    return [outcome for share in shares for outcome in share]


def test_two_hundred_concurrent_issues_take_the_next_two_hundred_numbers(
    agency: Agency, buyer: Client
) -> None:
    # Drafts written in bulk: issuing prices them again from their lines.
    drafts = Invoice.objects.bulk_create(
        Invoice(agency=agency, client=buyer, currency="USD") for _ in range(200)
    )
    InvoiceLine.objects.bulk_create(
        InvoiceLine(
            agency=agency,
            invoice=draft,
            description="Monthly retainer",
            quantity=Decimal("1"),
            unit_price=Decimal("100.00"),
        )
        for draft in drafts
    )

    outcomes = run_concurrently(
        [partial(invoice_issue, invoice=draft, actor=None) for draft in drafts], threads=16
    )

    failures = [outcome for outcome in outcomes if not isinstance(outcome, Invoice)]
    assert failures == []
    numbers = sorted(Invoice.objects.values_list("number", flat=True))
    assert numbers == [f"INV-2026-{sequence:05d}" for sequence in range(1, 201)]
    counter = DocumentCounter.objects.get(agency=agency, series=DocumentSeries.INVOICE)
    assert counter.last_value == 200
    assert LedgerEntry.objects.count() == 200
    assert ledger_mismatches() == []


def test_a_hundred_concurrent_approvals_approve_once_and_convert_at_most_once(
    agency: Agency, sent_estimate: Callable[..., Estimate]
) -> None:
    agency.auto_convert_approved_estimates = True
    agency.save()
    estimate = sent_estimate()

    approve = partial(
        estimate_approve, estimate=estimate, name="Ada", ip="203.0.113.9", user_agent="Test/1.0"
    )
    outcomes = run_concurrently([approve] * 100, threads=20)

    approvals = [outcome for outcome in outcomes if isinstance(outcome, Estimate)]
    refusals = [outcome for outcome in outcomes if isinstance(outcome, ValidationError)]
    assert (len(approvals), len(refusals)) == (1, 99)
    events = AuditEvent.objects.filter(subject_type="billing.estimate", subject_id=estimate.pk)
    assert events.filter(verb="estimate.approved").count() == 1
    assert Invoice.objects.filter(estimate=estimate).count() <= 1
    estimate.refresh_from_db()
    assert estimate.status == EstimateStatus.CONVERTED
    assert EmailMessage.objects.filter(subject__contains="approved").count() == 1


def test_twenty_concurrent_first_sends_get_twenty_distinct_numbers(
    draft_estimate: Callable[..., Estimate],
) -> None:
    drafts = [draft_estimate() for _ in range(20)]

    outcomes = run_concurrently(
        [
            partial(estimate_send, estimate=draft, actor=None, recipients=RECIPIENTS)
            for draft in drafts
        ],
        threads=20,
    )

    failures = [outcome for outcome in outcomes if not isinstance(outcome, Estimate)]
    assert failures == []
    numbers = sorted(Estimate.objects.values_list("number", flat=True))
    assert numbers == [f"EST-2026-{sequence:05d}" for sequence in range(1, 21)]
    assert EmailMessage.objects.count() == 20
