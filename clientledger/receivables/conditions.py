"""SQL conditions over invoices and estimates that the sweep and the pages share: whom a
policy applies to, and what holds an invoice's reminders back. Each reads a rule once."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q

from clientledger.payments.models import (
    OPEN_DISPUTE_STATUSES,
    Dispute,
    Payment,
    PaymentStatus,
)
from clientledger.receivables.models import (
    ClientReminderSetting,
    InvoiceReminderState,
    InvoiceReminderStatus,
    ReminderPolicy,
)


def follows_policy_condition(policy: ReminderPolicy) -> Q:
    """Documents whose client follows `policy`: chosen for it, or, for the default policy,
    with no choice made (a client set to no reminders follows none)."""
    chosen = Exists(
        ClientReminderSetting.objects.filter(client_id=OuterRef("client_id"), policy=policy)
    )
    if not policy.is_default:
        return Q(chosen)
    unset = ~Exists(ClientReminderSetting.objects.filter(client_id=OuterRef("client_id")))
    return Q(chosen) | Q(unset)


def invoice_paused_condition() -> Exists:
    return Exists(
        InvoiceReminderState.objects.filter(
            invoice_id=OuterRef("pk"), status=InvoiceReminderStatus.PAUSED
        )
    )


def invoice_disputed_condition() -> Exists:
    """A dispute staff must answer: no reminder while it is open."""
    return Exists(
        Dispute.objects.filter(invoice_id=OuterRef("pk"), status__in=OPEN_DISPUTE_STATUSES)
    )


def invoice_payment_pending_condition() -> Exists:
    """A bank (ACH) payment on its way: the client has paid as far as it knows."""
    return Exists(Payment.objects.filter(invoice_id=OuterRef("pk"), status=PaymentStatus.PENDING))
