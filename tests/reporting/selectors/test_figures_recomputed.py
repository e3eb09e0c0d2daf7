"""Every figure equals an independent recomputation from the documents, the payments and the
ledger, to the minor unit, after a random history of invoices, payments, credit applied,
credit notes, voids and refunds in two currencies, with the agency's day turned (the sweep)
on some days and not on others.

The recomputation reads the rows in Python (no selector of reporting). The aging of each past
day is recomputed from the dated rows (issued, voided, allocations made, credit note credit
applied and not released by then) and checked against what the dashboard answered that day.
Billing's rollups, which the totals read, equal their rebuild from the rows, and what each
client and deal owes (stored, the lists' columns) equals its open invoices' balances."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clientledger.accounts.models import Agency
from clientledger.billing.models import (
    CreditApplication,
    Invoice,
    InvoiceStatus,
    LedgerDay,
    LedgerEntry,
    OverdueAsOf,
    OwedDay,
)
from clientledger.billing.rollups_rebuild import owed_rebuild, rollups_rebuild
from clientledger.billing.services.rollups import overdue_days_turn
from clientledger.core.money import from_minor
from clientledger.crm.models import Client, Deal
from clientledger.crm.selectors import client_list_page, deal_list_page
from clientledger.payments.models import (
    Allocation,
    AllocationChange,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Refund,
)
from clientledger.payments.selectors import payment_credit_rests
from clientledger.payments.services.credit import credit_apply
from clientledger.payments.services.manual import payment_record_manual
from clientledger.payments.services.refunds import payment_refund
from clientledger.reporting.selectors.aging import aging_by_client, aging_summary
from clientledger.reporting.selectors.common import Bucket
from clientledger.reporting.selectors.dso import dso_trend
from clientledger.reporting.selectors.receivables import receivables_now
from clientledger.reporting.selectors.revenue import revenue_by_month
from clientledger.reporting.selectors.top_clients import TOP_CLIENTS, top_clients
from tests.factories import AgencyFactory, ClientFactory, DealFactory
from tests.reporting.conftest import Clock, credit_note_issued, invoice_issued, invoice_voided

pytestmark = pytest.mark.django_db

START = dt.date(2025, 9, 1)
BERLIN = ZoneInfo("Europe/Berlin")
CLIENTS = 3  # two in USD, one in EUR

step = st.tuples(
    st.integers(min_value=0, max_value=25),  # days since the previous step
    st.sampled_from(
        ["issue", "issue", "pay", "apply", "credit_note", "void", "refund", "refund_paid", "turn"]
    ),
    st.integers(min_value=0, max_value=CLIENTS - 1),
    st.integers(min_value=1, max_value=300_000),  # an amount in minor units
    st.integers(min_value=0, max_value=75),  # due in days; which invoice
)


@dataclass
class History:
    agency: Agency
    clients: list[Client]
    # One deal per client: an invoice issued with an odd `pick` is for it.
    deals: list[Deal] = field(default_factory=list)
    # What the dashboard answered at the end of each day: aging per currency by bucket key.
    answered: dict[dt.date, dict[str, dict[str, Decimal]]] = field(default_factory=dict)
    # Credit notes: (moment, currency, minor units).
    credit_notes: list[tuple[dt.datetime, str, int]] = field(default_factory=list)


def aging_answer(agency: Agency, as_of: dt.date, today: dt.date) -> dict[str, dict[str, Decimal]]:
    return {
        row.currency: {b.bucket.key: b.amount for b in row.buckets}
        for row in aging_summary(agency=agency, as_of=as_of, today=today)
    }


def history_play(steps: list[tuple[int, str, int, int, int]], clock_at: Clock) -> History:
    agency = AgencyFactory(default_currency="USD", timezone="Europe/Berlin")
    history = History(
        agency=agency,
        clients=[
            ClientFactory(agency=agency, currency=currency)
            for currency in ("USD", "USD", "EUR")[:CLIENTS]
        ],
    )
    history.deals = [DealFactory(agency=agency, client=client) for client in history.clients]
    day = START
    for gap, action, client_index, minor, pick in steps:
        day += dt.timedelta(days=gap)
        clock_at.set(day)
        client = history.clients[client_index]
        open_invoices = list(
            Invoice.objects.filter(client=client, status=InvoiceStatus.OPEN).order_by("pk")
        )
        amount = from_minor(minor, client.currency)
        try:
            if action == "issue":
                invoice_issued(
                    client,
                    str(amount),
                    on=day,
                    due=day + dt.timedelta(days=pick % 61),
                    deal=history.deals[client_index] if pick % 2 else None,
                )
            elif action == "pay":
                payment_record_manual(
                    agency=agency,
                    actor=None,
                    client=client,
                    amount=amount,
                    currency=client.currency,
                    received_on=day,
                    method=PaymentMethod.BANK_TRANSFER,
                )
            elif action == "apply" and open_invoices:
                invoice = open_invoices[pick % len(open_invoices)]
                credit = sum(rest for _, rest in payment_credit_rests(agency=agency, client=client))
                share = min(credit, invoice.balance_due_minor, minor)
                if share:
                    credit_apply(
                        agency=agency,
                        actor=None,
                        client=client,
                        invoice=invoice,
                        amount=from_minor(share, client.currency),
                    )
            elif action == "credit_note" and open_invoices:
                invoice = open_invoices[pick % len(open_invoices)]
                share = min(minor, invoice.balance_due_minor - 1)
                if share > 0:
                    credit_note_issued(invoice, str(from_minor(share, client.currency)))
                    history.credit_notes.append((clock_at.moment, client.currency, share))
            elif action == "void" and open_invoices:
                invoice_voided(open_invoices[pick % len(open_invoices)])
            elif action == "refund":
                rests = payment_credit_rests(agency=agency, client=client)
                if rests:
                    payment_id, rest = rests[pick % len(rests)]
                    payment_refund(
                        agency=agency,
                        actor=None,
                        payment=Payment.objects.get(pk=payment_id),
                        amount=from_minor(min(rest, minor), client.currency),
                        reason="Overpaid.",
                    )
            elif action == "refund_paid":
                # More than the payment's rest: the refund takes money back from the
                # invoices it paid, which owe it again (a paid invoice reopens).
                payment = (
                    Payment.objects.filter(client=client, status=PaymentStatus.SUCCEEDED)
                    .order_by("pk")
                    .first()
                )
                if payment is not None:
                    payment_refund(
                        agency=agency,
                        actor=None,
                        payment=payment,
                        amount=from_minor(min(payment.amount_minor, minor), client.currency),
                        reason="Charged back.",
                    )
            elif action == "turn":
                # The sweep on this day; days without it are missed days.
                overdue_days_turn(as_of=clock_at.moment)
        except ValidationError:
            pass  # a void of a paid invoice: the history goes on without it
        history.answered[day] = aging_answer(agency, day, day)
    return history


def rollups(agency: Agency) -> set[tuple[object, ...]]:
    """The rollups' rows that count (a day's moves may sum to nothing)."""
    owed = OwedDay.objects.filter(agency=agency).exclude(owed_minor=0, open_count=0)
    ledger = LedgerDay.objects.filter(agency=agency).exclude(amount_minor=0)
    return set(owed.values_list("currency", "day", "due_date", "owed_minor", "open_count")) | set(
        ledger.values_list("currency", "day", "kind", "amount_minor")
    )


def bucket_of(due: dt.date | None, as_of: dt.date) -> str:
    late = 0 if due is None else (as_of - due).days
    if late <= 0:
        return Bucket.CURRENT.key
    return "1-30" if late <= 30 else "31-60" if late <= 60 else "61-90" if late <= 90 else "over-90"


def local_month(moment: dt.datetime) -> dt.date:
    return moment.astimezone(BERLIN).date().replace(day=1)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=st.lists(step, min_size=1, max_size=22))
def test_every_figure_equals_its_recomputation_from_the_rows(
    steps: list[tuple[int, str, int, int, int]], clock_at: Clock
) -> None:
    history = history_play(steps, clock_at)
    agency = history.agency
    today = max(history.answered)
    clock_at.set(today)
    invoices = list(Invoice.objects.filter(agency=agency))
    open_rows = [i for i in invoices if i.status == InvoiceStatus.OPEN]

    # Receivables now, from the open invoices' own figures.
    owed: dict[str, int] = defaultdict(int)
    overdue: dict[str, int] = defaultdict(int)
    soon: dict[str, int] = defaultdict(int)
    buckets: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for invoice in open_rows:
        balance = invoice.total_minor - invoice.amount_paid_minor - invoice.amount_credited_minor
        owed[invoice.currency] += balance
        assert invoice.due_date is not None
        if invoice.due_date < today:
            overdue[invoice.currency] += balance
        elif invoice.due_date <= today + dt.timedelta(days=30):
            soon[invoice.currency] += balance
        buckets[invoice.currency][bucket_of(invoice.due_date, today)] += balance
    credit: dict[str, int] = defaultdict(int)
    for payment in Payment.objects.filter(agency=agency):
        credit[payment.currency] += payment.amount_minor
    for allocation in Allocation.objects.filter(agency=agency).select_related("payment"):
        credit[allocation.payment.currency] -= allocation.amount_minor
    for refund in Refund.objects.filter(agency=agency):
        credit[refund.currency] -= refund.amount_minor
    ledger: dict[str, int] = defaultdict(int)
    for entry in LedgerEntry.objects.filter(agency=agency):
        ledger[entry.currency] += entry.amount_minor

    figures = {row.currency: row for row in receivables_now(agency=agency, today=today)}
    for currency in {"USD", "EUR"}:
        row = figures.get(currency)
        outstanding = row.outstanding if row else Decimal(0)
        unapplied = row.unapplied_credit if row else Decimal(0)
        assert outstanding == from_minor(owed[currency], currency)
        assert (row.overdue if row else 0) == from_minor(overdue[currency], currency)
        assert (row.due_soon if row else 0) == from_minor(soon[currency], currency)
        assert unapplied == from_minor(credit[currency], currency)
        # The ledger is what is owed minus the credit held, to the minor unit.
        assert outstanding - unapplied == from_minor(ledger[currency], currency)

    # The clients who owe most, by outstanding and by overdue, from the open invoices.
    by_client: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for invoice in open_rows:
        balance = invoice.total_minor - invoice.amount_paid_minor - invoice.amount_credited_minor
        by_client[invoice.client_id][0] += balance
        assert invoice.due_date is not None
        if invoice.due_date < today:
            by_client[invoice.client_id][1] += balance
    for currency in ("USD", "EUR"):
        clients = [c for c in history.clients if c.currency == currency]
        for by, index in (("outstanding", 0), ("overdue", 1)):

            def rank(client: Client, index: int = index) -> tuple[int, str, int]:
                return (-by_client[client.pk][index], client.name, client.pk)

            ranked = sorted((c for c in clients if by_client[c.pk][index] > 0), key=rank)
            answer = top_clients(agency=agency, today=today, currency=currency, by=by)
            assert [(row.client_id, row.outstanding, row.overdue) for row in answer] == [
                (
                    c.pk,
                    from_minor(by_client[c.pk][0], currency),
                    from_minor(by_client[c.pk][1], currency),
                )
                for c in ranked[:TOP_CLIENTS]
            ]

    # Aging today, by the open invoices; the same read through the dated facts.
    expected_aging = {
        currency: {b.key: from_minor(sums[b.key], currency) for b in Bucket}
        for currency, sums in buckets.items()
        if sum(sums.values())
    }
    assert aging_answer(agency, today, today) == expected_aging
    assert aging_answer(agency, today, today + dt.timedelta(days=1)) == expected_aging

    # The aging of each past day: its recomputation from the dated rows, what the dashboard
    # answered that day, and what it answers today for that day.
    allocations = list(Allocation.objects.filter(agency=agency))
    changes = list(AllocationChange.objects.filter(agency=agency))
    applications = list(CreditApplication.objects.filter(agency=agency))
    for day, answered in history.answered.items():
        end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, BERLIN)
        past: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for invoice in invoices:
            if invoice.issued_at is None or invoice.issued_at >= end:
                continue
            if invoice.voided_at is not None and invoice.voided_at < end:
                continue
            balance = (
                invoice.total_minor
                - sum(
                    a.amount_minor
                    for a in allocations
                    if a.invoice_id == invoice.pk and a.created_at < end
                )
                # Allocations stand at their amounts now: what changed them since is undone.
                + sum(
                    c.amount_minor
                    for c in changes
                    if c.invoice_id == invoice.pk and c.allocated_at < end <= c.created_at
                )
                - sum(
                    a.amount_minor
                    for a in applications
                    if a.invoice_id == invoice.pk
                    and a.created_at < end
                    and (a.released_at is None or a.released_at >= end)
                )
            )
            if balance > 0:
                past[invoice.currency][bucket_of(invoice.due_date, day)] += balance
        recomputed = {
            currency: {b.key: from_minor(sums[b.key], currency) for b in Bucket}
            for currency, sums in past.items()
        }
        assert answered == recomputed
        assert aging_answer(agency, day, today) == recomputed
        # The detail report of that day, client by client, adds up to the same.
        detail: dict[str, dict[str, Decimal]] = {}
        for currency in recomputed:
            for client_aging in aging_by_client(
                agency=agency, as_of=day, today=today, currency=currency
            ):
                for amount in client_aging.buckets:
                    totals = detail.setdefault(currency, {b.key: Decimal(0) for b in Bucket})
                    totals[amount.bucket.key] += amount.amount
        assert detail == recomputed

    # Revenue per month: invoices issued minus voided and credit notes; money in minus out.
    invoiced: dict[tuple[str, dt.date], int] = defaultdict(int)
    collected: dict[tuple[str, dt.date], int] = defaultdict(int)
    for invoice in invoices:
        if invoice.issued_at is not None:
            invoiced[invoice.currency, local_month(invoice.issued_at)] += invoice.total_minor
        if invoice.voided_at is not None:
            invoiced[invoice.currency, local_month(invoice.voided_at)] -= invoice.total_minor
    for moment, currency, minor in history.credit_notes:
        invoiced[currency, local_month(moment)] -= minor
    for payment in Payment.objects.filter(agency=agency):
        collected[payment.currency, local_month(payment.created_at)] += payment.amount_minor
    for refund in Refund.objects.filter(agency=agency):
        collected[refund.currency, local_month(refund.created_at)] -= refund.amount_minor
    for revenue in revenue_by_month(agency=agency, today=today):
        for month in revenue.months:
            key = (revenue.currency, month.month)
            assert month.invoiced == from_minor(invoiced[key], revenue.currency)
            assert month.collected == from_minor(collected[key], revenue.currency)

    # DSO today: the receivables above over the credit sales of the last 90 days x 90.
    window_start = today - dt.timedelta(days=89)
    for dso in dso_trend(agency=agency, today=today, dates=[today]):
        (point,) = dso.points
        sales = (
            sum(
                invoice.total_minor
                for invoice in invoices
                if invoice.currency == dso.currency
                and invoice.issued_at is not None
                and invoice.issued_at.date() >= window_start
            )
            - sum(
                invoice.total_minor
                for invoice in invoices
                if invoice.currency == dso.currency
                and invoice.voided_at is not None
                and invoice.voided_at.date() >= window_start
            )
            - sum(
                minor
                for moment, currency, minor in history.credit_notes
                if currency == dso.currency and moment.date() >= window_start
            )
        )
        assert point.receivables == from_minor(owed[dso.currency], dso.currency)
        assert point.credit_sales == from_minor(sales, dso.currency)
        expected_days = (
            (Decimal(owed[dso.currency]) * 90 / Decimal(sales)).quantize(
                Decimal("0.1"), rounding=ROUND_HALF_UP
            )
            if sales > 0
            else None
        )
        assert point.days == expected_days

    # What each client and deal owes, kept with each move: its open invoices' balances, and
    # the part past due on the agency's stored date; then on today, once the day turned.
    def owed_recomputed(as_of: dt.date | None) -> dict[tuple[str, int], tuple[int, int]]:
        owed_rows = {("client", c.pk): (0, 0) for c in history.clients}
        owed_rows |= {("deal", d.pk): (0, 0) for d in history.deals}
        for invoice in open_rows:
            balance = invoice.balance_due_minor
            late = as_of is not None and invoice.due_date is not None and invoice.due_date < as_of
            keys = [("client", invoice.client_id)]
            keys += [("deal", invoice.deal_id)] if invoice.deal_id else []
            for key in keys:
                outstanding, past_due = owed_rows[key]
                owed_rows[key] = (outstanding + balance, past_due + balance * late)
        return owed_rows

    def owed_stored() -> dict[tuple[str, int], tuple[int, int]]:
        columns = ("pk", "owed_open_minor", "owed_overdue_minor")
        stored = {
            ("client", pk): (open_minor, overdue_minor)
            for pk, open_minor, overdue_minor in Client.objects.filter(agency=agency).values_list(
                *columns
            )
        }
        return stored | {
            ("deal", pk): (open_minor, overdue_minor)
            for pk, open_minor, overdue_minor in Deal.objects.filter(agency=agency).values_list(
                *columns
            )
        }

    def owed_listed() -> dict[tuple[str, int], tuple[int, int]]:
        clients = client_list_page(agency=agency, sort="overdue").page
        deals = deal_list_page(agency=agency, sort="overdue").page
        listed: list[tuple[str, Any]] = [("client", row) for row in clients]
        listed += [("deal", row) for row in deals]
        return {(kind, row.pk): (row.outstanding_minor, row.overdue_minor) for kind, row in listed}

    as_of = OverdueAsOf.objects.filter(agency=agency).values_list("as_of", flat=True).first()
    assert owed_stored() == owed_recomputed(as_of)
    assert owed_listed() == owed_recomputed(today)  # stored or summed, as the date says
    overdue_days_turn(as_of=clock_at.moment)
    assert owed_stored() == owed_recomputed(today)
    assert owed_listed() == owed_recomputed(today)
    owed_rebuild(apps)  # the migration's fill
    assert owed_stored() == owed_recomputed(today)

    # The rollups kept with each move equal their rebuild from the rows (the migration's).
    kept = rollups(agency)
    rollups_rebuild(apps)
    assert rollups(agency) == kept
