"""Manual payments and their refunds.

Money arrives as decimal strings in the client's currency and is checked by the payment
services, which lock what they change: nothing is saved unless everything is valid."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Annotated

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from ninja import Field, Query, Router
from ninja.errors import HttpError

from clientledger.accounts.models import Agency
from clientledger.accounts.roles import Perm
from clientledger.api.access import agency_client, require
from clientledger.api.documents import ClientRef, DocumentRef
from clientledger.api.inputs import (
    Amount,
    ChoiceValue,
    Currency,
    IsoDate,
    LongText,
    RowId,
    StrictSchema,
    Text,
)
from clientledger.api.outputs import DecimalStr, Output, minor_money_str, responses
from clientledger.api.pagination import Page, PageParams, paginate
from clientledger.api.service_errors import api_field_names
from clientledger.billing.models import Invoice
from clientledger.core.permissions import AgencyRequest
from clientledger.payments.models import (
    CREDITED_STATUSES,
    MANUAL_METHODS,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Refund,
    RefundStatus,
)
from clientledger.payments.selectors import payment_list
from clientledger.payments.services.manual import payment_record_manual_booked
from clientledger.payments.services.refunds import payment_refund

payments_router = Router(tags=["payments"])

PAYMENT_ORDERING = ("-received_on", "-id")
MAX_ALLOCATIONS = 200
IDEMPOTENCY_HEADER = "Idempotency-Key"
PAYMENT_FIELD_NAMES = {"client": "client_id", "invoice": "invoice_id"}
CREATE_DESCRIPTION = (
    "Records money the client sent (bank transfer, check, cash or other) in the client's "
    "currency. `allocations` says which open invoices of the client it pays and how much; "
    "without it the payment pays the client's open invoices, oldest due first. What no "
    "invoice takes becomes the client's credit. Send an idempotency key (in the body or the "
    f"`{IDEMPOTENCY_HEADER}` header) to make a retried request answer the first payment "
    "instead of recording a second one (with the same answer, 201)."
)

IdempotencyKey = Annotated[str, Text(200, required=True)]


# --- input --------------------------------------------------------------------------------


class AllocationIn(StrictSchema):
    invoice_id: RowId = Field(description="An open invoice of the payment's client.")
    amount: Amount = Field(description="At most the invoice's balance due.")


ManualMethod = enum.StrEnum(  # type: ignore[misc]
    "ManualMethod", {method.name: method.value for method in MANUAL_METHODS}
)


class PaymentIn(StrictSchema):
    client_id: RowId
    amount: Amount
    currency: Currency | None = Field(
        None, description="The client's currency, which is the default; no other is accepted."
    )
    received_on: IsoDate
    method: Annotated[ManualMethod, ChoiceValue] = Field(
        description="Card and ACH payments only come from Stripe."
    )
    reference: Annotated[str, Text(200)] = Field("", description="E.g. the bank's reference.")
    notes: LongText = ""
    allocations: list[AllocationIn] | None = Field(
        None,
        max_length=MAX_ALLOCATIONS,
        description="Omit to pay open invoices oldest due first; `[]` keeps it all as credit.",
    )
    idempotency_key: IdempotencyKey | None = None


class RefundIn(StrictSchema):
    amount: Amount = Field(description="At most what was paid and not refunded yet.")
    reason: Annotated[str, Text(2000, required=True, multiline=True)]


class PaymentParams(PageParams):
    client_id: RowId | None = None
    method: PaymentMethod | None = None
    status: PaymentStatus | None = None


# --- output -------------------------------------------------------------------------------


class PaymentAllocationOut(Output):
    invoice: DocumentRef
    amount: DecimalStr

    @classmethod
    def of(cls, invoice: Invoice, amount_minor: int) -> PaymentAllocationOut:
        """What the payment paid of `invoice`."""
        return cls(
            invoice=DocumentRef(id=invoice.pk, number=invoice.number or None),
            amount=minor_money_str(amount_minor, invoice.currency),
        )


class RefundOut(Output):
    id: int
    amount: DecimalStr
    reason: str
    status: RefundStatus
    created_at: dt.datetime

    @classmethod
    def of(cls, refund: Refund) -> RefundOut:
        return cls(
            id=refund.pk,
            amount=minor_money_str(refund.amount_minor, refund.currency),
            reason=refund.reason,
            status=RefundStatus(refund.status),
            created_at=refund.created_at,
        )


class PaymentOut(Output):
    id: int
    client: ClientRef
    method: PaymentMethod
    status: PaymentStatus
    currency: str
    amount: DecimalStr
    allocated: DecimalStr = Field(description="What pays invoices.")
    refunded: DecimalStr = Field(description="What succeeded refunds gave back.")
    refund_pending: DecimalStr = Field(description="Refunds Stripe has not confirmed yet.")
    unallocated: DecimalStr = Field(
        description="The rest: the client's credit from it (zero while a bank debit is pending "
        "and after it failed)."
    )
    fee: DecimalStr | None = Field(description="Stripe's fee, once Stripe reports it.")
    net: DecimalStr | None = Field(description="What reaches the agency after Stripe's fee.")
    failure_message: str = Field(description="Why a failed bank debit failed.")
    received_on: dt.date
    reference: str
    notes: str
    allocations: list[PaymentAllocationOut]
    refunds: list[RefundOut]
    created_at: dt.datetime

    @classmethod
    def of(cls, payment: Payment) -> PaymentOut:
        """A payment read with `_payments` (its client, allocations and refunds prefetched)."""
        return cls.made(
            payment,
            paid=[
                (allocation.invoice, allocation.amount_minor)
                for allocation in payment.allocations.all()
            ],
            refunds=list(payment.refunds.all()),
        )

    @classmethod
    def made(
        cls, payment: Payment, *, paid: list[tuple[Invoice, int]], refunds: list[Refund]
    ) -> PaymentOut:
        """A payment with its client, what it paid of each invoice and its refunds in hand: a
        payment just recorded is answered without reading it back."""
        currency = payment.currency
        allocated = sum(minor for _, minor in paid)
        refunded = sum(r.amount_minor for r in refunds if r.status == RefundStatus.SUCCEEDED)
        pending = sum(r.amount_minor for r in refunds if r.status == RefundStatus.PENDING)
        arrived = payment.status in CREDITED_STATUSES
        return cls(
            id=payment.pk,
            client=ClientRef(id=payment.client_id, name=payment.client.name),
            method=PaymentMethod(payment.method),
            status=PaymentStatus(payment.status),
            currency=currency,
            amount=minor_money_str(payment.amount_minor, currency),
            allocated=minor_money_str(allocated, currency),
            refunded=minor_money_str(refunded, currency),
            refund_pending=minor_money_str(pending, currency),
            unallocated=minor_money_str(
                payment.amount_minor - allocated - refunded - pending if arrived else 0, currency
            ),
            fee=None if payment.fee_minor is None else minor_money_str(payment.fee_minor, currency),
            net=None if payment.net_minor is None else minor_money_str(payment.net_minor, currency),
            failure_message=payment.failure_message,
            received_on=payment.received_on,
            reference=payment.reference,
            notes=payment.notes,
            allocations=[PaymentAllocationOut.of(invoice, minor) for invoice, minor in paid],
            refunds=[RefundOut.of(refund) for refund in refunds],
            created_at=payment.created_at,
        )


# --- shared steps -------------------------------------------------------------------------


def _payments(agency: Agency) -> QuerySet[Payment]:
    """Payments as the API shows them: each with its client, allocations and refunds."""
    return payment_list(agency=agency).prefetch_related("allocations__invoice", "refunds")


def _payment_out(agency: Agency, payment_id: int) -> PaymentOut:
    return PaymentOut.of(_payments(agency).get(pk=payment_id))


def _idempotency_key(request: AgencyRequest, payload: PaymentIn) -> str | None:
    header = request.headers.get(IDEMPOTENCY_HEADER, "").strip() or None
    if header and payload.idempotency_key and header != payload.idempotency_key:
        raise ValidationError(
            {"idempotency_key": f"Differs from the {IDEMPOTENCY_HEADER} header; send one key."}
        )
    return payload.idempotency_key or header


def _allocations(
    agency: Agency, allocations: list[AllocationIn] | None
) -> list[tuple[Invoice, Decimal]] | None:
    """The requested invoices as rows of the agency, in one query; other ids are a 422. The
    service locks and checks them again: this read only names a stranger's id."""
    if allocations is None:
        return None
    wanted = {allocation.invoice_id for allocation in allocations}
    invoices = Invoice.objects.filter(agency=agency, pk__in=wanted).only("pk", "number")
    found = {invoice.pk: invoice for invoice in invoices}
    unknown = {
        f"allocations[{index}].invoice_id": "Choose an invoice of your agency."
        for index, allocation in enumerate(allocations)
        if allocation.invoice_id not in found
    }
    if unknown:
        raise ValidationError(unknown)
    return [(found[allocation.invoice_id], allocation.amount) for allocation in allocations]


# --- payments -----------------------------------------------------------------------------


@payments_router.get("", response=responses({200: Page[PaymentOut]}), summary="List payments")
def list_payments(request: AgencyRequest, params: Query[PaymentParams]) -> Page[PaymentOut]:
    agency = require(request, Perm.VIEW)
    payments = _payments(agency)
    if params.client_id is not None:
        payments = payments.filter(client_id=params.client_id)
    if params.method is not None:
        payments = payments.filter(method=params.method)
    if params.status is not None:
        payments = payments.filter(status=params.status)
    return paginate(
        payments,
        ordering=PAYMENT_ORDERING,
        params=params,
        item=PaymentOut,
        render=lambda page: [PaymentOut.of(payment) for payment in page],
    )


@payments_router.post(
    "",
    response=responses({201: PaymentOut}),
    summary="Record a manual payment",
    description=CREATE_DESCRIPTION,
)
def create_payment(request: AgencyRequest, payload: PaymentIn) -> tuple[int, PaymentOut]:
    agency = require(request, Perm.PAYMENT_RECORD)
    key = _idempotency_key(request, payload)
    client = agency_client(agency=agency, pk=payload.client_id)
    allocations = _allocations(agency, payload.allocations)
    with api_field_names(PAYMENT_FIELD_NAMES):
        booked = payment_record_manual_booked(
            agency=agency,
            actor=request.user,
            client=client,
            amount=payload.amount,
            currency=payload.currency or client.currency,
            received_on=payload.received_on,
            method=payload.method,
            reference=payload.reference,
            notes=payload.notes,
            allocations=allocations,
            idempotency_key=key,
        )
    if not booked.recorded:
        return 201, _payment_out(agency, booked.payment.pk)
    return 201, PaymentOut.made(booked.payment, paid=booked.paid, refunds=[])


@payments_router.get(
    "/{payment_id}", response=responses({200: PaymentOut}), summary="Get a payment"
)
def get_payment(request: AgencyRequest, payment_id: RowId) -> PaymentOut:
    return _payment_out(require(request, Perm.VIEW), payment_id)


@payments_router.post(
    "/{payment_id}/refunds",
    response=responses({201: PaymentOut}),
    summary="Record a manual refund",
    description=(
        "Records money given back to the client; answers the payment with its refunds. The "
        "refund takes the payment's unallocated rest first, then what it paid on its newest "
        "invoices, which are due again. A payment that cannot be refunded any more answers "
        "409."
    ),
)
def refund_payment(
    request: AgencyRequest, payment_id: RowId, payload: RefundIn
) -> tuple[int, PaymentOut]:
    agency = require(request, Perm.PAYMENT_RECORD)
    payment = payment_list(agency=agency).get(pk=payment_id)
    try:
        payment_refund(
            agency=agency,
            actor=request.user,
            payment=payment,
            amount=payload.amount,
            reason=payload.reason,
        )
    except ValidationError as exc:
        # The service names "payment" when the payment's state refuses the refund (already
        # refunded, changed meanwhile): a conflict, not bad input.
        if hasattr(exc, "error_dict") and "payment" in exc.error_dict:
            raise HttpError(409, " ".join(exc.message_dict["payment"])) from exc
        raise
    return 201, _payment_out(agency, payment_id)
