"""What money does to an issued invoice: what was paid or credited on it and whether it is
paid.

Billing owns an invoice's state; payments never writes it. A payment writer locks the
invoices it moves with `invoices_lock` (first, in id order: see payments/services) and
then reports each movement of money through `invoice_payment_applied` or
`invoice_payment_reversed`, which move the paid total and the status by the transition
table. The money event itself (a payment recorded, credit applied, a refund) is audited and
posted to the ledger by the payment writer that caused it. Each move of what the invoice
owes is added to the reporting rollup (`rollups.invoice_balance_moved`) as it is saved.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.core.exceptions import ValidationError

from clientledger.accounts.models import Agency
from clientledger.billing.models import Invoice, InvoiceStatus
from clientledger.billing.services.rollups import invoice_balance_moved
from clientledger.billing.states import invoice_transition_check
from clientledger.core import clock
from clientledger.core.rows import row_update, rows_lock

# What settling reads and writes of an invoice (`invoice_payment_applied` and its rollup
# move), what a payment's checks and its receipt read, and what the API answers of them.
SETTLEMENT_FIELDS = (
    "agency",
    "client",
    "deal",
    "number",
    "currency",
    "status",
    "issue_date",
    "due_date",
    "total_minor",
    "amount_paid_minor",
    "amount_credited_minor",
    "updated_at",
)


def invoices_lock(
    *, agency: Agency, ids: Iterable[int], fields: Sequence[str] | None = None
) -> dict[int, Invoice]:
    """Lock the agency's invoices among `ids` for a change of what is paid on them.

    Id order: two writers locking overlapping invoices never wait for each other in a
    circle. Only the invoices' rows: the client row is the caller's to lock, after these.
    `fields`: only those read (`SETTLEMENT_FIELDS` for a writer that reads nothing else: a
    payment's other columns, its snapshots above all, cost more to read than to lock)."""
    return _agency_invoices_lock(agency, ids=sorted(set(ids)), fields=fields)


def client_open_invoices_lock(
    *, agency: Agency, client_id: int, fields: Sequence[str] | None = None
) -> dict[int, Invoice]:
    """Lock the client's open invoices as `invoices_lock` does, found and locked in one
    statement (PostgreSQL checks each row is still open once its lock is granted)."""
    return _agency_invoices_lock(
        agency, equal=[("client", client_id), ("status", InvoiceStatus.OPEN)], fields=fields
    )


def _agency_invoices_lock(
    agency: Agency,
    *,
    ids: Sequence[int] | None = None,
    equal: Sequence[tuple[str, object]] = (),
    fields: Sequence[str] | None = None,
) -> dict[int, Invoice]:
    """The agency's invoices among `ids` whose fields `equal` the values given, locked in id
    order, by id, each given the agency: its timezone dates the rollups' moves, without a
    query for it."""
    invoices = rows_lock(Invoice, ids=ids, equal=[("agency", agency.pk), *equal], fields=fields)
    for invoice in invoices:
        invoice.agency = agency
    return {invoice.pk: invoice for invoice in invoices}


def invoice_payable_check(invoice: Invoice, *, field: str | None = None) -> None:
    """Only an open invoice takes money; `field` names the form field the refusal is on."""
    if invoice.status != InvoiceStatus.OPEN:
        message = f"Invoice {invoice} is {invoice.status}; only open invoices can be paid."
        raise ValidationError({field: message} if field else message)


def invoice_payment_applied(*, invoice: Invoice, amount_minor: int) -> None:
    """Money pays `amount_minor` more of a locked open invoice (an allocation of a payment
    or of credit, or a failed refund's amount coming back); with nothing left due it is paid."""
    invoice_payable_check(invoice)
    _settled_move(invoice, "amount_paid_minor", amount_minor)


def invoice_payment_reversed(*, invoice: Invoice, amount_minor: int) -> None:
    """Money that paid `amount_minor` of a locked invoice leaves it (a refund, a lost
    dispute): the invoice owes that much again, and a paid invoice reopens."""
    _settled_move(invoice, "amount_paid_minor", -amount_minor)


def invoice_credit_applied(*, invoice: Invoice, amount_minor: int) -> None:
    """A credit note's credit settles `amount_minor` of a locked open invoice; with nothing
    left due it is paid (and reads "Credited" when credit settled all of it)."""
    invoice_payable_check(invoice)
    _settled_move(invoice, "amount_credited_minor", amount_minor)


def invoice_credit_released(*, invoice: Invoice, amount_minor: int) -> None:
    """Credit that settled `amount_minor` of a locked invoice goes back to its credit note
    (a refund of that credit failed): the invoice owes it again, a paid invoice reopens."""
    _settled_move(invoice, "amount_credited_minor", -amount_minor)


def _settled_move(invoice: Invoice, field: str, delta_minor: int) -> None:
    """An open or paid invoice is paid exactly when nothing is due on it."""
    setattr(invoice, field, getattr(invoice, field) + delta_minor)
    status_before = target = invoice.status
    if invoice.status == InvoiceStatus.OPEN and invoice.balance_due_minor == 0:
        target = InvoiceStatus.PAID
    elif invoice.status == InvoiceStatus.PAID and invoice.balance_due_minor > 0:
        target = InvoiceStatus.OPEN
    if target != invoice.status:
        invoice_transition_check(invoice.status, target)
        invoice.status = target
    invoice.updated_at = clock.now()
    row_update(invoice, [field, "status", "updated_at"])
    invoice_balance_moved(
        invoice,
        owed_minor=-delta_minor,
        status_before=status_before,
        at=invoice.updated_at,
        paid_minor=delta_minor if field == "amount_paid_minor" else 0,
    )
