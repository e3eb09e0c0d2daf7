"""A client's credit: what it is and paying an invoice with it."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from ninja import Field, Router

from clientledger.accounts.models import Agency
from clientledger.accounts.roles import Perm
from clientledger.api.access import require
from clientledger.api.inputs import Amount, RowId, StrictSchema
from clientledger.api.invoice_payments import InvoicePaymentsOut
from clientledger.api.outputs import DecimalStr, Output, money_str, responses
from clientledger.api.payments import PAYMENT_FIELD_NAMES
from clientledger.api.service_errors import api_field_names
from clientledger.billing.models import Invoice
from clientledger.billing.selectors import invoice_get
from clientledger.core.permissions import AgencyRequest
from clientledger.crm.models import Client
from clientledger.crm.selectors import client_get
from clientledger.payments.selectors import client_credit_balance
from clientledger.payments.services.credit import credit_apply

credit_router = Router(tags=["client credit"])


class CreditApplyIn(StrictSchema):
    invoice_id: RowId = Field(description="An open invoice of the client.")
    amount: Amount = Field(description="At most the invoice's balance and the client's credit.")


class CreditOut(Output):
    client_id: int
    currency: str
    balance: DecimalStr = Field(description="Paid, not used by any invoice and not refunded.")

    @classmethod
    def of(cls, client: Client) -> CreditOut:
        balance = client_credit_balance(agency=client.agency, client=client)
        return cls(
            client_id=client.pk,
            currency=client.currency,
            balance=money_str(balance, client.currency),
        )


class CreditAppliedOut(Output):
    credit: CreditOut = Field(description="The credit left.")
    invoice: InvoicePaymentsOut


def _agency_invoice(agency: Agency, invoice_id: int) -> Invoice:
    try:
        return invoice_get(agency=agency, pk=invoice_id)
    except Invoice.DoesNotExist:
        raise ValidationError({"invoice_id": "Choose an invoice of your agency."}) from None


@credit_router.get(
    "/{client_id}/credit", response=responses({200: CreditOut}), summary="Get a client's credit"
)
def get_credit(request: AgencyRequest, client_id: RowId) -> CreditOut:
    return CreditOut.of(client_get(agency=require(request, Perm.VIEW), pk=client_id))


@credit_router.post(
    "/{client_id}/credit/apply",
    response=responses({200: CreditAppliedOut}),
    summary="Pay an invoice with the client's credit",
    description="Credit from the client's oldest payments is used first; it is never spent twice.",
)
def apply_credit(
    request: AgencyRequest, client_id: RowId, payload: CreditApplyIn
) -> CreditAppliedOut:
    agency = require(request, Perm.PAYMENT_RECORD)
    client = client_get(agency=agency, pk=client_id)
    invoice = _agency_invoice(agency, payload.invoice_id)
    with api_field_names(PAYMENT_FIELD_NAMES):
        credit_apply(
            agency=agency, actor=request.user, client=client, invoice=invoice, amount=payload.amount
        )
    return CreditAppliedOut(
        credit=CreditOut.of(client),
        invoice=InvoicePaymentsOut.of(invoice_get(agency=agency, pk=invoice.pk)),
    )
