"""The books after any sequence of invoices, payments, credit notes, applications and refunds:
each client's ledger balance equals what its invoices still owe minus its credit, to the minor
unit, and every cached total agrees with the rows it sums (hypothesis stateful test)."""

from __future__ import annotations

from contextlib import suppress
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db.models import Sum
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from clientledger.accounts.models import Agency
from clientledger.billing.ledger import credit_mismatches, ledger_mismatches
from clientledger.billing.models import (
    CreditNote,
    CreditSettlement,
    Invoice,
    InvoiceStatus,
    LedgerEntry,
)
from clientledger.billing.selectors.credits import credit_note_remaining_minor, invoice_creditable
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
from clientledger.payments.selectors import client_credit_minor
from clientledger.payments.services.credit import credit_apply
from clientledger.payments.services.credit_note_refunds import credit_note_refund
from clientledger.payments.services.manual import payment_record_manual
from tests.factories import AgencyFactory, ClientFactory
from tests.payments.conftest import TODAY, issue_invoice

pytestmark = pytest.mark.django_db

amounts = st.integers(min_value=1, max_value=50_000).map(lambda cents: Decimal(cents) / 100)
settlements = st.sampled_from(list(CreditSettlement))
picks = st.integers(min_value=0, max_value=1_000)


def _pick(rows: list[Invoice] | list[CreditNote], index: int) -> Invoice | CreditNote | None:
    return rows[index % len(rows)] if rows else None


class Books(RuleBasedStateMachine):
    """One client of a fresh agency; each rule calls a real service and accepts its refusal."""

    client: Client

    @initialize()
    def open_the_books(self) -> None:
        agency: Agency = AgencyFactory.create()
        self.client = ClientFactory.create(agency=agency, currency="USD")

    def _invoices(self) -> list[Invoice]:
        return list(Invoice.objects.filter(client=self.client).order_by("id"))

    def _credit_notes(self) -> list[CreditNote]:
        return list(CreditNote.objects.filter(client=self.client, status="issued").order_by("id"))

    @rule(total=amounts)
    def issue_an_invoice(self, total: Decimal) -> None:
        issue_invoice(self.client, str(total))

    @rule(amount=amounts, pick=picks)
    def receive_a_payment(self, amount: Decimal, pick: int) -> None:
        open_invoices = [i for i in self._invoices() if i.status == InvoiceStatus.OPEN]
        invoice = _pick(open_invoices, pick)
        allocation = []
        if isinstance(invoice, Invoice):
            due = Decimal(invoice.balance_due_minor) / 100
            allocation = [(invoice, min(amount, due))]
        payment_record_manual(
            agency=self.client.agency,
            actor=None,
            client=self.client,
            amount=amount,
            currency="USD",
            received_on=TODAY,
            method="bank_transfer",
            allocations=allocation,
        )

    @rule(share=st.integers(min_value=1, max_value=100), pick=picks, settlement=settlements)
    def credit_an_invoice(self, share: int, pick: int, settlement: str) -> None:
        """A share of what is still creditable on an invoice, as a free adjustment line."""
        invoice = _pick(self._invoices(), pick)
        if not isinstance(invoice, Invoice):
            return
        cents = max(invoice_creditable(invoice).total_minor * share // 100, 1)
        line = LineData(
            description="Adjustment", quantity=Decimal(1), unit_price=Decimal(cents) / 100
        )
        try:
            draft = credit_note_create(
                invoice=invoice,
                actor=None,
                reason="Correction",
                settlement=settlement,
                lines=[CreditLine(data=line)],
            )
        except ValidationError:
            return  # nothing left to credit on this invoice
        credit_note_issue(credit_note=draft, actor=None)

    @rule(amount=amounts, pick=picks)
    def apply_client_credit(self, amount: Decimal, pick: int) -> None:
        invoice = _pick([i for i in self._invoices() if i.status == "open"], pick)
        if not isinstance(invoice, Invoice):
            return
        with suppress(ValidationError):
            credit_apply(
                agency=self.client.agency,
                actor=None,
                client=self.client,
                invoice=invoice,
                amount=amount,
            )

    @rule(amount=st.integers(min_value=1, max_value=50_000), note=picks, invoice=picks)
    def apply_one_credit_note(self, amount: int, note: int, invoice: int) -> None:
        credit_note = _pick(self._credit_notes(), note)
        target = _pick([i for i in self._invoices() if i.status == "open"], invoice)
        if not isinstance(credit_note, CreditNote) or not isinstance(target, Invoice):
            return
        with suppress(ValidationError):
            credit_note_apply(
                agency=self.client.agency,
                actor=None,
                credit_note=credit_note,
                invoice=target,
                amount_minor=amount,
            )

    @rule(share=st.integers(min_value=1, max_value=100), note=picks)
    def refund_a_credit_note(self, share: int, note: int) -> None:
        """A share of what is left of a credit note, paid back from its invoice's payments."""
        credit_note = _pick(self._credit_notes(), note)
        if not isinstance(credit_note, CreditNote):
            return
        cents = credit_note_remaining_minor(credit_note) * share // 100
        with suppress(ValidationError):
            credit_note_refund(
                agency=self.client.agency,
                actor=None,
                credit_note=credit_note,
                amount=Decimal(max(cents, 1)) / 100,
                reason="Paid back",
            )

    @invariant()
    def the_ledger_equals_what_is_owed_minus_the_credit(self) -> None:
        if not hasattr(self, "client"):
            return
        self.client.refresh_from_db()
        ledger = LedgerEntry.objects.filter(client=self.client).aggregate(s=Sum("amount_minor"))
        owed = sum(
            invoice.balance_due_minor
            for invoice in self._invoices()
            if invoice.status != InvoiceStatus.DRAFT
        )
        credit = client_credit_minor(agency=self.client.agency, client=self.client)
        assert self.client.balance_minor == (ledger["s"] or 0) == owed - credit
        assert all(credit_note_remaining_minor(note) >= 0 for note in self._credit_notes())
        assert ledger_mismatches(agency=self.client.agency) == []
        assert credit_mismatches(agency=self.client.agency) == []


Books.TestCase.settings = settings(
    max_examples=20,
    stateful_step_count=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@pytest.mark.usefixtures("frozen_now")
def test_the_books_add_up_after_any_sequence_of_money_events() -> None:
    Books.TestCase().runTest()
