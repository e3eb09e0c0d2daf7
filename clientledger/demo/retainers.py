"""The demo's retainers, started months ago and billed by a run each month, oldest invoices paid."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from clientledger.accounts.models import Agency, User
from clientledger.catalog.models import Service, TaxRate
from clientledger.core import clock
from clientledger.core.money import from_minor, quantize
from clientledger.crm.models import Client, Deal
from clientledger.demo.data.retainers import RETAINERS
from clientledger.demo.data.seeds import RetainerSeed
from clientledger.demo.lines import line_data
from clientledger.payments.models import PaymentMethod
from clientledger.payments.services.manual import payment_record_manual
from clientledger.recurring.calculations import RECURRENCE_FREQUENCIES, add_months
from clientledger.recurring.models import RecurringPeriod, RecurringSchedule
from clientledger.recurring.services.billing_run import billing_run
from clientledger.recurring.services.schedules import schedule_create, schedule_create_from_deal


def retainers_create(
    agency: Agency,
    actor: User,
    clients: dict[str, Client],
    services: dict[str, Service],
    taxes: dict[str, TaxRate],
) -> tuple[int, int]:
    """Retainers started months ago, billed by a billing run on the 2nd of every month since
    (as the background run would have), their oldest invoices paid."""
    this_month = clock.agency_today(agency).replace(day=1)
    deals = {deal.title: deal for deal in Deal.objects.filter(agency=agency)}
    schedules = [
        _retainer_create(agency, actor, seed, this_month, deals, clients, services, taxes)
        for seed in RETAINERS
    ]
    runs = 0
    zone = ZoneInfo(agency.timezone)
    month = min(schedule.start_date for schedule in schedules)
    while month <= this_month:
        moment = dt.datetime.combine(month + dt.timedelta(days=1), dt.time(9), tzinfo=zone)
        billing_run(as_of=min(moment, clock.now()), agency=agency)
        runs, month = runs + 1, add_months(month, 1)
    for seed, schedule in zip(RETAINERS, schedules, strict=True):
        _retainer_payments(agency, actor, seed, schedule)
    return len(schedules), runs


def _retainer_create(
    agency: Agency,
    actor: User,
    seed: RetainerSeed,
    this_month: dt.date,
    deals: dict[str, Deal],
    clients: dict[str, Client],
    services: dict[str, Service],
    taxes: dict[str, TaxRate],
) -> RecurringSchedule:
    start = add_months(this_month, -seed.months_ago)
    if seed.deal:
        return schedule_create_from_deal(
            deal=deals[seed.deal],
            actor=actor,
            start_date=start,
            name=seed.name,
            on_period=seed.on_period,
        )
    client = clients[seed.client]
    frequency = RECURRENCE_FREQUENCIES[seed.lines[0].recurrence]
    return schedule_create(
        agency=agency,
        actor=actor,
        client=client,
        name=seed.name,
        lines=[line_data(line, services[line.service], client, taxes) for line in seed.lines],
        start_date=start,
        interval_unit=frequency.unit,
        interval_count=frequency.count,
        on_period=seed.on_period,
    )


def _retainer_payments(
    agency: Agency, actor: User, seed: RetainerSeed, schedule: RecurringSchedule
) -> None:
    """The oldest `seed.paid` invoices paid in full twelve days after their date, the next one
    in part; the rest stay open (overdue once past their terms)."""
    today = clock.agency_today(agency)
    periods = RecurringPeriod.objects.filter(agency=agency, schedule=schedule).select_related(
        "invoice__client"
    )
    for index, period in enumerate(periods.order_by("period_index")):
        share = Decimal(1) if index < seed.paid else seed.part_paid if index == seed.paid else 0
        invoice = period.invoice
        if not share or invoice is None:
            continue
        balance = from_minor(invoice.balance_due_minor, invoice.currency)
        amount = quantize(balance * share, invoice.currency)
        assert invoice.issue_date is not None  # the demo's retainers issue their invoices
        payment_record_manual(
            agency=agency,
            actor=actor,
            client=invoice.client,
            amount=amount,
            currency=invoice.currency,
            received_on=min(invoice.issue_date + dt.timedelta(days=12), today),
            method=PaymentMethod.BANK_TRANSFER,
            reference=f"Retainer {invoice.number}",
            allocations=[(invoice, amount)],
        )
