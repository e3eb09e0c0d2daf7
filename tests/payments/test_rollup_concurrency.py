"""Payments racing on the reporting rollups under real PostgreSQL row locks: two clients'
payments, each allocated to two invoices whose due dates cross, must both be recorded (no
deadlock) and leave the rollups equal to their rebuild from the rows."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.apps import apps
from django.db import connection
from django.utils import timezone

from clientledger.accounts.models import Agency
from clientledger.billing.models import Invoice, LedgerDay, OwedDay
from clientledger.billing.rollups_rebuild import rollups_rebuild
from clientledger.crm.models import Client
from clientledger.payments.models import Payment, PaymentMethod
from clientledger.payments.services.manual import payment_record_manual
from tests.factories import ClientFactory
from tests.payments.conftest import NOW, TODAY, issue_invoice

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL row locks: SQLite runs one write transaction at a time",
    ),
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("frozen_now"),
]

ROUNDS = 25


@pytest.fixture(autouse=True)
def rows_dated_now(monkeypatch: pytest.MonkeyPatch) -> None:
    """The rows' own dates (an allocation's `created_at`) on the stopped clock too: the
    rebuild dates the moves by them."""
    monkeypatch.setattr(timezone, "now", lambda: NOW)


def rollup_rows(agency: Agency) -> set[tuple[object, ...]]:
    owed = OwedDay.objects.filter(agency=agency).exclude(owed_minor=0, open_count=0)
    ledger = LedgerDay.objects.filter(agency=agency).exclude(amount_minor=0)
    return set(
        owed.values_list("currency", "day", "due_date", "owed_minor", "open_count", "paid_minor")
    ) | set(ledger.values_list("currency", "day", "kind", "amount_minor"))


def crossing_invoices(client: Client, *, first_due_in: int) -> list[tuple[Invoice, Invoice]]:
    """`ROUNDS` pairs of invoices of `client`: the first of each due in `first_due_in` days,
    the second in the other of 10 and 20 days."""
    second_due_in = 30 - first_due_in
    return [
        (
            issue_invoice(client, "100.00", due_in_days=first_due_in),
            issue_invoice(client, "50.00", due_in_days=second_due_in),
        )
        for _ in range(ROUNDS)
    ]


def test_payments_crossing_due_dates_never_deadlock(agency: Agency) -> None:
    buyers = [ClientFactory(agency=agency, currency="USD", billing_email="") for _ in range(2)]
    # One client pays (due in 10 days, due in 20 days), the other (20, then 10).
    pairs = [
        crossing_invoices(buyers[0], first_due_in=10),
        crossing_invoices(buyers[1], first_due_in=20),
    ]
    start = threading.Barrier(2, timeout=30)
    failures: list[BaseException] = []

    def pay(index: int) -> None:
        try:
            for first, second in pairs[index]:
                start.wait()
                payment_record_manual(
                    agency=agency,
                    actor=None,
                    client=buyers[index],
                    amount=Decimal("150.00"),
                    currency="USD",
                    received_on=TODAY,
                    method=PaymentMethod.BANK_TRANSFER,
                    allocations=[(first, Decimal("100.00")), (second, Decimal("50.00"))],
                )
        except BaseException as exc:  # kept for the assertion, whatever it is
            failures.append(exc)
            start.abort()
        finally:
            connection.close()

    workers = [threading.Thread(target=pay, args=(index,)) for index in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert not any(worker.is_alive() for worker in workers), "a thread is stuck"
    assert [exc for exc in failures if not isinstance(exc, threading.BrokenBarrierError)] == []
    assert Payment.objects.filter(agency=agency).count() == 2 * ROUNDS
    kept = rollup_rows(agency)
    rollups_rebuild(apps)
    assert rollup_rows(agency) == kept
