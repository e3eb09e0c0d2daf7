"""Invoices through the API: drafts, issuing, sending, voiding, PDF, lists, roles, bad input."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from pytest_django import Settings

from clientledger.accounts.models import Agency, Membership
from clientledger.billing.models import (
    DocumentCounter,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    LedgerEntry,
)
from clientledger.billing.services.drafts import invoice_create
from clientledger.billing.services.invoices import invoice_issue
from clientledger.catalog.models import TaxRate
from clientledger.core import clock
from clientledger.crm.models import Client
from clientledger.lines.data import LineData
from clientledger.notifications.models import EmailMessage
from tests.api.conftest import ApiClient, errors
from tests.factories import (
    ClientFactory,
    ContactFactory,
    DealFactory,
    DealLineFactory,
    TaxRateFactory,
)

pytestmark = pytest.mark.django_db

RECIPIENTS = ["ap@client.example"]


@pytest.fixture(autouse=True)
def media_root(settings: Settings, tmp_path: Path) -> None:
    """PDFs stored by these tests go to a folder of the test."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def buyer(agency: Agency) -> Client:
    return ClientFactory(agency=agency, name="Acme Corp", currency="USD", payment_terms_days=14)


@pytest.fixture
def vat(agency: Agency) -> TaxRate:
    return TaxRateFactory(agency=agency, name="VAT", percent=Decimal(19))


@pytest.fixture
def draft(buyer: Client, vat: TaxRate) -> Callable[..., Invoice]:
    """A draft invoice of `buyer`: 10 h at 100.00 plus 19 % VAT (1,190.00) by default."""

    def make(
        client: Client | None = None, lines: list[LineData] | None = None, **fields: Any
    ) -> Invoice:
        design = LineData(
            description="Design", quantity=Decimal(10), unit_price=Decimal(100), taxes=[vat]
        )
        return invoice_create(
            agency=buyer.agency,
            actor=None,
            client=client or buyer,
            lines=[design] if lines is None else lines,
            **fields,
        )

    return make


@pytest.fixture
def issued(draft: Callable[..., Invoice]) -> Callable[..., Invoice]:
    def make(**dates: dt.date) -> Invoice:
        return invoice_issue(invoice=draft(), actor=None, **dates)

    return make


def line(**overrides: Any) -> dict[str, Any]:
    return {"description": "Design", "quantity": "10", "unit_price": "100"} | overrides


def snapshot(invoice: Invoice) -> tuple[Any, ...]:
    """Everything an edit could change, to prove that a refused one changed nothing."""
    invoice.refresh_from_db()
    lines = list(invoice.lines.values_list("description", "quantity", "unit_price"))
    return (
        invoice.status,
        invoice.number,
        invoice.notes,
        invoice.issue_date,
        invoice.due_date,
        invoice.total_minor,
        lines,
    )


def local_today(invoice: Invoice) -> dt.date:
    return clock.local_today(invoice.agency.timezone)


# --- drafts -------------------------------------------------------------------------------


def test_an_invoice_is_created_as_a_draft_without_number_or_dates(
    owner_api: ApiClient, buyer: Client, vat: TaxRate
) -> None:
    response = owner_api.post(
        "/invoices",
        {"client_id": buyer.pk, "terms": "Net 14", "lines": [line(tax_rate_ids=[vat.pk])]},
    )

    assert response.status_code == 201, response.content
    body = response.json()
    invoice = Invoice.objects.get(pk=body["id"])
    assert {key: body[key] for key in body if key not in ("lines", "created_at", "updated_at")} == {
        "id": invoice.pk,
        "number": None,
        "status": "draft",
        "currency": "USD",
        "client": {"id": buyer.pk, "name": "Acme Corp"},
        "deal": None,
        "estimate": None,
        "notes": "",
        "terms": "Net 14",
        "issue_date": None,
        "due_date": None,
        "overdue": False,
        "partially_paid": False,
        "subtotal": "1000.00",
        "discount_total": "0.00",
        "tax_total": "190.00",
        "total": "1190.00",
        "amount_paid": "0.00",
        "amount_credited": "0.00",
        "balance_due": "1190.00",
        "tax_breakdown": [
            {
                "name": "VAT",
                "percent": "19",
                "is_inclusive": False,
                "base": "1000.00",
                "amount": "190.00",
            }
        ],
        "portal_url": None,
        "pdf_url": f"/api/v1/invoices/{invoice.pk}/pdf",
        "sent_at": None,
        "issued_at": None,
        "voided_at": None,
        "void_reason": "",
    }
    assert [(li["net"], li["tax"], li["total"]) for li in body["lines"]] == [
        ("1000.00", "190.00", "1190.00")
    ]
    assert owner_api.get(f"/invoices/{invoice.pk}").json() == body


def test_an_invoice_from_a_deal_copies_its_client_and_lines_but_not_internal_notes(
    owner_api: ApiClient, buyer: Client
) -> None:
    deal = DealFactory(client=buyer, notes="Phase one")
    DealLineFactory(deal=deal, description="Research", quantity=Decimal(3))

    response = owner_api.post("/invoices", {"from_deal_id": deal.pk})

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["client"]["id"], body["deal"], body["notes"]) == (
        buyer.pk,
        {"id": deal.pk, "title": deal.title},
        "",
    )
    assert [(li["description"], li["total"]) for li in body["lines"]] == [("Research", "300.00")]


def test_a_draft_invoice_is_updated_its_lines_replaced_and_deleted(
    owner_api: ApiClient, buyer: Client, draft: Callable[..., Invoice]
) -> None:
    invoice = draft()
    deal = DealFactory(client=buyer, title="Retainer")

    patched = owner_api.patch(f"/invoices/{invoice.pk}", {"notes": "Thanks", "deal_id": deal.pk})
    replaced = owner_api.put(
        f"/invoices/{invoice.pk}/lines",
        {"lines": [line(), line(description="Hosting", quantity="1", unit_price="20")]},
    )

    assert (patched.json()["notes"], patched.json()["deal"]["title"]) == ("Thanks", "Retainer")
    assert replaced.json()["total"] == "1020.00"
    assert "valid_until" in errors(
        owner_api.patch(f"/invoices/{invoice.pk}", {"valid_until": None})
    )
    assert owner_api.delete(f"/invoices/{invoice.pk}").status_code == 204
    assert not Invoice.objects.exists()
    assert not InvoiceLine.objects.exists()


# --- issuing ------------------------------------------------------------------------------


def test_issuing_gives_the_next_number_and_the_dates_from_the_payment_terms(
    owner_api: ApiClient, draft: Callable[..., Invoice]
) -> None:
    first, second = draft(), draft()

    one = owner_api.post(f"/invoices/{first.pk}/issue", {})
    two = owner_api.post(
        f"/invoices/{second.pk}/issue", {"issue_date": "2025-03-01", "due_date": "2025-03-31"}
    )

    assert one.status_code == 200, one.content
    today = local_today(first)
    body = one.json()
    assert (body["status"], body["number"]) == ("open", f"INV-{today.year}-00001")
    assert body["issue_date"] == today.isoformat()
    assert body["due_date"] == (today + dt.timedelta(days=14)).isoformat()
    assert (body["overdue"], body["balance_due"]) == (False, "1190.00")
    assert body["issued_at"] is not None
    # The series restarts each year: a back-dated invoice takes the first number of its year.
    assert (two.json()["number"], two.json()["issue_date"], two.json()["due_date"]) == (
        "INV-2025-00001",
        "2025-03-01",
        "2025-03-31",
    )
    assert two.json()["overdue"] is True
    assert LedgerEntry.objects.filter(kind="invoice_issued").count() == 2


def test_an_issued_invoice_refuses_every_edit_and_nothing_changes(
    owner_api: ApiClient, issued: Callable[..., Invoice]
) -> None:
    invoice = issued()
    before = snapshot(invoice)
    message = "This invoice is open and can no longer be changed."

    answers = [
        owner_api.patch(f"/invoices/{invoice.pk}", {"notes": "Sneaky"}),
        owner_api.put(f"/invoices/{invoice.pk}/lines", {"lines": [line(unit_price="1")]}),
        owner_api.delete(f"/invoices/{invoice.pk}"),
    ]

    assert [(a.status_code, a.json()) for a in answers] == [(409, {"detail": message})] * 3
    assert snapshot(invoice) == before


def test_an_invoice_is_issued_once(owner_api: ApiClient, issued: Callable[..., Invoice]) -> None:
    invoice = issued()

    response = owner_api.post(f"/invoices/{invoice.pk}/issue", {})

    assert response.status_code == 409
    assert response.json() == {"detail": "An open invoice cannot become open."}
    assert DocumentCounter.objects.get().last_value == 1


def test_a_due_date_before_the_issue_date_is_refused_and_nothing_is_issued(
    owner_api: ApiClient, draft: Callable[..., Invoice]
) -> None:
    invoice = draft()
    before = snapshot(invoice)

    response = owner_api.post(
        f"/invoices/{invoice.pk}/issue", {"issue_date": "2026-03-10", "due_date": "2026-03-09"}
    )

    assert errors(response) == {"due_date": "The due date cannot be before the issue date."}
    assert snapshot(invoice) == before
    assert not DocumentCounter.objects.filter(last_value__gt=0).exists()
    assert not LedgerEntry.objects.exists()


def test_an_empty_invoice_cannot_be_issued(
    owner_api: ApiClient, draft: Callable[..., Invoice]
) -> None:
    invoice = draft(lines=[])

    response = owner_api.post(f"/invoices/{invoice.pk}/issue", {})

    assert errors(response) == {"__all__": "Add at least one line before issuing this invoice."}
    invoice.refresh_from_db()
    assert (invoice.status, invoice.number) == ("draft", "")
    assert not LedgerEntry.objects.exists()


# --- sending, voiding and the PDF ---------------------------------------------------------


def test_an_issued_invoice_is_sent_and_the_email_queued_with_its_pdf(
    finance: Membership, api_as: Callable[[Membership], ApiClient], issued: Callable[..., Invoice]
) -> None:
    invoice = issued()

    response = api_as(finance).post(f"/invoices/{invoice.pk}/send", {"recipients": RECIPIENTS})

    assert response.status_code == 200, response.content
    assert response.json()["sent_at"] is not None
    email = EmailMessage.objects.get()
    assert email.to == RECIPIENTS
    assert invoice.number in email.subject
    assert (email.attach_document_type, email.attach_document_id) == ("billing.invoice", invoice.pk)


@pytest.fixture
def issued_with_billing_email(
    buyer: Client, issued: Callable[..., Invoice]
) -> Callable[[str], Invoice]:
    """An issued invoice of `buyer`, who has this billing email and a contact not for billing."""

    def make(billing_email: str) -> Invoice:
        buyer.billing_email = billing_email
        buyer.save()
        ContactFactory(client=buyer, name="Ceo", email="ceo@acme.example")
        return issued()

    return make


def test_an_invoice_sent_without_recipients_goes_to_the_clients_billing_email(
    owner_api: ApiClient, issued_with_billing_email: Callable[[str], Invoice]
) -> None:
    invoice = issued_with_billing_email("AP@acme.example")

    response = owner_api.post(f"/invoices/{invoice.pk}/send", {})

    assert response.status_code == 200, response.content
    assert EmailMessage.objects.get().to == ["ap@acme.example"]


def test_an_invoice_for_a_client_without_billing_address_needs_recipients(
    owner_api: ApiClient, issued_with_billing_email: Callable[[str], Invoice]
) -> None:
    invoice = issued_with_billing_email("")

    response = owner_api.post(f"/invoices/{invoice.pk}/send", {})

    assert errors(response) == {
        "recipients": "Acme Corp has no billing contact or billing email; name the recipients."
    }
    assert not EmailMessage.objects.exists()


def test_a_draft_invoice_cannot_be_sent(
    owner_api: ApiClient, draft: Callable[..., Invoice]
) -> None:
    invoice = draft()

    response = owner_api.post(f"/invoices/{invoice.pk}/send", {"recipients": RECIPIENTS})

    assert errors(response) == {"__all__": "A draft invoice cannot be sent; issue it first."}
    assert not EmailMessage.objects.exists()


def test_voiding_needs_a_reason_and_reverses_the_balance(
    owner_api: ApiClient, buyer: Client, issued: Callable[..., Invoice]
) -> None:
    invoice = issued()

    missing = owner_api.post(f"/invoices/{invoice.pk}/void", {})
    blank = owner_api.post(f"/invoices/{invoice.pk}/void", {"reason": "   "})
    voided = owner_api.post(f"/invoices/{invoice.pk}/void", {"reason": "Billed twice"})
    again = owner_api.post(f"/invoices/{invoice.pk}/void", {"reason": "Billed twice"})

    assert "reason" in errors(missing)
    assert errors(blank) == {"reason": "This field cannot be blank."}
    assert voided.status_code == 200, voided.content
    assert (voided.json()["status"], voided.json()["void_reason"]) == ("void", "Billed twice")
    assert voided.json()["voided_at"] is not None
    assert again.status_code == 409
    buyer.refresh_from_db()
    assert buyer.balance_minor == 0


def test_a_draft_or_paid_invoice_cannot_be_voided(
    owner_api: ApiClient, draft: Callable[..., Invoice], issued: Callable[..., Invoice]
) -> None:
    never_issued = draft()
    paid = issued()
    Invoice.objects.filter(pk=paid.pk).update(amount_paid_minor=100)

    from_draft = owner_api.post(f"/invoices/{never_issued.pk}/void", {"reason": "Oops"})
    with_payment = owner_api.post(f"/invoices/{paid.pk}/void", {"reason": "Oops"})

    assert (from_draft.status_code, from_draft.json()) == (
        409,
        {"detail": "A draft invoice cannot become void."},
    )
    assert "credit note" in errors(with_payment)["__all__"]
    assert set(Invoice.objects.values_list("status", flat=True)) == {"draft", "open"}


@pytest.mark.parametrize("state", ["draft", "open"])
def test_the_pdf_of_an_invoice_is_downloaded(
    owner_api: ApiClient, draft: Callable[..., Invoice], state: str
) -> None:
    invoice = draft()
    if state == "open":
        invoice = invoice_issue(invoice=invoice, actor=None)

    response = owner_api.get(f"/invoices/{invoice.pk}/pdf")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    name = invoice.number or f"draft-invoice-{invoice.pk}"
    assert f'filename="{name}.pdf"' in response["Content-Disposition"]


# --- lists --------------------------------------------------------------------------------


def test_invoices_are_filtered_by_status_client_deal_overdue_dates_and_search(
    owner_api: ApiClient,
    agency: Agency,
    buyer: Client,
    draft: Callable[..., Invoice],
    issued: Callable[..., Invoice],
) -> None:
    deal = DealFactory(client=buyer)
    with_deal = draft(deal=deal)
    late = issued(issue_date=dt.date(2026, 1, 5), due_date=dt.date(2026, 1, 19))
    current = issued(issue_date=dt.date(2026, 2, 10), due_date=dt.date(clock.now().year + 5, 1, 1))
    globex = draft(client=ClientFactory(agency=agency, name="Globex"))

    def ids(**query: Any) -> set[int]:
        response = owner_api.get("/invoices", **query)
        assert response.status_code == 200, response.content
        return {item["id"] for item in response.json()["items"]}

    assert ids() == {with_deal.pk, late.pk, current.pk, globex.pk}
    assert ids(status="open") == {late.pk, current.pk}
    assert ids(client_id=buyer.pk) == {with_deal.pk, late.pk, current.pk}
    assert ids(deal_id=deal.pk) == {with_deal.pk}
    assert ids(overdue="true") == {late.pk}
    assert ids(issued_from="2026-02-01") == {current.pk}
    assert ids(issued_from="2026-01-01", issued_to="2026-01-31") == {late.pk}
    assert ids(q="GLOBEX") == {globex.pk}
    assert ids(q=current.number) == {current.pk}
    overdue_flags = {
        item["id"]: item["overdue"] for item in owner_api.get("/invoices").json()["items"]
    }
    assert overdue_flags[late.pk] and not overdue_flags[current.pk]
    assert errors(owner_api.get("/invoices", issued_from="2026-02-01", issued_to="2026-01-01")) == {
        "issued_to": "Choose a date on or after issued_from."
    }
    assert "issued_from" in errors(owner_api.get("/invoices", issued_from="yesterday"))


def test_partly_paid_invoices_are_flagged_and_filtered(
    owner_api: ApiClient, issued: Callable[..., Invoice]
) -> None:
    untouched, part_paid = issued(), issued()
    Invoice.objects.filter(pk=part_paid.pk).update(amount_paid_minor=19_000)

    listed = owner_api.get("/invoices", status="partially_paid")
    flags = {
        item["id"]: item["partially_paid"] for item in owner_api.get("/invoices").json()["items"]
    }

    assert [item["id"] for item in listed.json()["items"]] == [part_paid.pk]
    assert flags == {untouched.pk: False, part_paid.pk: True}
    assert owner_api.get(f"/invoices/{part_paid.pk}").json()["partially_paid"] is True
    assert "status" in errors(owner_api.get("/invoices", status="half"))


def test_the_invoice_list_walks_forwards_and_backwards_with_cursors(
    owner_api: ApiClient, draft: Callable[..., Invoice]
) -> None:
    newest_first = [draft().pk for _ in range(5)][::-1]

    first = owner_api.get("/invoices", limit=2).json()
    second = owner_api.get("/invoices", limit=2, after=first["next_cursor"]).json()
    last = owner_api.get("/invoices", limit=2, after=second["next_cursor"]).json()
    back = owner_api.get("/invoices", limit=2, before=last["previous_cursor"]).json()

    assert [item["id"] for item in first["items"] + second["items"] + last["items"]] == newest_first
    assert last["next_cursor"] is None
    assert back["items"] == second["items"]


def add_invoices(agency: Agency, client: Client, vat: TaxRate, count: int) -> None:
    deal = DealFactory(client=client)
    created = clock.now() - dt.timedelta(days=1)
    invoices = Invoice.objects.bulk_create(
        Invoice(
            agency=agency,
            client=client,
            deal=deal,
            currency="USD",
            status=InvoiceStatus.OPEN,
            number=f"BULK-{count}-{n:05}",
            issue_date=dt.date(2026, 1, 1),
            due_date=dt.date(2026, 1, 31),
            total_minor=1190,
            created_at=created,
        )
        for n in range(count)
    )
    InvoiceLine.objects.bulk_create(
        InvoiceLine(
            agency=agency,
            invoice=invoice,
            position=position,
            description="Work",
            quantity=Decimal(1),
            unit_price=Decimal(10),
            tax_1=vat,
        )
        for invoice in invoices
        for position in range(2)
    )


def invoice_list_statements(api: ApiClient, **query: str) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        response = api.get("/invoices", **query)
    assert response.status_code == 200, response.content
    assert response.json()["items"]
    return [statement["sql"] for statement in captured]


def test_the_invoice_list_costs_the_same_queries_for_10_and_1000_invoices(
    owner_api: ApiClient, agency: Agency, buyer: Client, vat: TaxRate
) -> None:
    add_invoices(agency, buyer, vat, 10)
    invoice_list_statements(owner_api)  # the first call records the token's use
    few = invoice_list_statements(owner_api, limit="200", overdue="true")

    add_invoices(agency, buyer, vat, 990)

    assert len(invoice_list_statements(owner_api, limit="200", overdue="true")) == len(few)


def test_a_page_of_the_invoice_list_is_the_token_the_invoices_and_their_lines(
    owner_api: ApiClient, agency: Agency, buyer: Client, vat: TaxRate
) -> None:
    add_invoices(agency, buyer, vat, 60)
    invoice_list_statements(owner_api)  # the first call records the token's use

    statements = invoice_list_statements(owner_api)

    tables = ("accounts_apitoken", "billing_invoice", "billing_invoiceline")
    assert len(statements) == len(tables), statements
    for statement, table in zip(statements, tables, strict=True):
        assert f'FROM "{table}"' in statement, statement


# --- roles, tenancy and bad input ---------------------------------------------------------


@pytest.mark.parametrize("role", ["sales"])
def test_sales_read_invoices_but_cannot_write_them(
    role: str,
    request: pytest.FixtureRequest,
    api_as: Callable[[Membership], ApiClient],
    buyer: Client,
    draft: Callable[..., Invoice],
    issued: Callable[..., Invoice],
) -> None:
    api = api_as(request.getfixturevalue(role))
    invoice, open_invoice = draft(), issued()
    before = snapshot(invoice), snapshot(open_invoice)

    assert api.get(f"/invoices/{invoice.pk}").status_code == 200
    assert api.get("/invoices").status_code == 200
    refused = [
        api.post("/invoices", {"client_id": buyer.pk}),
        api.patch(f"/invoices/{invoice.pk}", {"notes": "x"}),
        api.put(f"/invoices/{invoice.pk}/lines", {"lines": [line()]}),
        api.post(f"/invoices/{invoice.pk}/issue", {}),
        api.post(f"/invoices/{open_invoice.pk}/send", {"recipients": RECIPIENTS}),
        api.post(f"/invoices/{open_invoice.pk}/void", {"reason": "No"}),
        api.delete(f"/invoices/{invoice.pk}"),
    ]
    assert [response.status_code for response in refused] == [403] * 7
    assert (snapshot(invoice), snapshot(open_invoice)) == before
    assert Invoice.objects.count() == 2
    assert not EmailMessage.objects.exists()


def test_another_agencys_invoice_is_not_found(
    outsider: Membership, api_as: Callable[[Membership], ApiClient], issued: Callable[..., Invoice]
) -> None:
    invoice = issued()
    before = snapshot(invoice)
    api = api_as(outsider)

    answers = [
        api.get(f"/invoices/{invoice.pk}"),
        api.get(f"/invoices/{invoice.pk}/pdf"),
        api.patch(f"/invoices/{invoice.pk}", {"notes": "x"}),
        api.put(f"/invoices/{invoice.pk}/lines", {"lines": [line()]}),
        api.post(f"/invoices/{invoice.pk}/issue", {}),
        api.post(f"/invoices/{invoice.pk}/send", {"recipients": RECIPIENTS}),
        api.post(f"/invoices/{invoice.pk}/void", {"reason": "Mine now"}),
        api.delete(f"/invoices/{invoice.pk}"),
    ]

    assert [response.status_code for response in answers] == [404] * 8
    assert api.get("/invoices").json()["items"] == []
    assert snapshot(invoice) == before


@pytest.mark.parametrize(
    ("bad_line", "field"),
    [
        ({"description": ""}, "lines[0].description"),
        ({"quantity": "0"}, "lines[0].quantity"),
        ({"quantity": 1.5}, "lines[0].quantity"),
        ({"tax_rate_ids": [2**40]}, "lines[0].tax_rate_ids"),
        ({"service_id": 2**40}, "lines[0].service_id"),
        ({"discount_value": "5"}, "lines[0].discount_value"),
    ],
)
def test_a_bad_line_is_refused_by_name_and_nothing_changes(
    owner_api: ApiClient,
    buyer: Client,
    draft: Callable[..., Invoice],
    bad_line: dict[str, Any],
    field: str,
) -> None:
    invoice = draft()
    before = snapshot(invoice)

    replaced = owner_api.put(f"/invoices/{invoice.pk}/lines", {"lines": [line(**bad_line)]})
    created = owner_api.post("/invoices", {"client_id": buyer.pk, "lines": [line(**bad_line)]})

    assert field in errors(replaced)
    assert field in errors(created)
    assert snapshot(invoice) == before
    assert Invoice.objects.count() == 1


def outside_the_window() -> str:
    return f"Enter a date from 2000 to {clock.now().year + 10}."


@pytest.mark.parametrize(
    ("dates", "field"),
    [
        ({"issue_date": "0001-01-01"}, "issue_date"),
        ({"issue_date": "1999-12-31"}, "issue_date"),
        ({"issue_date": "9999-12-31"}, "issue_date"),
        ({"due_date": "9999-12-31"}, "due_date"),
    ],
)
def test_an_issue_or_due_date_outside_the_date_window_is_refused_and_nothing_is_issued(
    owner_api: ApiClient, draft: Callable[..., Invoice], dates: dict[str, str], field: str
) -> None:
    invoice = draft()
    before = snapshot(invoice)

    response = owner_api.post(f"/invoices/{invoice.pk}/issue", dates)

    assert errors(response) == {field: outside_the_window()}
    assert snapshot(invoice) == before
    assert not DocumentCounter.objects.filter(last_value__gt=0).exists()
    assert not LedgerEntry.objects.exists()


HUGE_LINE = {"description": "Huge", "quantity": "9999999999", "unit_price": "9999999999"}


def test_a_line_total_above_the_storable_range_is_a_field_error(
    owner_api: ApiClient, buyer: Client
) -> None:
    response = owner_api.post("/invoices", {"client_id": buyer.pk, "lines": [HUGE_LINE]})

    assert errors(response) == {
        "lines[0].unit_price": "This line comes to $99,999,999,980,000,000,001.00; "
        "a line must stay below $1,000,000,000,000.00."
    }
    assert not Invoice.objects.exists()


def test_invoices_too_large_for_a_clients_balance_are_refused_before_they_are_drafted(
    owner_api: ApiClient, buyer: Client
) -> None:
    # Four invoices of 3e16 USD used to overflow the client's cached balance.
    big = {"description": "Big", "quantity": "3000", "unit_price": "10000000000000"}
    for _ in range(4):
        response = owner_api.post("/invoices", {"client_id": buyer.pk, "lines": [big]})
        assert (
            "a line must stay below $1,000,000,000,000.00"
            in errors(response)["lines[0].unit_price"]
        )
    assert not Invoice.objects.exists()
    buyer.refresh_from_db()
    assert buyer.balance_minor == 0


def test_lines_that_together_pass_the_bound_are_refused_as_a_whole(
    owner_api: ApiClient, buyer: Client
) -> None:
    half = {"description": "Half", "quantity": "1", "unit_price": "600000000000"}
    response = owner_api.post("/invoices", {"client_id": buyer.pk, "lines": [half, half]})

    assert errors(response) == {
        "lines": "The lines come to $1,200,000,000,000.00; a document must stay below "
        "$1,000,000,000,000.00, so split them over several documents."
    }
    assert not Invoice.objects.exists()
