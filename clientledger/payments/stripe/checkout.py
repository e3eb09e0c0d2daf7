"""Stripe Checkout: what the client may pay online for an invoice, and the Checkout Session
they pay it through."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.urls import reverse

from clientledger.accounts.models import Agency
from clientledger.billing.models import Invoice, InvoiceStatus
from clientledger.core.money import format_money, from_minor
from clientledger.payments.models import Payment, PaymentMethod, StripeAccount
from clientledger.payments.selectors import invoice_payment_state
from clientledger.payments.stripe.amounts import StripeAmountError, to_stripe
from clientledger.payments.stripe.client import stripe_client, stripe_configured

if TYPE_CHECKING:
    from stripe.params.checkout import SessionCreateParams


# Stripe offers ACH debits for US dollar payments only.
ACH_CURRENCY = "USD"


def checkout_methods(invoice: Invoice) -> list[PaymentMethod]:
    """How the client may pay the invoice online."""
    if invoice.currency == ACH_CURRENCY:
        return [PaymentMethod.CARD, PaymentMethod.US_BANK_ACCOUNT]
    return [PaymentMethod.CARD]


def partial_payments_allowed(agency: Agency) -> bool:
    # The accessor, as in stripe_keys: the portal loads the account with the agency.
    account: StripeAccount | None = getattr(agency, "stripe_account", None)
    return account is not None and account.allow_partial_payments


@dataclass(frozen=True)
class OnlinePayable:
    """What the client may still pay online: the balance less the payments processing."""

    balance_minor: int
    pending_minor: int

    @property
    def payable_minor(self) -> int:
        return max(0, self.balance_minor - self.pending_minor)


def online_payable(invoice: Invoice) -> OnlinePayable:
    is_open = invoice.status == InvoiceStatus.OPEN
    return OnlinePayable(
        balance_minor=invoice.balance_due_minor if is_open else 0,
        pending_minor=invoice_payment_state(invoice=invoice).pending_minor,
    )


def checkout_idempotency_key(
    invoice: Invoice, payable: OnlinePayable, params: SessionCreateParams
) -> str:
    """Stripe answers a repeated key with its first Session, and refuses it with other
    parameters, so the key covers every parameter (the portal link in the return URLs, the
    amount, the method, ...) and what was paid: the same request twice (a double click, a
    retry) gets the first Session back; another link, amount or method a Session of its own.
    Any payment in between changes the key, so the next visit starts a fresh Session; so does
    a Stripe payment that failed (a bank debit the bank refused), which leaves the amounts as
    they were but used up the Session it was paid through."""
    stripe_payments = Payment.objects.filter(agency_id=invoice.agency_id, invoice=invoice).count()
    request = {
        "params": params,
        "paid": invoice.amount_paid_minor,
        "pending": payable.pending_minor,
        "stripe_payments": stripe_payments,
    }
    digest = hashlib.sha256(json.dumps(request, sort_keys=True).encode()).hexdigest()
    return f"checkout-{invoice.agency_id}-{invoice.pk}-{digest}"


def _money(minor: int, currency: str) -> str:
    return format_money(from_minor(minor, currency), currency)


def _checked_amount(
    invoice: Invoice, payable: OnlinePayable, amount_minor: int | None, method: str
) -> int:
    """The amount to ask Stripe for, or a ValidationError saying why it cannot be paid."""
    currency = invoice.currency
    if payable.balance_minor <= 0:
        raise ValidationError({"invoice": "This invoice has nothing left to pay."})
    if method not in checkout_methods(invoice):
        if method == PaymentMethod.US_BANK_ACCOUNT:
            raise ValidationError(
                {"method": "Payment by US bank account (ACH) is only possible in US dollars."}
            )
        raise ValidationError({"method": "Choose card or US bank account (ACH)."})
    if payable.payable_minor <= 0:
        pending = _money(payable.pending_minor, currency)
        raise ValidationError(
            {"invoice": f"A bank payment of {pending} is already processing for this invoice."}
        )
    amount = payable.payable_minor if amount_minor is None else amount_minor
    if not 0 < amount <= payable.payable_minor:
        most = _money(payable.payable_minor, currency)
        raise ValidationError({"amount": f"Pay an amount greater than zero and at most {most}."})
    if amount < payable.payable_minor and not partial_payments_allowed(invoice.agency):
        whole = _money(payable.payable_minor, currency)
        raise ValidationError(
            {"amount": f"This invoice cannot be paid in part: pay {whole}, the amount due."}
        )
    return amount


def _stripe_amount(invoice: Invoice, payable: OnlinePayable, amount_minor: int) -> int:
    """What Stripe is asked for: the amount due rounded up to an amount Stripe takes (the
    surplus, less than Stripe's smallest step, becomes the client's credit); a part of it
    only if Stripe takes it exactly."""
    try:
        return to_stripe(
            amount_minor, invoice.currency, round_up=amount_minor == payable.payable_minor
        )
    except StripeAmountError as refusal:
        raise ValidationError({"amount": str(refusal)}) from None


def checkout_session_create(
    *, invoice: Invoice, token: str, amount_minor: int | None = None, method: str = "card"
) -> str:
    """A Stripe Checkout URL where the client pays the invoice (what is payable by default;
    less only when the agency allows partial payments) by card or, for US dollar invoices, by
    US bank account (ACH); `token` is the portal link the client comes back to."""
    agency = invoice.agency
    if not stripe_configured(agency):
        raise ValidationError({"invoice": "Online payment is not available for this invoice."})
    payable = online_payable(invoice)
    amount = _checked_amount(invoice, payable, amount_minor, method)
    stripe_amount = _stripe_amount(invoice, payable, amount)
    metadata = {"invoice_id": str(invoice.pk), "agency_id": str(agency.pk)}
    params: SessionCreateParams = {
        "mode": "payment",
        # API version endive renamed payment_method_types to allowed_payment_method_types.
        "allowed_payment_method_types": [method],
        "client_reference_id": str(invoice.pk),
        "line_items": [
            {
                "quantity": 1,
                "price_data": {
                    "currency": invoice.currency.lower(),
                    "unit_amount": stripe_amount,
                    "product_data": {"name": f"Invoice {invoice}"},
                },
            }
        ],
        "metadata": metadata,
        # PaymentIntent events carry the same ids, so either event can record the payment.
        "payment_intent_data": {"metadata": metadata},
        "success_url": settings.SITE_URL + reverse("portal:pay_success", args=[token]),
        "cancel_url": settings.SITE_URL + reverse("portal:pay_cancel", args=[token]),
    }
    idempotency_key = checkout_idempotency_key(invoice, payable, params)
    session = stripe_client(agency).v1.checkout.sessions.create(
        params=params, options={"idempotency_key": idempotency_key}
    )
    if not session.url:
        raise ValidationError({"invoice": "Stripe did not return a payment page."})
    return session.url
