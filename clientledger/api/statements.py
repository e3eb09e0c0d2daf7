"""A client's statement of account in the API, as JSON and as a PDF."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.http import HttpResponse
from ninja import Field, Query, Router, Schema

from clientledger.accounts.roles import Perm
from clientledger.api.access import require
from clientledger.api.inputs import IsoDate, RowId
from clientledger.api.outputs import DecimalStr, Output, minor_money_str, responses
from clientledger.api.reminders import operation_id
from clientledger.core import clock
from clientledger.core.dates import dates_check
from clientledger.core.permissions import AgencyRequest
from clientledger.crm.selectors import client_get
from clientledger.receivables.statements import (
    Statement,
    client_statement,
    statement_filename,
    statement_pdf,
    statement_period,
)

statements_router = Router(tags=["reminders"])

PDF_RESPONSE = {
    "responses": {
        200: {
            "description": "The statement as a PDF.",
            "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
        }
    }
}


class StatementPeriod(Schema):
    start: IsoDate | None = Field(None, description="Default: 90 days before the end.")
    end: IsoDate | None = Field(None, description="Default: today in the agency's timezone.")


class StatementLineOut(Output):
    date: dt.date
    kind: str
    description: str
    reference: str
    amount: DecimalStr
    balance: DecimalStr


class OpenInvoiceOut(Output):
    invoice_id: int
    number: str
    due_date: dt.date | None
    days_overdue: int
    balance_due: DecimalStr
    portal_url: str | None = Field(description="The client's link, with Pay now.")


class AgingBucketOut(Output):
    label: str
    amount: DecimalStr
    count: int


class StatementOut(Output):
    client_id: int
    currency: str
    start: dt.date
    end: dt.date
    opening_balance: DecimalStr
    closing_balance: DecimalStr = Field(description="The client ledger's sum at the end.")
    lines: list[StatementLineOut]
    open_invoices: list[OpenInvoiceOut]
    open_total: DecimalStr
    aging: list[AgingBucketOut]

    @classmethod
    def of(cls, statement: Statement) -> StatementOut:
        currency = statement.currency

        def money(minor: int) -> str:
            return minor_money_str(minor, currency)

        return cls(
            client_id=statement.client.pk,
            currency=currency,
            start=statement.start,
            end=statement.end,
            opening_balance=money(statement.opening_minor),
            closing_balance=money(statement.closing_minor),
            lines=[
                StatementLineOut(
                    date=line.occurred_on,
                    kind=line.kind,
                    description=line.description,
                    reference=line.reference,
                    amount=money(line.amount_minor),
                    balance=money(line.balance_minor),
                )
                for line in statement.lines
            ],
            open_invoices=[
                OpenInvoiceOut(
                    invoice_id=item.invoice.pk,
                    number=item.invoice.number,
                    due_date=item.invoice.due_date,
                    days_overdue=max(0, item.days_overdue),
                    balance_due=money(item.balance_minor),
                    portal_url=item.portal_url,
                )
                for item in statement.open_invoices
            ],
            open_total=money(statement.open_total_minor),
            aging=[
                AgingBucketOut(label=b.label, amount=money(b.amount_minor), count=b.count)
                for b in statement.aging
            ],
        )


def _statement(request: AgencyRequest, client_id: int, period: StatementPeriod) -> Statement:
    agency = require(request, Perm.VIEW)
    client = client_get(agency=agency, pk=client_id)
    today = clock.agency_today(agency)
    start, end = statement_period(today, period.start, period.end)
    dates_check(start=start, end=end)
    if start > end:
        raise ValidationError({"start": "The period starts after it ends."})
    return client_statement(agency=agency, client=client, start=start, end=end, today=today)


@statements_router.get(
    "/{client_id}/statement",
    response=responses({200: StatementOut}),
    summary="Get a client's statement of account",
    description="The client ledger between two dates, what is open and how old it is.",
    operation_id=operation_id("get_statement"),
)
def get_statement(
    request: AgencyRequest, client_id: RowId, period: Query[StatementPeriod]
) -> StatementOut:
    return StatementOut.of(_statement(request, client_id, period))


@statements_router.get(
    "/{client_id}/statement/pdf",
    response=responses({200: None}),
    summary="Download a client's statement of account as PDF",
    operation_id=operation_id("get_statement_pdf"),
    openapi_extra=PDF_RESPONSE,
)
def get_statement_pdf(
    request: AgencyRequest, client_id: RowId, period: Query[StatementPeriod]
) -> HttpResponse:
    statement = _statement(request, client_id, period)
    response = HttpResponse(statement_pdf(statement), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{statement_filename(statement)}"'
    return response
