"""Manual payments, client credit and manual refunds (DESIGN.md section 4, Payments).

Lock order, shared with billing's services (document before client): invoices in id order,
then the client row, then the payment. Every writer of allocations and refunds holds the
client row, so a client's credit cannot change under a service that holds it: two
applications of the same credit run one after the other and the second sees what is left.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.urls import reverse

from clientledger.accounts.models import Agency, User
from clientledger.accounts.roles import Perm, roles_allowing
from clientledger.accounts.selectors import member_emails
from clientledger.billing.ledger import ledger_append
from clientledger.billing.models import Invoice, InvoiceStatus, LedgerEntryKind
from clientledger.billing.states import invoice_transition_check
from clientledger.core import clock
from clientledger.core.audit import audit_record
from clientledger.core.dates import dates_check
from clientledger.core.money import format_money, from_minor, max_amount, quantize, to_minor
from clientledger.crm.models import Client
from clientledger.notifications.services import email_enqueue
from clientledger.payments.models import (
    HOLDING_REFUND_STATUSES,
    MANUAL_METHODS,
    Allocation,
    Dispute,
    DisputeStatus,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Refund,
    RefundStatus,
    StripeRequest,
)
from clientledger.payments.selectors import payment_credit_rests
from clientledger.payments.states import payment_transition_check, refund_transition_check
from clientledger.payments.stripe_amounts import StripeAmountError, to_stripe

MAX_TEXT = 200


def _minor_amount(amount: Decimal | int, currency: str, field: str) -> int:
    """A positive amount with no more decimals than the currency has, in minor units."""
    if isinstance(amount, bool) or not isinstance(amount, Decimal | int):
        raise ValidationError({field: "Enter the amount as a decimal number."})
    if isinstance(amount, Decimal) and not amount.is_finite():
        raise ValidationError({field: "Enter a finite amount."})
    if amount <= 0:
        raise ValidationError({field: "The amount must be greater than zero."})
    value = Decimal(amount)
    limit = max_amount(currency)
    if value >= limit:
        raise ValidationError(
            {field: f"The amount must be less than {format_money(limit, currency)}."}
        )
    if quantize(value, currency) != value:
        raise ValidationError({field: f"{currency} amounts cannot have more decimals."})
    return to_minor(value, currency)


def _money(minor: int, currency: str) -> str:
    return format_money(from_minor(minor, currency), currency)


def _label(invoice: Invoice) -> str:
    return f"Invoice {invoice}"


def _check_client(agency: Agency, client: Client) -> None:
    if client.agency_id != agency.pk:
        raise ValidationError({"client": "This client does not belong to your agency."})


def _check_payable(invoice: Invoice | None, client: Client, currency: str, field: str) -> Invoice:
    """The invoice, if the client can pay it now: open, the client's, in its currency."""
    if invoice is None or invoice.client_id != client.pk:
        raise ValidationError({field: "This invoice does not belong to the client."})
    if invoice.status != InvoiceStatus.OPEN:
        raise ValidationError(
            {field: f"{_label(invoice)} is {invoice.status}; only open invoices can be paid."}
        )
    if invoice.currency != currency:
        raise ValidationError(
            {field: f"{_label(invoice)} is in {invoice.currency}, not in {currency}."}
        )
    return invoice


def _lock_invoices(agency: Agency, ids: Iterable[int]) -> dict[int, Invoice]:
    # Id order: two services locking overlapping invoices never wait for each other in a
    # circle.
    invoices = Invoice.objects.select_for_update(of=("self",)).filter(
        agency=agency, pk__in=set(ids)
    )
    return {invoice.pk: invoice for invoice in invoices.order_by("pk")}


def _lock_client(client_id: int) -> Client:
    return Client.objects.select_for_update().get(pk=client_id)


def _invoice_paid_add(invoice: Invoice, delta_minor: int) -> None:
    """Move what was paid on a locked invoice; it is paid exactly when nothing is due."""
    invoice.amount_paid_minor += delta_minor
    target = invoice.status
    if invoice.status == InvoiceStatus.OPEN and invoice.balance_due_minor == 0:
        target = InvoiceStatus.PAID
    elif invoice.status == InvoiceStatus.PAID and invoice.balance_due_minor > 0:
        target = InvoiceStatus.OPEN
    if target != invoice.status:
        invoice_transition_check(invoice.status, target)
        invoice.status = target
    invoice.updated_at = clock.now()
    invoice.save(update_fields=["amount_paid_minor", "status", "updated_at"])


def _payment_by_key(agency: Agency, key: str) -> Payment | None:
    return Payment.objects.filter(agency=agency, idempotency_key=key).first()


# --- recording a payment -------------------------------------------------------------------


def payment_record_manual(
    *,
    agency: Agency,
    actor: User | None,
    client: Client,
    amount: Decimal,
    currency: str,
    received_on: dt.date,
    method: str,
    reference: str = "",
    notes: str = "",
    allocations: list[tuple[Invoice, Decimal]] | None = None,
    idempotency_key: str | None = None,
) -> Payment:
    """Record money the client sent, pay its invoices with it and keep the rest as credit.

    Without `allocations` the payment goes to the client's open invoices, oldest due first.
    The same `idempotency_key` twice, even at the same instant, gives the first payment."""
    key = idempotency_key or None
    if key is not None:
        if len(key) > MAX_TEXT:
            raise ValidationError({"idempotency_key": "The idempotency key is too long."})
        existing = _payment_by_key(agency, key)
        if existing is not None:
            return existing
    _check_client(agency, client)
    dates_check(received_on=received_on)
    if currency != client.currency:
        raise ValidationError(
            {"currency": f"{client.name} pays in {client.currency}, not in {currency}."}
        )
    if method not in MANUAL_METHODS:
        raise ValidationError({"method": "Choose bank transfer, check, cash or other."})
    if len(reference) > MAX_TEXT:
        raise ValidationError({"reference": f"Keep the reference under {MAX_TEXT} characters."})
    amount_minor = _minor_amount(amount, currency, "amount")
    requested = None if allocations is None else _requested_allocations(allocations, currency)
    try:
        with transaction.atomic():
            return _payment_record(
                agency=agency,
                actor=actor,
                client=client,
                payment=Payment(
                    agency=agency,
                    client=client,
                    method=method,
                    status=PaymentStatus.SUCCEEDED,
                    amount_minor=amount_minor,
                    currency=currency,
                    received_on=received_on,
                    reference=reference.strip(),
                    notes=notes.strip(),
                    idempotency_key=key,
                    created_by=actor,
                ),
                requested=requested,
            )
    except IntegrityError:
        # A concurrent submission with the same key committed first: it is this payment.
        existing = _payment_by_key(agency, key) if key is not None else None
        if existing is None:
            raise
        return existing


def _requested_allocations(
    allocations: list[tuple[Invoice, Decimal]], currency: str
) -> list[tuple[int, int]]:
    requested: list[tuple[int, int]] = []
    for invoice, amount in allocations:
        if any(invoice.pk == invoice_id for invoice_id, _ in requested):
            raise ValidationError({"allocations": f"{_label(invoice)} is listed twice."})
        requested.append((invoice.pk, _minor_amount(amount, currency, "allocations")))
    return requested


def _payment_record(
    *,
    agency: Agency,
    actor: User | None,
    client: Client,
    payment: Payment,
    requested: list[tuple[int, int]] | None,
) -> Payment:
    """Save `payment` with its allocations, ledger entry, audit and receipt, unless the same
    submission was recorded already (checked under the locks).

    Without `requested` the payment pays the client's open invoices, oldest due first."""
    if requested is None:
        open_ids = Invoice.objects.filter(
            agency=agency, client=client, status=InvoiceStatus.OPEN
        ).values_list("pk", flat=True)
        invoices = _lock_invoices(agency, open_ids)
    else:
        invoices = _lock_invoices(agency, (invoice_id for invoice_id, _ in requested))
    locked_client = _lock_client(client.pk)
    if payment.idempotency_key is not None:
        existing = _payment_by_key(agency, payment.idempotency_key)
        if existing is not None:
            return existing
    plan = (
        allocation_spread(oldest_first(invoices.values()), payment.amount_minor)
        if requested is None
        else _checked_plan(requested, invoices, locked_client, payment)
    )
    payment.save(force_insert=True)
    _payment_book(actor=actor, client=locked_client, payment=payment, plan=plan)
    return payment


def _payment_book(
    *, actor: User | None, client: Client, payment: Payment, plan: list[tuple[Invoice, int]]
) -> None:
    """Book a saved, succeeded payment: its allocations pay the (locked) invoices, the whole
    amount reaches the ledger (its unallocated rest is the client's credit), the audit trail
    and the client's receipt."""
    for invoice, minor in plan:
        Allocation.objects.create(
            agency_id=payment.agency_id, payment=payment, invoice=invoice, amount_minor=minor
        )
        _invoice_paid_add(invoice, minor)
    ledger_append(
        client=client,
        kind=LedgerEntryKind.PAYMENT_SUCCEEDED,
        document=payment,
        document_reference=str(payment),
        amount_minor=-payment.amount_minor,
        currency=payment.currency,
        occurred_at=clock.now(),
    )
    audit_record(
        agency=payment.agency,
        actor=actor,
        verb="payment.recorded",
        subject=payment,
        client_id=client.pk,
        data={
            "amount": from_minor(payment.amount_minor, payment.currency),
            "currency": payment.currency,
            "method": payment.method,
            "allocations": {
                str(invoice): from_minor(minor, payment.currency) for invoice, minor in plan
            },
        },
    )
    if client.billing_email:
        _receipt_enqueue(payment=payment, client=client, plan=plan)


def oldest_first(invoices: Iterable[Invoice]) -> list[Invoice]:
    """Open invoices in the order a payment settles them: earliest due first."""
    return sorted(
        (invoice for invoice in invoices if invoice.status == InvoiceStatus.OPEN),
        key=lambda invoice: (
            invoice.due_date or dt.date.max,
            invoice.issue_date or dt.date.max,
            invoice.pk,
        ),
    )


def allocation_spread(invoices: Iterable[Invoice], amount_minor: int) -> list[tuple[Invoice, int]]:
    """`amount_minor` spread over `invoices` in their order, each up to its balance due."""
    plan: list[tuple[Invoice, int]] = []
    remaining = amount_minor
    for invoice in invoices:
        share = min(remaining, invoice.balance_due_minor)
        if share > 0:
            plan.append((invoice, share))
            remaining -= share
    return plan


def _checked_plan(
    requested: list[tuple[int, int]],
    invoices: dict[int, Invoice],
    client: Client,
    payment: Payment,
) -> list[tuple[Invoice, int]]:
    plan: list[tuple[Invoice, int]] = []
    for invoice_id, minor in requested:
        invoice = _check_payable(
            invoices.get(invoice_id), client, payment.currency, field="allocations"
        )
        if minor > invoice.balance_due_minor:
            due = _money(invoice.balance_due_minor, invoice.currency)
            raise ValidationError({"allocations": f"{_label(invoice)} has only {due} left to pay."})
        plan.append((invoice, minor))
    allocated = sum(minor for _, minor in plan)
    if allocated > payment.amount_minor:
        raise ValidationError(
            {
                "allocations": f"The allocations add up to {_money(allocated, payment.currency)},"
                f" more than the payment of {_money(payment.amount_minor, payment.currency)}."
            }
        )
    return plan


def _receipt_enqueue(*, payment: Payment, client: Client, plan: list[tuple[Invoice, int]]) -> None:
    allocated = sum(minor for _, minor in plan)
    email_enqueue(
        agency=payment.agency,
        to=[client.billing_email],
        subject=f"{payment.agency.name}: payment received, thank you",
        template="payment_receipt",
        context={
            "payment": payment,
            "client": client,
            "allocations": [(str(invoice), minor) for invoice, minor in plan],
            "credit_minor": payment.amount_minor - allocated,
        },
    )


# --- client credit -------------------------------------------------------------------------


def credit_apply(
    *, agency: Agency, actor: User | None, client: Client, invoice: Invoice, amount: Decimal
) -> list[Allocation]:
    """Pay an open invoice with the client's credit, taken from its oldest payments first.

    No ledger entry: the money reached the ledger when the payment was recorded."""
    _check_client(agency, client)
    amount_minor = _minor_amount(amount, client.currency, "amount")
    with transaction.atomic():
        locked_invoice = _check_payable(
            _lock_invoices(agency, [invoice.pk]).get(invoice.pk),
            client,
            client.currency,
            field="invoice",
        )
        if amount_minor > locked_invoice.balance_due_minor:
            due = _money(locked_invoice.balance_due_minor, locked_invoice.currency)
            raise ValidationError({"amount": f"{_label(locked_invoice)} has only {due} left."})
        locked_client = _lock_client(client.pk)
        sources = payment_credit_rests(agency=agency, client=locked_client)
        credit = sum(rest for _, rest in sources)
        if amount_minor > credit:
            raise ValidationError(
                {"amount": f"The client has only {_money(credit, client.currency)} of credit."}
            )
        applied: list[Allocation] = []
        remaining = amount_minor
        for payment_id, rest in sources:
            if remaining == 0:
                break
            share = min(remaining, rest)
            applied.append(_allocation_add(payment_id, locked_invoice, share))
            remaining -= share
        _invoice_paid_add(locked_invoice, amount_minor)
        audit_record(
            agency=agency,
            actor=actor,
            verb="invoice.credit_applied",
            subject=locked_invoice,
            client_id=client.pk,
            data={
                "amount": from_minor(amount_minor, client.currency),
                "payments": [allocation.payment_id for allocation in applied],
            },
        )
    return applied


def _allocation_add(payment_id: int, invoice: Invoice, minor: int) -> Allocation:
    # One row per (payment, invoice): credit from a payment that already pays part of this
    # invoice grows that allocation.
    allocation, created = Allocation.objects.get_or_create(
        payment_id=payment_id,
        invoice=invoice,
        defaults={"agency_id": invoice.agency_id, "amount_minor": minor},
    )
    if not created:
        allocation.amount_minor += minor
        allocation.save(update_fields=["amount_minor"])
    return allocation


# --- refunds -------------------------------------------------------------------------------


def payment_refund(
    *, agency: Agency, actor: User | None, payment: Payment, amount: Decimal, reason: str
) -> Refund:
    """Give money of a payment back to the client.

    A Stripe payment is refunded through Stripe: the refund holds its amount at once and is
    pending until Stripe confirms it (the call is an outbox row, made after commit); if it
    fails, the money comes back. Any other payment's refund is recorded as done."""
    if payment.agency_id != agency.pk:
        raise ValidationError({"payment": "This payment does not belong to your agency."})
    if not reason.strip():
        raise ValidationError({"reason": "Say why the payment is refunded."})
    amount_minor = _minor_amount(amount, payment.currency, "amount")
    through_stripe = payment.stripe_payment_intent_id is not None
    if through_stripe:
        try:
            to_stripe(amount_minor, payment.currency)
        except StripeAmountError as refusal:
            raise ValidationError({"amount": str(refusal)}) from None
    with transaction.atomic():
        locked, client, invoices = _lock_payment(agency, payment.pk)
        refund = _refund_hold(
            actor=actor,
            payment=locked,
            client=client,
            invoices=invoices,
            amount_minor=amount_minor,
            reason=reason.strip(),
            status=RefundStatus.PENDING if through_stripe else RefundStatus.SUCCEEDED,
            via_stripe=through_stripe,
        )
        if through_stripe:
            StripeRequest.objects.create(agency=agency, refund=refund, next_attempt_at=clock.now())
    return refund


def _refund_invoice_ids(payment_filter: Q) -> set[int]:
    """The invoices a payment's allocations and refunds touch: all a refund may move."""
    ids = set(Allocation.objects.filter(payment_filter).values_list("invoice_id", flat=True))
    for taken_from in Refund.objects.filter(payment_filter).values_list("taken_from", flat=True):
        ids.update(int(invoice_id) for invoice_id in taken_from)
    return ids


def _lock_payment(agency: Agency, payment_id: int) -> tuple[Payment, Client, dict[int, Invoice]]:
    """Lock what a refund of the payment moves: its invoices, its client, the payment."""
    invoices = _lock_invoices(agency, _refund_invoice_ids(Q(payment_id=payment_id)))
    payment = Payment.objects.filter(agency=agency, pk=payment_id).only("client_id").first()
    if payment is None:
        raise ValidationError({"payment": "This payment does not belong to your agency."})
    client = _lock_client(payment.client_id)
    return Payment.objects.select_for_update().get(pk=payment_id), client, invoices


def _refund_hold(
    *,
    actor: User | None,
    payment: Payment,
    client: Client,
    invoices: dict[int, Invoice],
    amount_minor: int,
    reason: str,
    status: str,
    via_stripe: bool = False,
    stripe_refund_id: str | None = None,
    dispute: Dispute | None = None,
) -> Refund:
    """Take `amount_minor` of a locked payment back from the client.

    The refund takes first from the payment's unallocated rest (the client's credit), then
    from what it paid on its newest invoices (latest due first), which owe that much again:
    a paid invoice reopens. A lost dispute is booked as a payment reversal."""
    allocations = list(
        Allocation.objects.filter(payment=payment).order_by(
            "-invoice__due_date", "-invoice__issue_date", "-invoice_id"
        )
    )
    if any(allocation.invoice_id not in invoices for allocation in allocations):
        raise ValidationError({"payment": "The payment changed while it was refunded; try again."})
    if payment.status not in (PaymentStatus.SUCCEEDED, PaymentStatus.PARTIALLY_REFUNDED):
        raise ValidationError(
            {"payment": f"A {payment.get_status_display().lower()} payment cannot be refunded."}
        )
    refundable = payment.amount_minor - _held_minor(payment)
    if amount_minor > refundable:
        raise ValidationError(
            {"amount": f"At most {_money(refundable, payment.currency)} can be refunded."}
        )
    unallocated = refundable - sum(allocation.amount_minor for allocation in allocations)
    from_invoices = max(0, amount_minor - unallocated)
    taken_from: dict[str, int] = {}
    for allocation in allocations:
        if from_invoices == 0:
            break
        share = min(allocation.amount_minor, from_invoices)
        if share == allocation.amount_minor:
            allocation.delete()
        else:
            allocation.amount_minor -= share
            allocation.save(update_fields=["amount_minor"])
        _invoice_paid_add(invoices[allocation.invoice_id], -share)
        taken_from[str(allocation.invoice_id)] = share
        from_invoices -= share
    refund = Refund.objects.create(
        agency_id=payment.agency_id,
        payment=payment,
        amount_minor=amount_minor,
        currency=payment.currency,
        reason=reason,
        status=status,
        via_stripe=via_stripe,
        stripe_refund_id=stripe_refund_id,
        dispute=dispute,
        taken_from=taken_from,
        created_by=actor,
    )
    _payment_refund_state(payment)
    ledger_append(
        client=client,
        kind=LedgerEntryKind.PAYMENT_REVERSED if dispute else LedgerEntryKind.REFUND,
        document=refund,
        document_reference=str(refund),
        amount_minor=amount_minor,
        currency=payment.currency,
        occurred_at=refund.created_at,
    )
    audit_record(
        agency=payment.agency,
        actor=actor,
        verb="payment.reversed" if dispute else "payment.refunded",
        subject=payment,
        client_id=payment.client_id,
        data={
            "amount": from_minor(amount_minor, payment.currency),
            "reason": reason,
            "status": status,
            "invoices": {
                str(invoices[int(invoice_id)]): from_minor(minor, payment.currency)
                for invoice_id, minor in taken_from.items()
            },
        },
    )
    return refund


def _held_minor(payment: Payment) -> int:
    total = payment.refunds.filter(status__in=HOLDING_REFUND_STATUSES).aggregate(
        total=Sum("amount_minor")
    )["total"]
    return int(total or 0)


def _payment_refund_state(payment: Payment) -> None:
    """A locked payment's status follows the refunds that hold part of it."""
    held = _held_minor(payment)
    if held == 0:
        target = PaymentStatus.SUCCEEDED
    elif held == payment.amount_minor:
        target = PaymentStatus.REFUNDED
    else:
        target = PaymentStatus.PARTIALLY_REFUNDED
    if target != payment.status:
        payment_transition_check(payment.status, target)
        payment.status = target
        payment.save(update_fields=["status"])


def _refund_succeed(refund: Refund) -> None:
    refund_transition_check(refund.status, RefundStatus.SUCCEEDED)
    refund.status = RefundStatus.SUCCEEDED
    refund.save(update_fields=["status"])
    audit_record(
        agency=refund.payment.agency,
        actor=None,
        verb="refund.succeeded",
        subject=refund.payment,
        client_id=refund.payment.client_id,
        data={"amount": from_minor(refund.amount_minor, refund.currency)},
    )


def _refund_give_back(*, refund: Refund, invoices: dict[int, Invoice], message: str) -> None:
    """A refund (or a dispute's reversal) that did not stand holds its amount no more: the
    amount pays again the (locked) invoices it came from while they are open; the rest is
    the client's credit. The caller books it."""
    refund_transition_check(refund.status, RefundStatus.FAILED)
    payment = refund.payment
    refund.status = RefundStatus.FAILED
    refund.failure_message = message
    refund.save(update_fields=["status", "failure_message"])
    for invoice_id, minor in refund.taken_from.items():
        invoice = invoices[int(invoice_id)]
        share = min(minor, invoice.balance_due_minor)
        if invoice.status == InvoiceStatus.OPEN and share > 0:
            _allocation_add(payment.pk, invoice, share)
            _invoice_paid_add(invoice, share)
    _payment_refund_state(payment)


def _refund_fail(
    *, refund: Refund, client: Client, invoices: dict[int, Invoice], message: str
) -> None:
    """A refund Stripe could not make gives the money back: the ledger entry is reversed and
    the amount pays again the invoices it came from while they are open; the rest is credit."""
    payment = refund.payment
    _refund_give_back(refund=refund, invoices=invoices, message=message)
    ledger_append(
        client=client,
        kind=LedgerEntryKind.REFUND_FAILED,
        document=refund,
        document_reference=str(refund),
        amount_minor=-refund.amount_minor,
        currency=refund.currency,
        occurred_at=clock.now(),
    )
    audit_record(
        agency=payment.agency,
        actor=None,
        verb="refund.failed",
        subject=payment,
        client_id=payment.client_id,
        data={"amount": from_minor(refund.amount_minor, refund.currency), "error": message},
    )
    _finance_alert(
        agency=payment.agency,
        subject=f"Refund of {_money(refund.amount_minor, refund.currency)} failed",
        message=(
            f"Stripe could not refund {_money(refund.amount_minor, refund.currency)} of"
            f" {payment} from {client.name}: {message or 'no reason given'}. The money is"
            " back on the client's invoices or credit."
        ),
        payment=payment,
    )


def refund_request_failed(*, refund_id: int, message: str) -> Refund:
    """Stripe refused the refund call for good: the refund fails and gives the money back."""
    refund = Refund.objects.select_related("payment").get(pk=refund_id)
    with transaction.atomic():
        payment, client, invoices = _lock_payment(refund.payment.agency, refund.payment_id)
        locked = Refund.objects.select_for_update().get(pk=refund_id)
        locked.payment = payment
        if locked.status != RefundStatus.FAILED:
            _refund_fail(refund=locked, client=client, invoices=invoices, message=message)
    return locked


def _finance_alert(*, agency: Agency, subject: str, message: str, payment: Payment) -> None:
    """Tell the agency's people who handle payments."""
    people = member_emails(agency=agency, roles=roles_allowing(Perm.PAYMENT_RECORD))
    if people:
        email_enqueue(
            agency=agency,
            to=people,
            subject=f"{agency.name}: {subject}",
            template="payment_alert",
            context={
                "headline": subject,
                "message": message,
                "link": settings.SITE_URL + reverse("payments:payment_detail", args=[payment.pk]),
            },
        )


# --- Stripe --------------------------------------------------------------------------------


@dataclass(frozen=True)
class StripeIntentReport:
    """What Stripe says of one PaymentIntent now; `status` is ours ("" records nothing)."""

    intent_id: str
    invoice_id: int
    status: str
    amount_minor: int
    currency: str
    method: str
    fee_minor: int | None = None
    net_minor: int | None = None
    failure_message: str = ""


@dataclass(frozen=True)
class StripeRefundReport:
    refund_id: str
    # Our refund's id, which Stripe keeps in the refund's metadata when we asked for it.
    local_id: int | None
    status: str
    amount_minor: int
    failure_message: str = ""


@dataclass(frozen=True)
class StripeDisputeReport:
    dispute_id: str
    status: str
    amount_minor: int
    reason: str


def stripe_payment_converge(
    *,
    agency: Agency,
    intent: StripeIntentReport,
    refunds: Iterable[StripeRefundReport] = (),
    disputes: Iterable[StripeDisputeReport] = (),
) -> Payment | None:
    """Bring our payment for one PaymentIntent, its refunds and its disputes to the state
    Stripe reports, whatever we knew before: applying the same report twice changes nothing.

    ACH: a processing PaymentIntent is a pending payment (the invoice shows it, nothing is
    booked); success books it like a card payment; failure while pending books nothing and
    tells staff. The money arrived whatever happened to the invoice meanwhile: it pays what
    the invoice still owes and the rest becomes the client's credit."""
    invoice = (
        Invoice.objects.select_related("client").filter(agency=agency, pk=intent.invoice_id).first()
    )
    if invoice is None:
        raise ValidationError({"invoice": f"Invoice #{intent.invoice_id} is not this agency's."})
    client = invoice.client
    if intent.currency != client.currency:
        raise ValidationError(
            {"currency": f"{client.name} pays in {client.currency}, not in {intent.currency}."}
        )
    with transaction.atomic():
        touched = _refund_invoice_ids(Q(payment__stripe_payment_intent_id=intent.intent_id))
        invoices = _lock_invoices(agency, {invoice.pk, *touched})
        locked_client = _lock_client(client.pk)
        payment = (
            Payment.objects.select_for_update()
            .filter(stripe_payment_intent_id=intent.intent_id)
            .first()
        )
        if payment is not None and payment.agency_id != agency.pk:
            raise ValidationError({"payment": "The PaymentIntent belongs to another agency."})
        payment = _intent_converge(
            agency=agency,
            client=locked_client,
            invoice=invoices[invoice.pk],
            payment=payment,
            intent=intent,
        )
        if payment is None:
            return None
        for refund in refunds:
            _refund_converge(
                payment=payment, client=locked_client, invoices=invoices, report=refund
            )
        for dispute in disputes:
            _dispute_converge(
                payment=payment, client=locked_client, invoices=invoices, report=dispute
            )
        return payment


def _intent_converge(
    *,
    agency: Agency,
    client: Client,
    invoice: Invoice,
    payment: Payment | None,
    intent: StripeIntentReport,
) -> Payment | None:
    if payment is None:
        # A declined card leaves the client on Stripe's page to try again: nothing to record.
        # A bank debit that failed was a payment in flight, which staff must hear about.
        ach_failed = (
            intent.status == PaymentStatus.FAILED and intent.method == PaymentMethod.US_BANK_ACCOUNT
        )
        if intent.status not in (PaymentStatus.PENDING, PaymentStatus.SUCCEEDED) and not ach_failed:
            return None
        if intent.amount_minor <= 0:
            raise ValidationError({"amount": "The amount must be greater than zero."})
        payment = Payment(
            agency=agency,
            client=client,
            invoice=invoice,
            method=intent.method,
            status=PaymentStatus.PENDING,
            amount_minor=intent.amount_minor,
            currency=intent.currency,
            received_on=clock.agency_today(agency),
            reference=intent.intent_id,
            stripe_payment_intent_id=intent.intent_id,
        )
        payment.save(force_insert=True)
        if intent.status == PaymentStatus.PENDING:
            audit_record(
                agency=agency,
                actor=None,
                verb="payment.pending",
                subject=payment,
                client_id=client.pk,
                data={
                    "amount": from_minor(payment.amount_minor, payment.currency),
                    "invoice": str(invoice),
                },
            )
    if payment.status == PaymentStatus.PENDING and intent.status == PaymentStatus.SUCCEEDED:
        payment_transition_check(payment.status, PaymentStatus.SUCCEEDED)
        payment.status = PaymentStatus.SUCCEEDED
        payment.amount_minor = intent.amount_minor
        payment.method = intent.method
        payment.received_on = clock.agency_today(agency)
        payment.save(update_fields=["status", "amount_minor", "method", "received_on"])
        plan = allocation_spread(oldest_first([invoice]), payment.amount_minor)
        _payment_book(actor=None, client=client, payment=payment, plan=plan)
    elif payment.status == PaymentStatus.PENDING and intent.status == PaymentStatus.FAILED:
        _payment_fail(payment=payment, client=client, message=intent.failure_message)
    if (intent.fee_minor, intent.net_minor) != (None, None) and (
        payment.fee_minor,
        payment.net_minor,
    ) != (intent.fee_minor, intent.net_minor):
        payment.fee_minor = intent.fee_minor
        payment.net_minor = intent.net_minor
        payment.save(update_fields=["fee_minor", "net_minor"])
    return payment


def _payment_fail(*, payment: Payment, client: Client, message: str) -> None:
    """A pending (ACH) payment the bank refused: nothing was booked, so nothing is reversed;
    the invoice stops showing it as pending and staff are told."""
    payment_transition_check(payment.status, PaymentStatus.FAILED)
    payment.status = PaymentStatus.FAILED
    payment.failure_message = message
    payment.save(update_fields=["status", "failure_message"])
    audit_record(
        agency=payment.agency,
        actor=None,
        verb="payment.failed",
        subject=payment,
        client_id=client.pk,
        data={
            "amount": from_minor(payment.amount_minor, payment.currency),
            "error": message,
            "invoice": str(payment.invoice) if payment.invoice else "",
        },
    )
    _finance_alert(
        agency=payment.agency,
        subject=f"Bank payment of {_money(payment.amount_minor, payment.currency)} failed",
        message=(
            f"The {payment.get_method_display()} payment of"
            f" {_money(payment.amount_minor, payment.currency)} from {client.name}"
            f"{f' for invoice {payment.invoice}' if payment.invoice else ''} failed:"
            f" {message or 'the bank gave no reason'}. The invoice is open again."
        ),
        payment=payment,
    )


def _refund_converge(
    *, payment: Payment, client: Client, invoices: dict[int, Invoice], report: StripeRefundReport
) -> None:
    refunds = Refund.objects.select_for_update().select_related("payment")
    refund = refunds.filter(stripe_refund_id=report.refund_id).first()
    if refund is None and report.local_id is not None:
        refund = refunds.filter(pk=report.local_id, payment=payment).first()
        if refund is not None and refund.status == RefundStatus.FAILED:
            # We gave up on the request (Stripe unreachable for hours) but Stripe made the
            # refund after all: the money left, so the books take it again as a new refund.
            refund = None if report.status != RefundStatus.FAILED else refund
    if refund is None:
        if report.status == RefundStatus.FAILED:
            return
        # Made in Stripe's dashboard: our books follow.
        refund = _refund_hold(
            actor=None,
            payment=payment,
            client=client,
            invoices=invoices,
            amount_minor=report.amount_minor,
            reason="Refunded in Stripe",
            status=RefundStatus.PENDING,
            via_stripe=True,
            stripe_refund_id=report.refund_id,
        )
    refund.payment = payment
    if refund.stripe_refund_id != report.refund_id:
        refund.stripe_refund_id = report.refund_id
        refund.save(update_fields=["stripe_refund_id"])
    if report.status == RefundStatus.SUCCEEDED and refund.status == RefundStatus.PENDING:
        _refund_succeed(refund)
    elif report.status == RefundStatus.FAILED and refund.status != RefundStatus.FAILED:
        _refund_fail(
            refund=refund, client=client, invoices=invoices, message=report.failure_message
        )


def _dispute_converge(
    *,
    payment: Payment,
    client: Client,
    invoices: dict[int, Invoice],
    report: StripeDisputeReport,
) -> None:
    dispute = (
        Dispute.objects.select_for_update().filter(stripe_dispute_id=report.dispute_id).first()
    )
    money = _money(report.amount_minor, payment.currency)
    if dispute is None:
        first_paid = payment.allocations.order_by("id").values_list("invoice_id", flat=True).first()
        dispute = Dispute.objects.create(
            agency_id=payment.agency_id,
            payment=payment,
            invoice_id=payment.invoice_id or first_paid,
            stripe_dispute_id=report.dispute_id,
            amount_minor=report.amount_minor,
            currency=payment.currency,
            reason=report.reason,
            status=report.status,
        )
        audit_record(
            agency=payment.agency,
            actor=None,
            verb="payment.disputed",
            subject=payment,
            client_id=client.pk,
            data={
                "amount": from_minor(report.amount_minor, payment.currency),
                "reason": report.reason,
            },
        )
        _finance_alert(
            agency=payment.agency,
            subject=f"{client.name} disputed a payment of {money}",
            message=(
                f"{client.name} disputed {money} of {payment} ({report.reason or 'no reason'})."
                " The invoice is flagged; answer the dispute in Stripe."
            ),
            payment=payment,
        )
    elif dispute.status != report.status:
        previous = dispute.status
        dispute.status = report.status
        dispute.amount_minor = report.amount_minor
        dispute.updated_at = clock.now()
        dispute.save(update_fields=["status", "amount_minor", "updated_at"])
        audit_record(
            agency=payment.agency,
            actor=None,
            verb="payment.dispute_updated",
            subject=payment,
            client_id=client.pk,
            data={"from": previous, "to": report.status},
        )
    reversal = Refund.objects.select_for_update().filter(dispute=dispute).first()
    if dispute.status == DisputeStatus.LOST and reversal is None:
        _dispute_reverse(dispute=dispute, payment=payment, client=client, invoices=invoices)
    elif (
        dispute.status == DisputeStatus.WON
        and reversal is not None
        and reversal.status == RefundStatus.SUCCEEDED
    ):
        reversal.payment = payment
        _dispute_won_on_appeal(reversal=reversal, client=client, invoices=invoices)


def _dispute_reverse(
    *, dispute: Dispute, payment: Payment, client: Client, invoices: dict[int, Invoice]
) -> None:
    """A lost dispute takes the money back: the payment is reversed in the ledger and the
    invoices it paid reopen."""
    amount = min(dispute.amount_minor, payment.amount_minor - _held_minor(payment))
    if amount <= 0 or payment.status not in (
        PaymentStatus.SUCCEEDED,
        PaymentStatus.PARTIALLY_REFUNDED,
    ):
        return
    _refund_hold(
        actor=None,
        payment=payment,
        client=client,
        invoices=invoices,
        amount_minor=amount,
        reason=f"Dispute lost ({dispute.reason or 'no reason'})",
        status=RefundStatus.SUCCEEDED,
        via_stripe=True,
        dispute=dispute,
    )
    money = _money(amount, payment.currency)
    _finance_alert(
        agency=payment.agency,
        subject=f"Dispute lost: {money} taken back from {payment}",
        message=(
            f"{client.name} won the dispute on {payment}: {money} is reversed and the invoices"
            " it paid are open again."
        ),
        payment=payment,
    )


def _dispute_won_on_appeal(
    *, reversal: Refund, client: Client, invoices: dict[int, Invoice]
) -> None:
    """A lost dispute won on appeal brings the money back: the reversal stands no more, the
    payment is booked back in the ledger and pays again the invoices it paid while they are
    open; the rest is the client's credit."""
    payment = reversal.payment
    _refund_give_back(refund=reversal, invoices=invoices, message="Dispute won on appeal.")
    ledger_append(
        client=client,
        kind=LedgerEntryKind.PAYMENT_SUCCEEDED,
        document=payment,
        document_reference=str(payment),
        amount_minor=-reversal.amount_minor,
        currency=payment.currency,
        occurred_at=clock.now(),
    )
    money = _money(reversal.amount_minor, payment.currency)
    audit_record(
        agency=payment.agency,
        actor=None,
        verb="payment.reinstated",
        subject=payment,
        client_id=client.pk,
        data={"amount": from_minor(reversal.amount_minor, payment.currency)},
    )
    _finance_alert(
        agency=payment.agency,
        subject=f"Dispute won on appeal: {money} of {payment} is back",
        message=(
            f"Stripe decided the appeal on {payment} from {client.name} in your favour:"
            f" {money} is booked back; it pays the invoices it paid again, or becomes the"
            " client's credit."
        ),
        payment=payment,
    )
