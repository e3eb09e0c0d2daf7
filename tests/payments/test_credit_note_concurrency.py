"""Credit notes under real concurrency on PostgreSQL: many credit notes against one invoice,
and one credit note's credit spent on many invoices at once."""

from __future__ import annotations

from decimal import Decimal
from functools import partial

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from clientledger.billing.ledger import credit_mismatches, ledger_mismatches
from clientledger.billing.models import (
    CreditApplication,
    CreditNote,
    CreditNoteStatus,
    CreditSettlement,
    DocumentCounter,
    LedgerEntry,
)
from clientledger.billing.selectors.credits import credit_note_remaining_minor
from clientledger.billing.services.credit_notes import (
    CreditLine,
    credit_note_create,
    credit_note_issue,
)
from clientledger.billing.services.credit_spending import (
    credit_note_apply,
)
from clientledger.crm.models import Client
from clientledger.lines.data import LineData
from tests.billing.test_concurrency import run_concurrently
from tests.payments.conftest import OpenInvoice

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="needs PostgreSQL row locks: SQLite runs one write transaction at a time, so "
        "it cannot race; CI runs these with DATABASE_URL=postgres://...",
    ),
    pytest.mark.django_db(transaction=True),
]


def adjustment(amount: str) -> list[CreditLine]:
    return [
        CreditLine(
            data=LineData(description="Adjustment", quantity=Decimal(1), unit_price=Decimal(amount))
        )
    ]


def test_fifty_concurrent_credit_notes_never_credit_more_than_the_invoice_total(
    payer: Client, open_invoice: OpenInvoice
) -> None:
    invoice = open_invoice("100.00")
    drafts = [
        credit_note_create(
            invoice=invoice,
            actor=None,
            reason="Dispute",
            settlement=CreditSettlement.KEEP,
            lines=adjustment("7.00"),
        )
        for _ in range(50)
    ]

    outcomes = run_concurrently(
        [partial(credit_note_issue, credit_note=draft, actor=None) for draft in drafts],
        threads=25,
    )

    issued = [outcome for outcome in outcomes if isinstance(outcome, CreditNote)]
    refused = [outcome for outcome in outcomes if isinstance(outcome, ValidationError)]
    # 14 x 7.00 = 98.00 fits in 100.00; a 15th would credit more than the invoice.
    assert (len(issued), len(refused)) == (14, 36)
    assert sorted(note.number for note in issued) == [f"CN-2026-{n:05d}" for n in range(1, 15)]
    assert DocumentCounter.objects.get(series="credit_note").last_value == 14
    assert CreditNote.objects.filter(status=CreditNoteStatus.ISSUED).count() == 14
    payer.refresh_from_db()
    assert payer.balance_minor == 10000 - 14 * 700
    assert ledger_mismatches() == [] and credit_mismatches() == []


def test_a_hundred_concurrent_applications_of_one_credit_note_never_over_apply(
    payer: Client, open_invoice: OpenInvoice
) -> None:
    credited = open_invoice("100.00")
    note = credit_note_issue(
        credit_note=credit_note_create(
            invoice=credited,
            actor=None,
            reason="Dispute",
            settlement=CreditSettlement.KEEP,
            lines=adjustment("50.00"),
        ),
        actor=None,
    )
    invoices = [open_invoice("1.00") for _ in range(100)]
    ledger_before = LedgerEntry.objects.count()

    outcomes = run_concurrently(
        [
            partial(
                credit_note_apply,
                agency=payer.agency,
                actor=None,
                credit_note=note,
                invoice=invoice,
                amount_minor=70,
            )
            for invoice in invoices
        ],
        threads=20,
    )

    applied = [outcome for outcome in outcomes if isinstance(outcome, CreditApplication)]
    refused = [outcome for outcome in outcomes if isinstance(outcome, ValidationError)]
    # 71 x 0.70 = 49.70 fits in 50.00; a 72nd would spend credit the note does not have.
    assert (len(applied), len(refused)) == (71, 29)
    assert sum(CreditApplication.objects.values_list("amount_minor", flat=True)) == 4970
    assert credit_note_remaining_minor(note) == 30
    assert LedgerEntry.objects.count() == ledger_before
    assert ledger_mismatches() == [] and credit_mismatches() == []
