"""Our books follow what Stripe says now.

Events are only a hint about which PaymentIntent changed: we read the PaymentIntent, its
refunds and its disputes back from Stripe and converge to that, so duplicate, late and
out-of-order events all end in the state Stripe reports. Reads happen outside any database
transaction; the decision is then taken under the locks in `services`."""

from __future__ import annotations

import datetime as dt
import logging
import re
from typing import Any

import stripe
from django.core.exceptions import ValidationError

from clientledger.accounts.models import Agency
from clientledger.core.outbox import MAX_ATTEMPTS, backoff, claim_due
from clientledger.payments.models import (
    STRIPE_METHODS,
    PaymentMethod,
    PaymentStatus,
    RefundStatus,
    StripeRequest,
    StripeRequestStatus,
)
from clientledger.payments.services.refunds import refund_request_failed
from clientledger.payments.services.stripe_converge import stripe_payment_converge
from clientledger.payments.services.stripe_reports import (
    StripeDisputeReport,
    StripeIntentReport,
    StripeRefundReport,
)
from clientledger.payments.stripe.amounts import StripeAmountError, from_stripe, to_stripe
from clientledger.payments.stripe.client import stripe_client, stripe_keys

logger = logging.getLogger(__name__)

# Stripe's refund statuses in ours; "requires_action" and "pending" still hold the money.
_REFUND_STATUSES = {
    "pending": RefundStatus.PENDING,
    "requires_action": RefundStatus.PENDING,
    "succeeded": RefundStatus.SUCCEEDED,
    "failed": RefundStatus.FAILED,
    "canceled": RefundStatus.FAILED,
}


def _value(obj: dict[str, Any] | str | None, key: str) -> Any:
    """A field of a Stripe object as a dict; an unexpanded object (its id) or none has none."""
    return obj.get(key) if isinstance(obj, dict) else None


def _intent_status(intent: dict[str, Any]) -> str:
    status = _value(intent, "status")
    if status == "processing":
        return PaymentStatus.PENDING
    if status == "succeeded":
        return PaymentStatus.SUCCEEDED
    # A PaymentIntent back to requires_payment_method after an attempt failed; one that was
    # never attempted has no error and records nothing.
    if status == "canceled" or (
        status == "requires_payment_method" and _value(intent, "last_payment_error")
    ):
        return PaymentStatus.FAILED
    return ""


def _intent_method(intent: dict[str, Any], charge: dict[str, Any] | None) -> str:
    details = _value(charge, "payment_method_details")
    kinds = [_value(details, "type"), *(_value(intent, "payment_method_types") or [])]
    for kind in kinds:
        if kind in STRIPE_METHODS:
            return str(kind)
    return PaymentMethod.CARD


# Our ids as we write them into metadata: positive and within a 64-bit primary key.
_OUR_ID = re.compile(r"[1-9][0-9]{0,17}")


def metadata_id(obj: dict[str, Any] | None, key: str) -> int | None:
    """One of our ids that a Stripe object carries in its metadata, if it carries one."""
    metadata = _value(obj, "metadata")
    value = metadata.get(key) if isinstance(metadata, dict) else None
    return int(value) if isinstance(value, str) and _OUR_ID.fullmatch(value) else None


def _currency(obj: dict[str, Any]) -> str:
    return str(obj["currency"]).upper()


def _fee_and_net(balance: dict[str, Any] | None, currency: str) -> tuple[int | None, int | None]:
    """Stripe's fee and what reaches the agency, in minor units of the payment's currency.
    Settled in another currency (or not yet), they are not ours to record."""
    if not isinstance(balance, dict) or _currency(balance) != currency:
        return None, None
    try:
        return from_stripe(balance["fee"], currency), from_stripe(balance["net"], currency)
    except StripeAmountError:
        return None, None


class ForeignPayment(Exception):
    """A PaymentIntent ClientLedger did not create (the agency's web shop, a Payment Link,
    another installation sharing the Stripe account): acknowledged and left alone."""


def intent_report(intent: dict[str, Any], *, invoice_id: int) -> StripeIntentReport:
    status = _intent_status(intent)
    charge = _value(intent, "latest_charge")
    error = _value(intent, "last_payment_error")
    currency = _currency(intent)
    amount = _value(intent, "amount_received" if status == PaymentStatus.SUCCEEDED else "amount")
    fee, net = _fee_and_net(_value(charge, "balance_transaction"), currency)
    return StripeIntentReport(
        intent_id=str(intent["id"]),
        invoice_id=invoice_id,
        status=status,
        amount_minor=from_stripe(amount or 0, currency),
        currency=currency,
        method=_intent_method(intent, charge),
        fee_minor=fee,
        net_minor=net,
        failure_message=str(_value(error, "message") or ""),
    )


def refund_report(refund: dict[str, Any]) -> StripeRefundReport:
    return StripeRefundReport(
        refund_id=str(refund["id"]),
        local_id=metadata_id(refund, "refund_id"),
        status=_REFUND_STATUSES.get(str(refund["status"]), RefundStatus.PENDING),
        amount_minor=from_stripe(refund["amount"], _currency(refund)),
        failure_message=str(_value(refund, "failure_reason") or ""),
    )


def dispute_report(dispute: dict[str, Any]) -> StripeDisputeReport:
    return StripeDisputeReport(
        dispute_id=str(dispute["id"]),
        status=str(dispute["status"]),
        amount_minor=from_stripe(dispute["amount"], _currency(dispute)),
        reason=str(_value(dispute, "reason") or ""),
    )


def _our_invoice_and_agency(intent: dict[str, Any]) -> tuple[int, Agency]:
    """The invoice and agency our Checkout wrote into the PaymentIntent's metadata."""
    invoice_id = metadata_id(intent, "invoice_id")
    agency_id = metadata_id(intent, "agency_id")
    agency = (
        Agency.objects.select_related("stripe_account").filter(pk=agency_id).first()
        if agency_id is not None
        else None
    )
    if invoice_id is None or agency is None:
        raise ForeignPayment(
            f"PaymentIntent {intent['id']} was not created by ClientLedger: its metadata"
            " names no invoice and agency of ours."
        )
    return invoice_id, agency


def stripe_payment_sync(*, agency: Agency | None, intent_id: str) -> None:
    """Read one PaymentIntent with its refunds and disputes from Stripe and converge to it.

    `agency` is whose keys read it (None: the environment's keys); the PaymentIntent must
    name that agency in its metadata. One that names no invoice and agency of ours is not
    ours to book (`ForeignPayment`)."""
    client = stripe_client(agency)
    intent = client.v1.payment_intents.retrieve(
        intent_id, params={"expand": ["latest_charge.balance_transaction"]}
    ).to_dict()
    invoice_id, owner = _our_invoice_and_agency(intent)
    # Read with the environment's keys, it may only concern an agency that uses them.
    expected_key = stripe_keys(agency).secret_key
    if (
        owner.pk != agency.pk
        if agency is not None
        else stripe_keys(owner).secret_key != expected_key
    ):
        raise ValidationError({"agency": "The PaymentIntent is not this agency's."})
    refunds = client.v1.refunds.list(params={"payment_intent": intent_id, "limit": 100})
    disputes = client.v1.disputes.list(params={"payment_intent": intent_id, "limit": 100})
    stripe_payment_converge(
        agency=owner,
        intent=intent_report(intent, invoice_id=invoice_id),
        refunds=[refund_report(refund.to_dict()) for refund in refunds.auto_paging_iter()],
        disputes=[dispute_report(dispute.to_dict()) for dispute in disputes.auto_paging_iter()],
    )


# --- refunds through Stripe (the outbox) ---------------------------------------------------


def stripe_requests_send_due(*, as_of: dt.datetime, batch: int = 50) -> dict[str, int]:
    outcome: dict[str, int] = {}
    for request_id in claim_due(StripeRequest, as_of=as_of, batch=batch):
        status = stripe_refund_request_send(request_id=request_id, as_of=as_of)
        outcome[status] = outcome.get(status, 0) + 1
    return outcome


def stripe_refund_request_send(*, request_id: int, as_of: dt.datetime) -> str:
    """Ask Stripe for one claimed refund; the idempotency key from our refund's id makes a
    retry after a lost answer the same refund. Stripe refusing it fails the refund (the money
    comes back); a network or server error is retried with backoff."""
    request = StripeRequest.objects.select_related("refund__payment__agency__stripe_account").get(
        pk=request_id
    )
    refund = request.refund
    payment = refund.payment
    request.attempts += 1
    request.claimed_at = None
    try:
        stripe_client(payment.agency).v1.refunds.create(
            params={
                "payment_intent": str(payment.stripe_payment_intent_id),
                "amount": to_stripe(refund.amount_minor, refund.currency),
                "metadata": {"refund_id": str(refund.pk), "agency_id": str(payment.agency_id)},
            },
            options={"idempotency_key": f"refund-{payment.agency_id}-{refund.pk}"},
        )
    except (
        stripe.InvalidRequestError,
        stripe.CardError,
        stripe.PermissionError,
        # Refused before asking: Stripe would refuse it too.
        StripeAmountError,
    ) as refusal:
        request.status = StripeRequestStatus.FAILED
        request.last_error = getattr(refusal, "user_message", None) or str(refusal)
        request.save(update_fields=["status", "attempts", "claimed_at", "last_error"])
        refund_request_failed(refund_id=refund.pk, message=request.last_error)
        return request.status
    except stripe.StripeError as error:
        logger.warning("Stripe refund request %s failed: %s", request.pk, error)
        request.last_error = f"{type(error).__name__}: {error}"
        if request.attempts >= MAX_ATTEMPTS:
            request.status = StripeRequestStatus.FAILED
            request.save(update_fields=["status", "attempts", "claimed_at", "last_error"])
            refund_request_failed(refund_id=refund.pk, message=request.last_error)
        else:
            request.status = StripeRequestStatus.QUEUED
            request.next_attempt_at = as_of + backoff(request.attempts)
            request.save(
                update_fields=["status", "attempts", "claimed_at", "last_error", "next_attempt_at"]
            )
        return request.status
    request.status = StripeRequestStatus.DONE
    request.done_at = as_of
    request.last_error = ""
    request.save(update_fields=["status", "attempts", "claimed_at", "last_error", "done_at"])
    try:
        stripe_payment_sync(agency=payment.agency, intent_id=str(payment.stripe_payment_intent_id))
    except (stripe.StripeError, ValidationError) as error:
        # The refund is made; its webhook (or `stripe reconcile`) brings its state later.
        logger.warning("Stripe refund %s made, state not read back: %s", refund.pk, error)
    return request.status
