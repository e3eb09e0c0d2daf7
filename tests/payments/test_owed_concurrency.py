"""Payments racing the day-turn of what clients owe under real PostgreSQL locks: payments
of invoices take the client's row then the rollup lock; the day-turn takes the rows it
moves then the same lock. Neither must deadlock or fail the other, and what the client owes
must end equal to its open invoices."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from clientledger.accounts.models import Agency
from clientledger.billing.models import Invoice, InvoiceStatus, OverdueAsOf
from clientledger.billing.services.rollups import overdue_advance
from clientledger.payments.models import PaymentMethod
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

ROUNDS = 20
# The day-turn moves the agency's date between today and a day on which the invoices due in
# 10 days are late, and back (an agency moving east and west): every turn moves the rows.
LATER = TODAY + dt.timedelta(days=15)


@pytest.fixture(autouse=True)
def rows_dated_now(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(timezone, "now", lambda: NOW)


def test_payments_and_day_turns_never_deadlock_and_leave_what_is_owed_exact(
    agency: Agency,
) -> None:
    buyer = ClientFactory(agency=agency, currency="USD", billing_email="")
    invoices = [issue_invoice(buyer, "100.00", due_in_days=10) for _ in range(ROUNDS)]
    start = threading.Barrier(2, timeout=30)
    failures: list[BaseException] = []
    busy: list[dt.date] = []

    def pay() -> None:
        try:
            for invoice in invoices:
                start.wait()
                payment_record_manual(
                    agency=agency,
                    actor=None,
                    client=buyer,
                    amount=Decimal("60.00"),
                    currency="USD",
                    received_on=TODAY,
                    method=PaymentMethod.BANK_TRANSFER,
                    allocations=[(invoice, Decimal("60.00"))],
                )
        except BaseException as exc:  # kept for the assertion, whatever it is
            failures.append(exc)
            start.abort()
        finally:
            connection.close()

    def turn() -> None:
        try:
            for round_number in range(ROUNDS):
                start.wait()
                day = LATER if round_number % 2 == 0 else TODAY
                if not overdue_advance(agency, day):
                    busy.append(day)
        except BaseException as exc:
            failures.append(exc)
            start.abort()
        finally:
            connection.close()

    workers = [threading.Thread(target=pay), threading.Thread(target=turn)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert not any(worker.is_alive() for worker in workers), "a thread is stuck"
    assert [exc for exc in failures if not isinstance(exc, threading.BrokenBarrierError)] == []
    # Whatever turn found a row busy is taken again, as the next sweep would.
    assert overdue_advance(agency, LATER)
    assert OverdueAsOf.objects.get(agency=agency).as_of == LATER
    open_balances = [
        invoice.balance_due_minor
        for invoice in Invoice.objects.filter(client=buyer, status=InvoiceStatus.OPEN)
    ]
    buyer.refresh_from_db()
    assert (buyer.owed_open_minor, buyer.owed_overdue_minor) == (
        sum(open_balances),
        sum(open_balances),
    )
    assert sum(open_balances) == ROUNDS * 4000
