"""The billing run: every due period billed exactly once, missed periods caught up each with
its own dates, gapless numbers, failures recorded without stopping the others, client credit
applied, and a number of queries per chunk that does not grow with its invoices."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from decimal import Decimal
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clientledger.accounts.models import Agency
from clientledger.billing.models import (
    CreditNote,
    CreditNoteStatus,
    CreditSettlement,
    Invoice,
    InvoiceStatus,
    LedgerEntry,
)
from clientledger.billing.services.credit_notes import credit_note_create, credit_note_issue
from clientledger.billing.services.drafts import invoice_create
from clientledger.billing.services.invoices import invoice_issue
from clientledger.catalog.models import TaxRate
from clientledger.core.models import AuditEvent
from clientledger.core.money import MAX_BALANCE_MINOR
from clientledger.crm.models import Client
from clientledger.jobs.sweeps import SWEEPS
from clientledger.lines.pricing import inputs_totals
from clientledger.notifications.models import EmailMessage
from clientledger.notifications.services import email_render
from clientledger.payments.models import Payment
from clientledger.payments.services.manual import payment_record_manual
from clientledger.recurring.models import (
    BillingRun,
    BillingRunFailure,
    IntervalUnit,
    PeriodAction,
    RecurringPeriod,
    RecurringSchedule,
)
from clientledger.recurring.services.billing_run import (
    billing_run,
    billing_run_chunk,
    billing_run_due_chunks,
)
from clientledger.recurring.services.lifecycle import schedule_pause, schedule_resume
from tests.factories import ClientFactory
from tests.recurring.conftest import NOW, line
from tests.recurring.schedules import numbers_are_gapless, schedule_make

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now")]

NOVEMBER = dt.date(2026, 11, 1)


def test_a_due_period_is_billed_once_however_often_the_run_runs(
    buyer: Client, vat: TaxRate
) -> None:
    schedule = schedule_make(buyer, [line(taxes=[vat])], start=NOVEMBER)
    first = billing_run(as_of=NOW)
    second = billing_run(as_of=NOW)
    [invoice] = Invoice.objects.all()
    assert (invoice.status, invoice.issue_date, invoice.total_minor) == ("open", NOVEMBER, 78000)
    assert (first.invoices_created, second.invoices_created, second.periods_due) == (1, 0, 0)
    period = RecurringPeriod.objects.get(schedule=schedule)
    assert (period.period_index, period.start_date, period.end_date, period.invoice) == (
        0,
        NOVEMBER,
        dt.date(2026, 11, 30),
        invoice,
    )
    schedule.refresh_from_db()
    assert (schedule.next_period_index, schedule.next_period_start) == (1, dt.date(2026, 12, 1))


def test_a_schedule_started_fourteen_months_ago_gets_fourteen_invoices_each_for_its_period(
    buyer: Client, vat: TaxRate
) -> None:
    schedule_make(buyer, [line(taxes=[vat])], start=dt.date(2025, 10, 1), payment_terms_days=10)
    assert billing_run(as_of=NOW).invoices_created == 14
    assert billing_run(as_of=NOW).invoices_created == 0
    periods = list(RecurringPeriod.objects.select_related("invoice").order_by("period_index"))
    starts = [period.start_date for period in periods]
    assert starts == [dt.date(2025 + (9 + k) // 12, (9 + k) % 12 + 1, 1) for k in range(14)]
    assert [p.invoice.issue_date for p in periods if p.invoice] == starts
    assert [p.invoice.due_date for p in periods if p.invoice] == [
        start + dt.timedelta(days=10) for start in starts
    ]
    numbers = [p.invoice.number for p in periods if p.invoice]
    assert numbers[:3] == ["INV-2025-00001", "INV-2025-00002", "INV-2025-00003"]
    assert numbers[-1] == "INV-2026-00011"
    assert numbers_are_gapless(numbers)


def test_a_run_late_in_the_evening_utc_bills_the_agency_s_local_day(
    buyer: Client, vat: TaxRate
) -> None:
    schedule_make(buyer, [line(taxes=[vat])], start=dt.date(2026, 12, 1))
    before_midnight_in_berlin = dt.datetime(2026, 11, 30, 22, 30, tzinfo=dt.UTC)
    assert billing_run(as_of=before_midnight_in_berlin).invoices_created == 0
    after_midnight_in_berlin = dt.datetime(2026, 11, 30, 23, 30, tzinfo=dt.UTC)
    assert billing_run(as_of=after_midnight_in_berlin).invoices_created == 1


def test_a_paused_schedule_is_not_billed_and_skips_what_it_slept_through_when_resumed(
    buyer: Client, vat: TaxRate, frozen_now: Callable[[dt.datetime], None]
) -> None:
    schedule = schedule_make(buyer, [line(taxes=[vat])], start=dt.date(2026, 8, 1))
    september = dt.datetime(2026, 9, 15, 12, tzinfo=dt.UTC)
    assert billing_run(as_of=september).invoices_created == 2
    frozen_now(september)
    schedule_pause(schedule=schedule, actor=None)
    assert billing_run(as_of=NOW).periods_due == 0
    frozen_now(NOW)
    schedule_resume(schedule=schedule, actor=None)
    assert billing_run(as_of=NOW).periods_due == 0  # October and November are not caught up
    december = dt.datetime(2026, 12, 2, 12, tzinfo=dt.UTC)
    assert billing_run(as_of=december).invoices_created == 1
    starts = RecurringPeriod.objects.order_by("period_index").values_list("start_date", flat=True)
    assert list(starts) == [dt.date(2026, 8, 1), dt.date(2026, 9, 1), dt.date(2026, 12, 1)]


def test_each_period_does_what_its_schedule_says(agency: Agency, vat: TaxRate) -> None:
    actions = [PeriodAction.DRAFT, PeriodAction.ISSUE, PeriodAction.ISSUE_AND_SEND]
    clients = {action: ClientFactory.create(agency=agency, currency="USD") for action in actions}
    for action, client in clients.items():
        schedule_make(client, [line(taxes=[vat])], start=NOVEMBER, on_period=action)
    billing_run(as_of=NOW)
    draft = Invoice.objects.get(client=clients[PeriodAction.DRAFT])
    issued = Invoice.objects.get(client=clients[PeriodAction.ISSUE])
    sent = Invoice.objects.get(client=clients[PeriodAction.ISSUE_AND_SEND])
    assert (draft.status, draft.number, draft.sent_at) == (InvoiceStatus.DRAFT, "", None)
    assert (issued.status, issued.sent_at) == (InvoiceStatus.OPEN, None)
    assert (sent.status, sent.sent_at) == (InvoiceStatus.OPEN, NOW)
    [email] = EmailMessage.objects.all()
    assert email.to == [clients[PeriodAction.ISSUE_AND_SEND].billing_email]
    assert (email.attach_document_id, sent.pdf.name) == (sent.pk, "")  # rendered by the sweep
    assert LedgerEntry.objects.count() == 2
    assert AuditEvent.objects.filter(verb="invoice.issued").count() == 2


def test_numbers_are_gapless_across_chunks_and_schedules(agency: Agency, vat: TaxRate) -> None:
    for index in range(23):
        client = ClientFactory.create(agency=agency, currency="USD")
        schedule_make(client, [line(taxes=[vat])], start=dt.date(2026, 9, 1 + index))
    result = billing_run(as_of=NOW, chunk_size=4)
    numbers = list(Invoice.objects.values_list("number", flat=True))
    assert result.invoices_created == len(numbers) == 23 * 3
    assert numbers_are_gapless(numbers)


def test_a_schedule_that_cannot_be_sent_is_recorded_and_the_others_are_billed(
    agency: Agency, vat: TaxRate
) -> None:
    silent = ClientFactory.create(
        agency=agency, currency="USD", name="Silent Ltd", billing_email=""
    )
    schedule_make(silent, [line(taxes=[vat])], start=NOVEMBER, on_period="issue_and_send")
    others = [ClientFactory.create(agency=agency, currency="USD") for _ in range(3)]
    for client in others:
        schedule_make(client, [line(taxes=[vat])], start=NOVEMBER, on_period="issue_and_send")
    result = billing_run(as_of=NOW)
    assert (result.invoices_created, result.schedules_failed) == (3, 1)
    [failure] = BillingRunFailure.objects.all()
    assert failure.run == result.run
    assert "Silent Ltd has no billing email" in failure.reason
    assert not Invoice.objects.filter(client=silent).exists()
    run = BillingRun.objects.get()
    assert (run.periods_due, run.invoices_created, run.schedules_failed) == (4, 3, 1)
    assert run.finished_at == NOW
    # Fixed, it is billed by the next run, for the period it missed.
    Client.objects.filter(pk=silent.pk).update(billing_email="ap@silent.example")
    assert billing_run(as_of=NOW).invoices_created == 1


@pytest.mark.ledger_tampered
def test_a_chunk_refused_as_a_whole_is_billed_schedule_by_schedule(
    agency: Agency, vat: TaxRate
) -> None:
    """One client near the balance bound refuses the chunk's ledger update: each schedule is
    then billed alone and only that one fails."""
    full = ClientFactory.create(agency=agency, currency="USD", name="Full Ltd")
    Client.objects.filter(pk=full.pk).update(balance_minor=MAX_BALANCE_MINOR - 1)
    schedule_make(full, [line(taxes=[vat])], start=NOVEMBER)
    for _ in range(3):
        schedule_make(ClientFactory.create(agency=agency, currency="USD"), [line()], start=NOVEMBER)
    result = billing_run(as_of=NOW)
    assert (result.invoices_created, result.schedules_failed) == (3, 1)
    assert "Full Ltd" in BillingRunFailure.objects.get().reason
    assert numbers_are_gapless(list(Invoice.objects.values_list("number", flat=True)))


def test_a_period_billed_meanwhile_is_refused_by_the_database(buyer: Client, vat: TaxRate) -> None:
    schedule = schedule_make(buyer, [line(taxes=[vat])], start=NOVEMBER)
    RecurringPeriod.objects.create(
        agency=buyer.agency,
        schedule=schedule,
        period_index=0,
        start_date=NOVEMBER,
        end_date=dt.date(2026, 11, 30),
    )
    counts = billing_run_chunk(schedule_ids=[schedule.pk], as_of=NOW)
    assert (counts["created"], counts["failed"]) == (0, 1)
    assert "recurringperiod" in BillingRunFailure.objects.get().reason.lower()
    assert not Invoice.objects.exists()


def test_client_credit_pays_new_invoices_when_the_agency_says_so(
    agency: Agency, buyer: Client, vat: TaxRate
) -> None:
    agency.apply_credit_to_retainers = True
    agency.save()
    payment_record_manual(
        agency=agency,
        actor=None,
        client=buyer,
        amount=Decimal("1000.00"),
        currency="USD",
        received_on=NOW.date(),
        method="bank_transfer",
        allocations=[],
    )
    schedule_make(
        buyer, [line(taxes=[vat])], start=dt.date(2026, 10, 1), on_period="issue_and_send"
    )
    billing_run(as_of=NOW)
    october, november = Invoice.objects.order_by("issue_date")
    assert (october.status, october.amount_paid_minor) == (InvoiceStatus.PAID, 78000)
    assert (november.status, november.balance_due_minor) == (InvoiceStatus.OPEN, 78000 - 22000)
    email = EmailMessage.objects.get(attach_document_id=november.pk)
    assert "$560.00" in email_render(email).text
    assert Payment.objects.get().amount_minor == 100000


def test_credit_kept_from_a_credit_note_pays_the_next_retainer_invoice(
    agency: Agency, buyer: Client
) -> None:
    agency.apply_credit_to_retainers = True
    agency.save()
    cancelled = invoice_issue(
        invoice=invoice_create(
            agency=agency, actor=None, client=buyer, lines=[line("Workshop", unit_price="200.00")]
        ),
        actor=None,
        issue_date=dt.date(2026, 10, 15),
    )
    credit_note_issue(
        credit_note=credit_note_create(
            invoice=cancelled,
            actor=None,
            reason="Workshop cancelled",
            settlement=CreditSettlement.KEEP,
        ),
        actor=None,
    )
    schedule_make(buyer, [line()], start=NOVEMBER, on_period="issue")
    billing_run(as_of=NOW)
    retainer = Invoice.objects.exclude(pk=cancelled.pk).get()
    assert (retainer.amount_credited_minor, retainer.balance_due_minor) == (20000, 65000 - 20000)
    assert CreditNote.objects.get().status == CreditNoteStatus.ISSUED


def test_client_credit_is_left_alone_when_the_agency_does_not_apply_it(
    agency: Agency, buyer: Client, vat: TaxRate
) -> None:
    payment_record_manual(
        agency=agency,
        actor=None,
        client=buyer,
        amount=Decimal("1000.00"),
        currency="USD",
        received_on=NOW.date(),
        method="bank_transfer",
        allocations=[],
    )
    schedule_make(buyer, [line(taxes=[vat])], start=NOVEMBER)
    billing_run(as_of=NOW)
    assert Invoice.objects.get().amount_paid_minor == 0


def test_a_tax_exempt_client_is_billed_without_tax(buyer: Client, vat: TaxRate) -> None:
    Client.objects.filter(pk=buyer.pk).update(tax_exempt=True)
    schedule_make(buyer, [line(taxes=[vat])], start=NOVEMBER)
    billing_run(as_of=NOW)
    invoice = Invoice.objects.get()
    assert (invoice.total_minor, invoice.tax_breakdown) == (65000, [])


def test_the_queries_of_a_chunk_do_not_grow_with_its_invoices(agency: Agency, vat: TaxRate) -> None:
    def chunk(count: int) -> list[int]:
        return [
            schedule_make(
                ClientFactory.create(agency=agency, currency="USD"),
                [line(taxes=[vat]), line("Hosting", "1", "40")],
                start=NOVEMBER,
                on_period="issue_and_send",
            ).pk
            for _ in range(count)
        ]

    billing_run_chunk(schedule_ids=chunk(1), as_of=NOW)  # the year's counter row now exists
    small, large = chunk(3), chunk(40)
    with CaptureQueriesContext(connection) as few:
        assert billing_run_chunk(schedule_ids=small, as_of=NOW)["created"] == 3
    with CaptureQueriesContext(connection) as many:
        assert billing_run_chunk(schedule_ids=large, as_of=NOW)["created"] == 40
    # Only SQLite's 999 parameters a statement split the inserts of the larger chunk more.
    assert len(many) - len(few) < (len(large) - len(small)) / 10


def test_due_chunks_stream_every_due_schedule_once_in_chunks_of_one_agency(
    agency: Agency, vat: TaxRate
) -> None:
    due = [
        schedule_make(ClientFactory.create(agency=agency), [line()], start=NOVEMBER).pk
        for _ in range(5)
    ]
    schedule_make(ClientFactory.create(agency=agency), [line()], start=dt.date(2026, 12, 1))
    other = schedule_make(ClientFactory.create(), [line()], start=NOVEMBER)
    chunks = list(billing_run_due_chunks(as_of=NOW, size=2))
    assert chunks == [due[0:2], due[2:4], due[4:5], [other.pk]]


def test_a_weekly_schedule_catches_up_every_week(buyer: Client, vat: TaxRate) -> None:
    schedule_make(buyer, [line(taxes=[vat])], start=dt.date(2026, 11, 2), unit=IntervalUnit.WEEK)
    billing_run(as_of=NOW)
    assert list(Invoice.objects.order_by("issue_date").values_list("issue_date", flat=True)) == [
        dt.date(2026, 11, 2),
        dt.date(2026, 11, 9),
        dt.date(2026, 11, 16),
        dt.date(2026, 11, 23),
    ]


def test_schedules_of_the_same_lines_are_priced_once_but_a_tax_exempt_client_on_its_own(
    agency: Agency, buyer: Client, vat: TaxRate
) -> None:
    vat.refresh_from_db()
    lines = [line(taxes=[vat]), line("Hosting", quantity="3", unit_price="19.99")]
    other = ClientFactory.create(agency=agency, currency=buyer.currency)
    exempt = ClientFactory.create(agency=agency, currency=buyer.currency, tax_exempt=True)
    for client in (buyer, other, exempt):
        schedule_make(client, [*lines], start=NOVEMBER)

    with mock.patch(
        "clientledger.billing.services.common.inputs_totals", wraps=inputs_totals
    ) as pricing:
        billing_run(as_of=NOW)

    assert pricing.call_count == 2
    totals = dict(Invoice.objects.values_list("client_id", "tax_total_minor"))
    assert totals[buyer.pk] == totals[other.pk] > 0
    assert totals[exempt.pk] == 0


def test_catch_up_periods_are_priced_once_and_alike_to_an_invoice_priced_alone(
    agency: Agency, buyer: Client, vat: TaxRate
) -> None:
    vat.refresh_from_db()  # its percent as stored ("20.0000"), as the run reads it
    lines = [
        line(taxes=[vat]),
        line(
            "Hosting",
            quantity="3",
            unit_price="19.99",
            discount_kind="percent",
            discount_value=Decimal("10"),
        ),
    ]
    schedule_make(buyer, lines, start=dt.date(2026, 11, 2), unit=IntervalUnit.WEEK)
    alone = invoice_create(agency=agency, actor=None, client=buyer, lines=lines)

    with mock.patch(
        "clientledger.billing.services.common.inputs_totals", wraps=inputs_totals
    ) as pricing:
        billing_run(as_of=NOW)

    assert pricing.call_count == 1
    invoices = list(Invoice.objects.filter(issue_date__isnull=False))
    assert len(invoices) == 4

    def amounts(invoice: Invoice) -> tuple[object, ...]:
        return (
            invoice.subtotal_minor,
            invoice.discount_minor,
            invoice.tax_total_minor,
            invoice.total_minor,
            invoice.tax_breakdown,
            [
                (item.net_minor, item.tax_minor, item.total_minor, item.tax_snapshot)
                for item in invoice.lines.order_by("position")
            ],
        )

    alone.refresh_from_db()
    assert [amounts(invoice) for invoice in invoices] == [amounts(alone)] * 4


def test_the_command_bills_and_summarises(buyer: Client, vat: TaxRate) -> None:
    schedule_make(buyer, [line(taxes=[vat])], start=dt.date(2026, 10, 1))
    out = io.StringIO()
    call_command("billing", "run", "--as-of", "2026-11-24", stdout=out)
    assert Invoice.objects.count() == 2
    assert "2 invoices created" in out.getvalue()
    assert "0 schedules failed" in out.getvalue()


def test_the_background_runner_bills_before_rendering_and_sending(
    buyer: Client, vat: TaxRate
) -> None:
    names = list(SWEEPS)
    assert names.index("billing_run") < names.index("render_invoice_pdfs")
    assert names.index("render_invoice_pdfs") < names.index("drain_outbox")
    schedule_make(buyer, [line(taxes=[vat])], start=NOVEMBER)
    assert SWEEPS["billing_run"](as_of=NOW) == {"created": 1}
    assert RecurringSchedule.objects.get().next_period_index == 1
    assert SWEEPS["billing_run"](as_of=NOW) == {}
    assert BillingRun.objects.count() == 1  # a pass with nothing due leaves no record
