"""Aging and DSO on a history written out by hand: 10 invoices, 6 payments and one credit
note of one agency (Europe/Berlin), read as of 30 June 2026 and again on 15 August.

| invoice | client | issued | due   | total   | by 30 June                        | after        |
|---------|--------|--------|-------|---------|-----------------------------------|--------------|
| I1      | Acme   | 01-10  | 02-09 | 1000.00 | paid 02-05 (P1)                   |              |
| I2      | Acme   | 03-01  | 03-31 |  800.00 | 300 paid 04-10 (P2): owes 500     | 500 07-10 P5 |
| I3      | Acme   | 04-01  | 05-01 |  600.00 | owes 600                          |              |
| I4      | Beta   | 04-15  | 04-30 |  450.00 | credit note 150 05-20: owes 300   |              |
| I5      | Beta   | 05-20  | 06-19 | 1200.00 | 200 paid 06-25 (P3): owes 1000    | 1000 07-15 P6|
| I6      | Beta   | 06-01  | 07-01 |  700.00 | owes 700                          |              |
| I7      | Acme   | 06-20  | 06-30 |  250.00 | owes 250 (due that day: current)  |              |
| I8      | Acme   | 06-15  | 06-29 |   90.00 | paid 06-30 noon UTC (P4)          |              |
| I9      | Beta   | 06-10  | 06-20 |  500.00 | voided 06-12                      |              |
| I10     | Acme   | 07-05  | 08-04 |  400.00 | not issued yet                    |              |

Aging on 30 June (days past due = 30 June - due date): current I6 + I7 = 950.00; 1-30 I5
(11 days) = 1000.00; 31-60 I3 (60 days) = 600.00; 61-90 I4 (61 days) = 300.00; over 90 I2 (91
days) = 500.00; total 3350.00 over 6 invoices.

DSO on 30 June: credit sales of the 90 days 2 April to 30 June (I3 on 1 April is out) =
I4 450 - credit note 150 + I5 1200 + I6 700 + I9 500 - its void 500 + I8 90 + I7 250 = 2540.00;
DSO = 3350 / 2540 x 90 = 118.70 -> 118.7 days.

On 15 August: I3 600 (106 days) and I4 300 (107) are over 90; I6 700 (45) and I7 250 (46)
31-60; I10 400 (11) 1-30: total 2250.00.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from clientledger.accounts.models import Agency
from clientledger.billing.models import Invoice
from clientledger.crm.models import Client
from clientledger.reporting.selectors.aging import aging_by_client, aging_invoices, aging_summary
from clientledger.reporting.selectors.common import Bucket
from clientledger.reporting.selectors.dso import dso_trend
from tests.factories import ClientFactory
from tests.reporting.conftest import (
    Clock,
    credit_note_issued,
    invoice_issued,
    invoice_voided,
    payment_made,
)

pytestmark = pytest.mark.django_db

AS_OF = dt.date(2026, 6, 30)
TODAY = dt.date(2026, 8, 15)


def d(month: int, day: int) -> dt.date:
    return dt.date(2026, month, day)


@pytest.fixture
def history(agency: Agency, clock_at: Clock) -> dict[str, str]:
    """The table above, in the order it happened; the invoices' numbers by name."""
    acme = ClientFactory(agency=agency, name="Acme", currency="USD")
    beta = ClientFactory(agency=agency, name="Beta", currency="USD")
    numbers: dict[str, str] = {}

    def issue(name: str, client: Client, total: str, on: dt.date, due: dt.date) -> Invoice:
        clock_at.set(on)
        invoice = invoice_issued(client, total, on=on, due=due)
        numbers[name] = invoice.number
        return invoice

    i1 = issue("I1", acme, "1000.00", d(1, 10), d(2, 9))
    clock_at.set(d(2, 5))
    payment_made(acme, "1000.00", on=d(2, 5), to=i1)
    i2 = issue("I2", acme, "800.00", d(3, 1), d(3, 31))
    issue("I3", acme, "600.00", d(4, 1), d(5, 1))
    clock_at.set(d(4, 10))
    payment_made(acme, "300.00", on=d(4, 10), to=i2)
    i4 = issue("I4", beta, "450.00", d(4, 15), d(4, 30))
    i5 = issue("I5", beta, "1200.00", d(5, 20), d(6, 19))
    credit_note_issued(i4, "150.00")
    issue("I6", beta, "700.00", d(6, 1), d(7, 1))
    i9 = issue("I9", beta, "500.00", d(6, 10), d(6, 20))
    clock_at.set(d(6, 12))
    invoice_voided(i9)
    i8 = issue("I8", acme, "90.00", d(6, 15), d(6, 29))
    issue("I7", acme, "250.00", d(6, 20), d(6, 30))
    clock_at.set(d(6, 25))
    payment_made(beta, "200.00", on=d(6, 25), to=i5)
    clock_at.set(d(6, 30))
    payment_made(acme, "90.00", on=d(6, 30), to=i8)
    issue("I10", acme, "400.00", d(7, 5), d(8, 4))
    clock_at.set(d(7, 10))
    payment_made(acme, "500.00", on=d(7, 10), to=i2)
    clock_at.set(d(7, 15))
    payment_made(beta, "1000.00", on=d(7, 15), to=i5)
    clock_at.set(TODAY)
    return numbers


def amounts(agency: Agency, as_of: dt.date) -> dict[str, Decimal]:
    (usd,) = aging_summary(agency=agency, as_of=as_of, today=TODAY)
    return {entry.bucket.key: entry.amount for entry in usd.buckets} | {"total": usd.total}


def test_the_aging_on_30_june_matches_the_hand_worked_buckets(
    agency: Agency, history: dict[str, str]
) -> None:
    assert amounts(agency, AS_OF) == {
        "current": Decimal("950.00"),
        "1-30": Decimal("1000.00"),
        "31-60": Decimal("600.00"),
        "61-90": Decimal("300.00"),
        "over-90": Decimal("500.00"),
        "total": Decimal("3350.00"),
    }
    (usd,) = aging_summary(agency=agency, as_of=AS_OF, today=TODAY)
    assert usd.invoice_count == 6


def test_the_aging_today_reflects_the_payments_made_since(
    agency: Agency, history: dict[str, str]
) -> None:
    assert amounts(agency, TODAY) == {
        "current": Decimal("0.00"),
        "1-30": Decimal("400.00"),
        "31-60": Decimal("950.00"),
        "61-90": Decimal("0.00"),
        "over-90": Decimal("900.00"),
        "total": Decimal("2250.00"),
    }


def test_a_bucket_drills_down_to_its_invoices_with_what_each_owed_then(
    agency: Agency, history: dict[str, str]
) -> None:
    current = aging_invoices(
        agency=agency, as_of=AS_OF, today=TODAY, currency="USD", bucket=Bucket.CURRENT
    )
    owed = {invoice.number: invoice.owed for invoice in current}  # type: ignore[attr-defined]
    assert owed == {history["I6"]: 70000, history["I7"]: 25000}
    late = aging_invoices(
        agency=agency, as_of=AS_OF, today=TODAY, currency="USD", bucket=Bucket.DAYS_1_30
    )
    assert [invoice.number for invoice in late] == [history["I5"]]


def test_the_aging_by_client_splits_the_same_buckets(
    agency: Agency, history: dict[str, str]
) -> None:
    rows = aging_by_client(agency=agency, as_of=AS_OF, today=TODAY, currency="USD")

    assert [(row.client_name, row.total, row.overdue) for row in rows] == [
        ("Beta", Decimal("2000.00"), Decimal("1300.00")),
        ("Acme", Decimal("1350.00"), Decimal("1100.00")),
    ]


def test_the_dso_on_30_june_matches_the_hand_worked_figure(
    agency: Agency, history: dict[str, str]
) -> None:
    (usd,) = dso_trend(agency=agency, today=TODAY, dates=[AS_OF])

    (point,) = usd.points
    assert point.receivables == Decimal("3350.00")
    assert point.credit_sales == Decimal("2540.00")
    assert point.days == Decimal("118.7")


def test_the_dso_trend_ends_today_and_reads_each_month_end(
    agency: Agency, history: dict[str, str]
) -> None:
    (usd,) = dso_trend(agency=agency, today=TODAY)

    assert [point.as_of for point in usd.points][-3:] == [d(6, 30), d(7, 31), TODAY]
    assert usd.points[-3].days == Decimal("118.7")
    assert usd.current.receivables == Decimal("2250.00")
