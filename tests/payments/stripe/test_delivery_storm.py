"""Stripe delivers every event at least once, in any order, sometimes several copies at the
same instant. Two identical worlds (agencies with the same clients, invoices and Stripe
history) receive the same month of events: one gets each event once, in order; the other
gets every event ten times, shuffled (and, on PostgreSQL, from sixteen threads at once).
Their books must be identical and match what Stripe reports."""

from __future__ import annotations

import random
import re
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from itertools import count
from typing import Any

import pytest
from django.db import connection

from clientledger.accounts.models import Agency
from clientledger.accounts.roles import Role
from clientledger.billing.ledger import ledger_mismatches
from clientledger.billing.models import Invoice, LedgerEntry
from clientledger.core.models import AuditEvent
from clientledger.crm.models import Client
from clientledger.notifications.models import EmailMessage
from clientledger.payments.models import (
    Dispute,
    DisputeStatus,
    Payment,
    PaymentStatus,
    Refund,
    StripeEvent,
    StripeEventStatus,
)
from clientledger.payments.selectors import client_credit_minor
from tests.billing.test_concurrency import run_concurrently
from tests.factories import AgencyFactory, ClientFactory, MembershipFactory
from tests.payments.conftest import issue_invoice
from tests.payments.stripe_fake import FakeStripe, deliver

SEED = 20261124
COPIES = 10

Event = dict[str, Any]


# --- a month of Stripe history -------------------------------------------------------------


@dataclass
class World:
    """One agency, its clients and invoices, and the events Stripe sends about them."""

    label: str
    agency: Agency
    clients: list[Client]
    invoices: list[Invoice] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    # The status of our payment for each PaymentIntent once Stripe's state is applied,
    # keyed by the PaymentIntent's number.
    expected_statuses: dict[str, str] = field(default_factory=dict)

    def key(self, intent_id: str) -> str:
        return intent_id.removeprefix(f"pi_{self.label}_")


def card_fee(amount: int) -> int:
    return amount * 29 // 1000 + 30


def ach_fee(amount: int) -> int:
    return min(amount * 8 // 1000, 500)


class Stripe:
    """Writes one world's history into the fake: each story leaves the PaymentIntent, its
    refunds and disputes in their final state there, and appends the events Stripe sent on
    the way, each with the snapshot it carried then."""

    def __init__(self, fake: FakeStripe, world: World) -> None:
        self.fake = fake
        self.world = world
        self.numbers = count(1)

    def _emit(self, kind: str, obj: dict[str, Any]) -> None:
        self.world.events.append(self.fake.event(kind, obj))

    def _expect(self, intent_id: str, status: str) -> None:
        self.world.expected_statuses[self.world.key(intent_id)] = status

    def _session(self, kind: str, intent: dict[str, Any], *, paid: bool) -> None:
        self._emit(kind, self.fake.completed_session(intent["id"], paid=paid))

    # --- payments --------------------------------------------------------------------------

    def _intent_id(self) -> str:
        return f"pi_{self.world.label}_{next(self.numbers):04d}"

    def card(self, invoice: Invoice, amount: int | None = None) -> str:
        intent_id = self._intent_id()
        amount = invoice.total_minor if amount is None else amount
        intent = self.fake.intent(
            intent_id, invoice=invoice, status="succeeded", amount=amount, fee=card_fee(amount)
        )
        self._session("checkout.session.completed", intent, paid=True)
        self._emit("payment_intent.succeeded", intent)
        self._expect(intent_id, PaymentStatus.SUCCEEDED)
        return intent_id

    def ach_processing(self, invoice: Invoice) -> str:
        intent_id = self._intent_id()
        processing = self.fake.intent(
            intent_id,
            invoice=invoice,
            status="processing",
            method="us_bank_account",
            amount=invoice.total_minor,
        )
        self._session("checkout.session.completed", processing, paid=False)
        self._emit("payment_intent.processing", processing)
        self._expect(intent_id, PaymentStatus.PENDING)
        return intent_id

    def _ach_settled(self, invoice: Invoice, *, succeeded: bool) -> str:
        """A bank debit that processed, then settled or came back unpaid."""
        intent_id = self.ach_processing(invoice)
        amount = invoice.total_minor
        outcome: dict[str, Any] = (
            {"status": "succeeded", "fee": ach_fee(amount)}
            if succeeded
            else {
                "status": "requires_payment_method",
                "error": "The customer's bank account has insufficient funds.",
            }
        )
        final = self.fake.intent(
            intent_id, invoice=invoice, method="us_bank_account", amount=amount, **outcome
        )
        session = "async_payment_succeeded" if succeeded else "async_payment_failed"
        self._session(f"checkout.session.{session}", final, paid=succeeded)
        self._emit(
            "payment_intent.succeeded" if succeeded else "payment_intent.payment_failed", final
        )
        self._expect(intent_id, PaymentStatus.SUCCEEDED if succeeded else PaymentStatus.FAILED)
        return intent_id

    def ach_succeeded(self, invoice: Invoice) -> str:
        return self._ach_settled(invoice, succeeded=True)

    def ach_failed(self, invoice: Invoice) -> str:
        return self._ach_settled(invoice, succeeded=False)

    # --- after the money arrived -----------------------------------------------------------

    def refund(self, intent_id: str, amount: int, *, status: str = "succeeded") -> None:
        refund = self.fake.refund(intent_id, amount, status="pending")
        if status == "pending":
            self._emit("refund.created", refund)
            return
        if status == "failed":
            self._emit("refund.created", refund)
            failed = self.fake.refund(intent_id, amount, status="failed", refund_id=refund["id"])
            self._emit("refund.failed", failed)
            return
        done = self.fake.refund(intent_id, amount, status=status, refund_id=refund["id"])
        self._emit("charge.refunded", self.fake.charge(intent_id))
        self._emit("refund.updated", done)

    def dispute(self, intent_id: str, *, final: str) -> None:
        dispute_id = f"dp_{intent_id}"
        opened = self.fake.dispute(intent_id, status="needs_response", dispute_id=dispute_id)
        self._emit("charge.dispute.created", opened)
        if final != "needs_response":
            closed = self.fake.dispute(intent_id, status=final, dispute_id=dispute_id)
            self._emit("charge.dispute.closed", closed)

    def refunded_status(self, intent_id: str) -> None:
        """What a payment is once its refunds and lost disputes hold part or all of it."""
        intent = self.fake.intents[intent_id]
        held = sum(
            r["amount"]
            for r in self.fake.refunds.values()
            if r["payment_intent"] == intent_id and r["status"] in ("pending", "succeeded")
        )
        lost = any(
            d["payment_intent"] == intent_id and d["status"] == "lost"
            for d in self.fake.disputes.values()
        )
        received = intent["amount_received"]
        status = PaymentStatus.SUCCEEDED
        if lost or held == received:
            status = PaymentStatus.REFUNDED
        elif held:
            status = PaymentStatus.PARTIALLY_REFUNDED
        self._expect(intent_id, status)


# How one invoice gets paid (or not), told to Stripe.
Story = Callable[[Stripe, Invoice], object]


def _overpaid(stripe: Stripe, invoice: Invoice) -> None:
    stripe.card(invoice, invoice.total_minor + invoice.total_minor // 4)


def _two_instalments(stripe: Stripe, invoice: Invoice) -> None:
    stripe.card(invoice, invoice.total_minor * 3 // 10)
    stripe.card(invoice, invoice.total_minor // 2)


def _ach_failed_then_card(stripe: Stripe, invoice: Invoice) -> None:
    stripe.ach_failed(invoice)
    stripe.card(invoice)


def _refunded(share: tuple[int, ...], *, status: str = "succeeded", ach: bool = False) -> Story:
    """A payment refunded in Stripe's dashboard, once per share (in percent)."""

    def story(stripe: Stripe, invoice: Invoice) -> None:
        intent_id = stripe.ach_succeeded(invoice) if ach else stripe.card(invoice)
        for percent in share:
            stripe.refund(intent_id, invoice.total_minor * percent // 100, status=status)
        stripe.refunded_status(intent_id)

    return story


def _disputed(final: str, *, refunded_first: bool = False) -> Story:
    def story(stripe: Stripe, invoice: Invoice) -> None:
        intent_id = stripe.card(invoice)
        if refunded_first:
            stripe.refund(intent_id, invoice.total_minor // 4)
        stripe.dispute(intent_id, final=final)
        stripe.refunded_status(intent_id)

    return story


# Each story with the number of events Stripe sends in it.
STORIES: dict[str, tuple[int, Story]] = {
    "card": (2, Stripe.card),
    "card above the balance": (2, _overpaid),
    "card in two instalments": (4, _two_instalments),
    "ach succeeded": (4, Stripe.ach_succeeded),
    "ach failed": (4, Stripe.ach_failed),
    "ach failed, then card": (6, _ach_failed_then_card),
    "ach still processing": (2, Stripe.ach_processing),
    "partial refund": (4, _refunded((33,))),
    "full refund": (4, _refunded((100,))),
    "two partial refunds": (6, _refunded((20, 30))),
    "ach refunded by half": (6, _refunded((50,), ach=True)),
    "refund pending": (3, _refunded((40,), status="pending")),
    "refund failed": (4, _refunded((60,), status="failed")),
    "dispute won": (4, _disputed(DisputeStatus.WON)),
    "dispute lost": (4, _disputed(DisputeStatus.LOST)),
    "dispute lost after a refund": (6, _disputed(DisputeStatus.LOST, refunded_first=True)),
    "dispute open": (3, _disputed(DisputeStatus.NEEDS_RESPONSE)),
}

# How many of each story: 1,000 events over 305 PaymentIntents, and 100 over 31.
MONTH = {
    "card": 75,
    "card above the balance": 15,
    "card in two instalments": 10,
    "ach succeeded": 30,
    "ach failed": 10,
    "ach failed, then card": 10,
    "ach still processing": 10,
    "partial refund": 20,
    "full refund": 15,
    "two partial refunds": 10,
    "ach refunded by half": 10,
    "refund pending": 10,
    "refund failed": 10,
    "dispute won": 15,
    "dispute lost": 15,
    "dispute lost after a refund": 10,
    "dispute open": 10,
}
WEEK = {story: 1 for story in STORIES} | {
    "card": 9,
    "ach succeeded": 3,
    "partial refund": 2,
    "dispute lost": 2,
}


def world_create(label: str, clients: int) -> World:
    """An agency (whose owner hears of failures and disputes) and its USD clients."""
    agency: Agency = AgencyFactory.create(name=f"Agency {label}")
    MembershipFactory.create(agency=agency, role=Role.OWNER)
    members: list[Client] = [
        ClientFactory.create(agency=agency, name=f"Client {number}", currency="USD")
        for number in range(clients)
    ]
    return World(label=label, agency=agency, clients=members)


def history_write(fake: FakeStripe, world: World, stories: dict[str, int]) -> World:
    """The same for every world: invoices with the same totals (random from SEED), paid
    through the same stories; only the agency and the PaymentIntent ids differ."""
    totals = random.Random(SEED)
    stripe = Stripe(fake, world)
    plan = [name for name, times in stories.items() for _ in range(times)]
    # Some invoices Stripe never hears of: open until the end.
    unpaid = len(world.clients) * 3
    for position in range(len(plan) + unpaid):
        client = world.clients[position % len(world.clients)]
        total = Decimal(totals.randrange(5_000, 500_000)) / 100
        invoice = issue_invoice(client, str(total), issued_days_ago=position % 40)
        world.invoices.append(invoice)
        if position < len(plan):
            STORIES[plan[position]][1](stripe, invoice)
    assert len(world.events) == sum(STORIES[name][0] * times for name, times in stories.items())
    return world


# --- what the books say --------------------------------------------------------------------


def books(world: World) -> dict[str, Any]:
    """The outcome, with our ids replaced by positions so that two worlds compare."""
    agency = world.agency
    invoice_position = {invoice.pk: position for position, invoice in enumerate(world.invoices)}
    invoices = Invoice.objects.in_bulk([invoice.pk for invoice in world.invoices])
    payments = Payment.objects.filter(agency=agency).prefetch_related("allocations")
    payment_keys = {
        payment.pk: world.key(str(payment.stripe_payment_intent_id)) for payment in payments
    }
    return {
        "invoices": [
            (invoices[invoice.pk].status, invoices[invoice.pk].amount_paid_minor)
            for invoice in world.invoices
        ],
        "clients": [
            (
                Client.objects.get(pk=client.pk).balance_minor,
                client_credit_minor(agency=agency, client=client),
            )
            for client in world.clients
        ],
        "payments": {
            world.key(str(payment.stripe_payment_intent_id)): (
                payment.status,
                payment.method,
                payment.amount_minor,
                payment.fee_minor,
                payment.net_minor,
                invoice_position[payment.invoice_id] if payment.invoice_id else None,
                sorted(
                    (invoice_position[allocation.invoice_id], allocation.amount_minor)
                    for allocation in payment.allocations.all()
                ),
            )
            for payment in payments
        },
        "refunds": sorted(
            (
                world.key(str(refund.payment.stripe_payment_intent_id)),
                refund.amount_minor,
                refund.status,
                refund.dispute_id is not None,
                sorted(
                    (invoice_position[int(invoice_id)], minor)
                    for invoice_id, minor in refund.taken_from.items()
                ),
            )
            for refund in Refund.objects.filter(agency=agency).select_related("payment")
        ),
        "disputes": sorted(
            (world.key(str(dispute.payment.stripe_payment_intent_id)), dispute.status)
            for dispute in Dispute.objects.filter(agency=agency).select_related("payment")
        ),
        "ledger": Counter(LedgerEntry.objects.filter(agency=agency).values_list("kind", flat=True)),
        "audit": Counter(AuditEvent.objects.filter(agency=agency).values_list("verb", flat=True)),
        "alerts": sorted(
            re.sub(
                r"Payment #(\d+)",
                lambda number: f"the payment of {payment_keys[int(number[1])]}",
                subject.removeprefix(f"{agency.name}: "),
            )
            for subject in EmailMessage.objects.filter(agency=agency).values_list(
                "subject", flat=True
            )
        ),
    }


def assert_same_books(storm: World, once: World) -> None:
    """Part by part, showing only what differs: the full books are thousands of lines."""
    expected = books(once)
    for part, outcome in books(storm).items():
        if isinstance(outcome, dict):
            differing = {
                key: (outcome.get(key), expected[part].get(key))
                for key in outcome.keys() | expected[part].keys()
                if outcome.get(key) != expected[part].get(key)
            }
            assert differing == {}, part
        else:
            assert Counter(map(repr, outcome)) - Counter(map(repr, expected[part])) == Counter(), (
                part
            )
            assert outcome == expected[part], part


def stored_events(world: World) -> Counter[str]:
    ids = [event["id"] for event in world.events]
    return Counter(StripeEvent.objects.filter(stripe_id__in=ids).values_list("status", flat=True))


def assert_no_duplicates(world: World) -> None:
    """One payment per PaymentIntent, one refund per Stripe refund, one reversal per lost
    dispute: what the unique constraints promise, counted."""
    payments = Payment.objects.filter(agency=world.agency)
    intents = payments.values_list("stripe_payment_intent_id", flat=True)
    assert len(intents) == len(set(intents))
    stripe_refunds = Refund.objects.filter(agency=world.agency, stripe_refund_id__isnull=False)
    refund_ids = stripe_refunds.values_list("stripe_refund_id", flat=True)
    assert len(refund_ids) == len(set(refund_ids))
    lost = Dispute.objects.filter(agency=world.agency, status=DisputeStatus.LOST)
    reversals = Refund.objects.filter(dispute__in=lost)
    assert sorted(reversals.values_list("dispute_id", flat=True)) == sorted(
        lost.values_list("pk", flat=True)
    )


def assert_books_follow_stripe(world: World) -> None:
    statuses = dict(
        (world.key(str(intent_id)), status)
        for intent_id, status in Payment.objects.filter(agency=world.agency).values_list(
            "stripe_payment_intent_id", "status"
        )
    )
    assert statuses == world.expected_statuses
    assert stored_events(world) == {StripeEventStatus.PROCESSED: len(world.events)}


Worlds = Callable[[dict[str, int], int, bool], tuple[World, World]]


@pytest.fixture
def worlds(fake_stripe: FakeStripe, frozen_now: None) -> Worlds:
    """Two identical worlds: one for single deliveries, one for the storm. With `parallel`
    (PostgreSQL) their histories are written at the same time: they share no rows."""

    def build(stories: dict[str, int], clients: int, parallel: bool) -> tuple[World, World]:
        writes: list[Callable[[], object]] = [
            partial(history_write, fake_stripe, world_create(label, clients), stories)
            for label in ("once", "storm")
        ]
        once, storm = (
            run_concurrently(writes, threads=2, timeout=300) if parallel else [w() for w in writes]
        )
        assert isinstance(once, World) and isinstance(storm, World), (once, storm)
        return once, storm

    return build


def shuffled_copies(events: list[Event]) -> list[Event]:
    copies = [event for event in events for _ in range(COPIES)]
    random.Random(SEED).shuffle(copies)
    return copies


# --- the tests -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_hundred_events_delivered_ten_times_shuffled_leave_the_books_of_one_delivery(
    worlds: Worlds,
) -> None:
    once, storm = worlds(WEEK, 2, False)
    assert len(once.events) == 100

    assert {deliver(event) for event in once.events} == {200}
    assert {deliver(event) for event in shuffled_copies(storm.events)} == {200}

    assert_books_follow_stripe(once)
    assert_no_duplicates(storm)
    assert_same_books(storm, once)
    assert stored_events(storm) == {StripeEventStatus.PROCESSED: 100}
    assert ledger_mismatches() == []


@pytest.mark.postgres
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL row locks: SQLite runs one write transaction at a time, so "
    "deliveries cannot race; CI runs this with DATABASE_URL=postgres://...",
)
@pytest.mark.django_db(transaction=True)
def test_ten_thousand_concurrent_shuffled_deliveries_leave_the_books_of_one_delivery_each(
    worlds: Worlds,
) -> None:
    once, storm = worlds(MONTH, 5, True)
    assert len(once.events) == 1000

    # World "once" gets each event once, in order, from one thread while the storm hits
    # world "storm": they share no rows, and the test takes half the time.
    single_deliveries: list[int] = []

    def deliver_once_each() -> None:
        try:
            single_deliveries.extend(deliver(event) for event in once.events)
        finally:
            connection.close()

    one_at_a_time = threading.Thread(target=deliver_once_each)
    one_at_a_time.start()
    try:
        # About a minute on two cores; a slow machine gets room, a hang still fails.
        outcomes = run_concurrently(
            [partial(deliver, event) for event in shuffled_copies(storm.events)],
            threads=16,
            timeout=600,
        )
    finally:
        # Never leave it delivering into the next test's database.
        one_at_a_time.join()

    assert set(single_deliveries) == {200} and len(single_deliveries) == 1000
    # A copy may lose a race and answer 500 so that Stripe retries it; none may crash, and
    # every event must end processed.
    assert [outcome for outcome in outcomes if outcome not in (200, 500)] == []
    assert_books_follow_stripe(once)
    assert_no_duplicates(storm)
    assert_same_books(storm, once)
    assert stored_events(storm) == {StripeEventStatus.PROCESSED: 1000}
    assert ledger_mismatches() == []
