"""What every payment writer shares: amount checks, the client lock, allocations, finance
alerts."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.urls import reverse

from clientledger.accounts.models import Agency
from clientledger.accounts.roles import Perm, roles_allowing
from clientledger.accounts.selectors import member_emails
from clientledger.billing.models import Invoice
from clientledger.billing.services.settlement import invoice_payable_check
from clientledger.core.money import format_money, from_minor, max_amount, quantize, to_minor
from clientledger.core.rows import rows_lock
from clientledger.crm.models import Client
from clientledger.notifications.services import email_enqueue
from clientledger.payments.models import (
    Allocation,
    AllocationChange,
    Payment,
)

MAX_TEXT = 200


def minor_amount(amount: Decimal | int, currency: str, field: str) -> int:
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


def money_text(minor: int, currency: str) -> str:
    return format_money(from_minor(minor, currency), currency)


def invoice_label(invoice: Invoice) -> str:
    return f"Invoice {invoice}"


def client_check(agency: Agency, client: Client) -> None:
    if client.agency_id != agency.pk:
        raise ValidationError({"client": "This client does not belong to your agency."})


def payable_check(invoice: Invoice | None, client: Client, currency: str, field: str) -> Invoice:
    """The invoice, if the client can pay it now: open, the client's, in its currency."""
    if invoice is None or invoice.client_id != client.pk:
        raise ValidationError({field: "This invoice does not belong to the client."})
    invoice_payable_check(invoice, field=field)
    if invoice.currency != currency:
        raise ValidationError(
            {field: f"{invoice_label(invoice)} is in {invoice.currency}, not in {currency}."}
        )
    return invoice


def client_lock(client_id: int) -> Client:
    # With its agency, whose timezone dates the rollups' day rows: no query for it later.
    locked = rows_lock(Client, ids=[client_id], related=["agency"])
    if not locked:
        raise Client.DoesNotExist(f"No client {client_id}")
    return locked[0]


def allocation_add(payment_id: int, invoice: Invoice, minor: int) -> Allocation:
    # One row per (payment, invoice): credit from a payment that already pays part of this
    # invoice grows that allocation.
    allocation, created = Allocation.objects.get_or_create(
        payment_id=payment_id,
        invoice=invoice,
        defaults={"agency_id": invoice.agency_id, "amount_minor": minor},
    )
    if not created:
        allocation_change(allocation, minor)
    return allocation


def allocation_change(allocation: Allocation, minor: int) -> None:
    """Grow (`minor` > 0) or take back (< 0) an allocation, keeping the change's date; taken
    back whole, the allocation is deleted."""
    AllocationChange.objects.create(
        agency_id=allocation.agency_id,
        payment_id=allocation.payment_id,
        invoice_id=allocation.invoice_id,
        allocated_at=allocation.created_at,
        amount_minor=minor,
    )
    allocation.amount_minor += minor
    if allocation.amount_minor == 0:
        allocation.delete()
    else:
        allocation.save(update_fields=["amount_minor"])


def finance_alert(*, agency: Agency, subject: str, message: str, payment: Payment) -> None:
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
