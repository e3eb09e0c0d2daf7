"""Each invoice's payment state: what is paid, credited and due, and which payments pay it."""

from __future__ import annotations

import datetime as dt

from ninja import Field, Router

from clientledger.accounts.roles import Perm
from clientledger.api.access import require
from clientledger.api.inputs import RowId
from clientledger.api.outputs import DecimalStr, Output, minor_money_str, responses
from clientledger.billing.models import Invoice, InvoiceStatus
from clientledger.billing.selectors import invoice_get
from clientledger.core.permissions import AgencyRequest
from clientledger.payments.models import Allocation, PaymentMethod
from clientledger.payments.selectors import invoice_payment_state, invoice_payments

invoice_payments_router = Router(tags=["payments"])


class InvoiceAllocationOut(Output):
    payment_id: int
    received_on: dt.date
    method: PaymentMethod
    amount: DecimalStr

    @classmethod
    def of(cls, allocation: Allocation) -> InvoiceAllocationOut:
        payment = allocation.payment
        return cls(
            payment_id=payment.pk,
            received_on=payment.received_on,
            method=PaymentMethod(payment.method),
            amount=minor_money_str(allocation.amount_minor, payment.currency),
        )


class InvoicePaymentsOut(Output):
    invoice_id: int
    number: str | None = Field(description="Null while the invoice is a draft.")
    status: InvoiceStatus
    currency: str
    total: DecimalStr
    amount_paid: DecimalStr
    amount_credited: DecimalStr
    balance_due: DecimalStr
    payment_pending: DecimalStr = Field(
        description="Stripe payments still processing (a bank payment takes days): not paid "
        "yet, and not payable again."
    )
    disputed: bool = Field(description="A payment of the invoice has an open Stripe dispute.")
    allocations: list[InvoiceAllocationOut] = Field(
        description="The payments (and applied credit) that pay it, oldest first."
    )

    @classmethod
    def of(cls, invoice: Invoice) -> InvoicePaymentsOut:
        currency = invoice.currency
        state = invoice_payment_state(invoice=invoice)
        return cls(
            invoice_id=invoice.pk,
            number=invoice.number or None,
            status=InvoiceStatus(invoice.status),
            currency=currency,
            total=minor_money_str(invoice.total_minor, currency),
            amount_paid=minor_money_str(invoice.amount_paid_minor, currency),
            amount_credited=minor_money_str(invoice.amount_credited_minor, currency),
            balance_due=minor_money_str(invoice.balance_due_minor, currency),
            payment_pending=minor_money_str(state.pending_minor, currency),
            disputed=state.disputed,
            allocations=[
                InvoiceAllocationOut.of(allocation)
                for allocation in invoice_payments(invoice=invoice)
            ],
        )


@invoice_payments_router.get(
    "/{invoice_id}/payments",
    response=responses({200: InvoicePaymentsOut}),
    summary="Get an invoice's payments",
    description="What is paid, credited and still due, and which payments pay it.",
)
def get_invoice_payments(request: AgencyRequest, invoice_id: RowId) -> InvoicePaymentsOut:
    invoice = invoice_get(agency=require(request, Perm.VIEW), pk=invoice_id)
    return InvoicePaymentsOut.of(invoice)
