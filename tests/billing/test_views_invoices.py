"""The staff pages of invoices: creating, issuing, sending, voiding; issued invoices refuse
every edit; who may do what; and the messages when a service says no."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from clientledger.accounts.models import Membership
from clientledger.billing.models import Invoice, InvoiceStatus, LedgerEntry
from clientledger.billing.services.invoices import invoice_issue
from clientledger.catalog.models import TaxRate
from clientledger.crm.models import Client, Deal
from clientledger.notifications.models import EmailMessage
from tests.billing.conftest import NOW, TODAY
from tests.factories import ContactFactory, DealLineFactory

pytestmark = pytest.mark.django_db

Login = Callable[[Membership], HttpClient]

INVOICE_WRITES = [
    ("billing:invoice_edit", "get"),
    ("billing:invoice_lines", "get"),
    ("billing:invoice_lines_totals", "post"),
    ("billing:invoice_delete", "post"),
    ("billing:invoice_issue", "get"),
    ("billing:invoice_issue", "post"),
    ("billing:invoice_send", "post"),
    ("billing:invoice_void", "post"),
    ("billing:invoice_links_revoke", "post"),
]


def url(name: str, target: Invoice | Deal) -> str:
    key = "deal_pk" if name.endswith("_from_deal") else "pk"
    return reverse(name, kwargs={key: target.pk})


def page(response: Any) -> str:
    return response.content.decode()


@pytest.fixture(autouse=True)
def stopped_clock(frozen_now: Callable[[dt.datetime], None], media_root: Path) -> None:
    """Every test here runs on 2026-11-24 and stores issued PDFs in a throw-away folder."""


@pytest.fixture
def open_invoice(draft_invoice: Callable[..., Invoice]) -> Invoice:
    return invoice_issue(invoice=draft_invoice(), actor=None)


# --- reading and access ------------------------------------------------------------------


def test_a_viewer_sees_an_issued_invoice_with_its_balance(
    login: Login, viewer: Membership, open_invoice: Invoice
) -> None:
    http = login(viewer)
    detail = page(http.get(url("billing:invoice_detail", open_invoice)))
    assert open_invoice.number in detail
    assert "Amount paid" in detail and "Balance due" in detail and "$1,190.00" in detail
    assert "Overdue" not in detail
    assert url("billing:invoice_void", open_invoice) not in detail
    listing = page(http.get(reverse("billing:invoice_list")))
    assert open_invoice.number in listing and "Acme Corp" in listing


def test_a_past_due_invoice_shows_as_overdue(
    login: Login,
    viewer: Membership,
    draft_invoice: Callable[..., Invoice],
    frozen_now: Callable[[dt.datetime], None],
) -> None:
    invoice = invoice_issue(invoice=draft_invoice(), actor=None, issue_date=TODAY, due_date=TODAY)
    frozen_now(NOW + dt.timedelta(days=1))
    http = login(viewer)
    assert "Overdue" in page(http.get(url("billing:invoice_detail", invoice)))
    assert "Overdue" in page(http.get(reverse("billing:invoice_list")))


def test_the_invoice_pdf_downloads_under_its_number(
    login: Login, viewer: Membership, open_invoice: Invoice
) -> None:
    response = login(viewer).get(url("billing:invoice_pdf", open_invoice))
    assert response["Content-Disposition"] == (f'attachment; filename="{open_invoice.number}.pdf"')
    assert response.content.startswith(b"%PDF")


@pytest.mark.parametrize(("name", "method"), INVOICE_WRITES)
@pytest.mark.parametrize("role", ["viewer", "sales"])
def test_viewers_and_sales_are_refused_every_invoice_write(
    request: pytest.FixtureRequest,
    login: Login,
    draft_invoice: Callable[..., Invoice],
    role: str,
    name: str,
    method: str,
) -> None:
    invoice = draft_invoice()
    response = getattr(login(request.getfixturevalue(role)), method)(url(name, invoice))
    assert response.status_code == 403
    assert Invoice.objects.get(pk=invoice.pk).status == InvoiceStatus.DRAFT


def test_sales_cannot_create_invoices(
    login: Login, sales: Membership, buyer: Client, deal: Deal
) -> None:
    http = login(sales)
    assert http.get(reverse("billing:invoice_create")).status_code == 403
    assert http.post(url("billing:invoice_create_from_deal", deal)).status_code == 403
    assert not Invoice.objects.exists()


def test_sales_see_no_invoice_button_on_the_deal_page(
    login: Login, sales: Membership, deal: Deal
) -> None:
    detail = page(login(sales).get(reverse("crm:deal_detail", args=[deal.pk])))
    assert url("billing:estimate_create_from_deal", deal) in detail
    assert url("billing:invoice_create_from_deal", deal) not in detail


@pytest.mark.parametrize(
    "name", ["billing:invoice_detail", "billing:invoice_pdf", "billing:invoice_issue"]
)
def test_another_agencys_invoice_is_not_found(
    login: Login, outsider: Membership, draft_invoice: Callable[..., Invoice], name: str
) -> None:
    assert login(outsider).get(url(name, draft_invoice())).status_code == 404


# --- creating ----------------------------------------------------------------------------


def test_an_invoice_made_from_a_deal_copies_its_lines(
    login: Login, finance: Membership, deal: Deal, vat: TaxRate
) -> None:
    DealLineFactory(deal=deal, description="Design sprint", tax_1=vat)
    response = login(finance).post(url("billing:invoice_create_from_deal", deal))
    invoice = Invoice.objects.get()
    assert response["Location"] == url("billing:invoice_detail", invoice)
    assert [line.description for line in invoice.lines.all()] == ["Design sprint"]
    assert (invoice.deal, invoice.total_minor, invoice.number) == (deal, 119_000, "")


def test_an_invoice_from_a_deal_without_lines_opens_the_editor(
    login: Login, finance: Membership, deal: Deal
) -> None:
    response = login(finance).post(url("billing:invoice_create_from_deal", deal))
    assert response["Location"] == url("billing:invoice_lines", Invoice.objects.get())


def test_the_client_is_required_for_a_new_invoice(login: Login, finance: Membership) -> None:
    response = login(finance).post(reverse("billing:invoice_create"), {"client": ""})
    assert "Choose the client this document is for." in page(response)
    assert not Invoice.objects.exists()


# --- issuing -----------------------------------------------------------------------------


def test_issuing_numbers_and_dates_the_invoice(
    login: Login, finance: Membership, draft_invoice: Callable[..., Invoice], buyer: Client
) -> None:
    buyer.payment_terms_days = 14
    buyer.save()
    invoice = draft_invoice()
    http = login(finance)
    form = page(http.get(url("billing:invoice_issue", invoice)))
    assert "Leave empty for the payment terms: 14 days after the issue date." in form
    response = http.post(url("billing:invoice_issue", invoice), {}, follow=True)
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.OPEN
    assert invoice.number == "INV-2026-00001"
    assert (invoice.issue_date, invoice.due_date) == (TODAY, TODAY + dt.timedelta(days=14))
    assert "Invoice INV-2026-00001 issued on Nov 24, 2026, due Dec 8, 2026." in page(response)
    assert LedgerEntry.objects.get().amount_minor == 119_000


def test_issuing_with_chosen_dates(
    login: Login, finance: Membership, draft_invoice: Callable[..., Invoice]
) -> None:
    invoice = draft_invoice()
    login(finance).post(
        url("billing:invoice_issue", invoice),
        {"issue_date": "2026-11-20", "due_date": "2026-12-31"},
    )
    invoice.refresh_from_db()
    assert (str(invoice.issue_date), str(invoice.due_date)) == ("2026-11-20", "2026-12-31")


def test_a_due_date_before_the_issue_date_is_refused_inline(
    login: Login, finance: Membership, draft_invoice: Callable[..., Invoice]
) -> None:
    invoice = draft_invoice()
    response = login(finance).post(
        url("billing:invoice_issue", invoice),
        {"issue_date": "2026-11-20", "due_date": "2026-11-19"},
    )
    assert response.status_code == 200
    assert "The due date cannot be before the issue date." in page(response)
    invoice.refresh_from_db()
    assert (invoice.status, invoice.number) == (InvoiceStatus.DRAFT, "")
    assert not LedgerEntry.objects.exists()


def test_an_empty_invoice_cannot_be_issued(
    login: Login, finance: Membership, draft_invoice: Callable[..., Invoice]
) -> None:
    invoice = draft_invoice(lines=[])
    response = login(finance).post(url("billing:invoice_issue", invoice), {})
    assert "Add at least one line" in page(response)
    invoice.refresh_from_db()
    assert (invoice.status, invoice.number) == (InvoiceStatus.DRAFT, "")


def test_an_issued_invoice_refuses_every_edit_and_nothing_changes(
    login: Login, owner: Membership, draft_invoice: Callable[..., Invoice]
) -> None:
    invoice = invoice_issue(invoice=draft_invoice(notes="As issued."), actor=None)
    http = login(owner)
    detail = page(http.get(url("billing:invoice_detail", invoice)))
    for name in ("billing:invoice_lines", "billing:invoice_edit", "billing:invoice_delete"):
        assert url(name, invoice) not in detail
    refusal = "This invoice is open and can no longer be changed."
    for name in ("billing:invoice_lines", "billing:invoice_edit", "billing:invoice_issue"):
        assert refusal in page(http.get(url(name, invoice), follow=True))
    edits = {
        "billing:invoice_edit": {"notes": "Changed."},
        "billing:invoice_lines": {
            "row": ["0"],
            "line-0-description": "Changed",
            "line-0-quantity": "1",
            "line-0-unit": "hour",
            "line-0-unit_price": "1",
            "line-0-recurrence": "one_off",
        },
        "billing:invoice_delete": {},
        "billing:invoice_issue": {"issue_date": "2026-01-01"},
    }
    for name, data in edits.items():
        assert refusal in page(http.post(url(name, invoice), data, follow=True)), name
    after = Invoice.objects.get(pk=invoice.pk)
    assert (after.notes, after.total_minor, after.issue_date, after.number) == (
        "As issued.",
        invoice.total_minor,
        invoice.issue_date,
        invoice.number,
    )
    assert [line.description for line in after.lines.all()] == ["Design work"]


# --- sending -----------------------------------------------------------------------------


def test_a_draft_invoice_cannot_be_sent(
    login: Login, finance: Membership, draft_invoice: Callable[..., Invoice]
) -> None:
    invoice = draft_invoice()
    response = login(finance).get(url("billing:invoice_send", invoice), follow=True)
    assert "This invoice is draft and cannot be sent." in page(response)


def test_sending_an_issued_invoice(
    login: Login, finance: Membership, open_invoice: Invoice, buyer: Client
) -> None:
    ContactFactory(client=buyer, name="Ap Desk", email="ap@acme.example", is_billing_contact=True)
    http = login(finance)
    assert "Send invoice" in page(http.get(url("billing:invoice_send", open_invoice)))
    response = http.post(
        url("billing:invoice_send", open_invoice),
        {"recipients": ["ap@acme.example", buyer.billing_email]},
        follow=True,
    )
    assert f"{open_invoice.number} sent to ap@acme.example, {buyer.billing_email}." in page(
        response
    )
    assert EmailMessage.objects.get().to == ["ap@acme.example", buyer.billing_email]
    assert "Resend" in page(response)


def test_a_recipient_outside_the_clients_addresses_is_refused(
    login: Login, finance: Membership, open_invoice: Invoice
) -> None:
    response = login(finance).post(
        url("billing:invoice_send", open_invoice), {"recipients": ["someone@evil.example"]}
    )
    assert "Choose recipients among the client&#x27;s addresses." in page(response)
    assert not EmailMessage.objects.exists()


# --- voiding -----------------------------------------------------------------------------


def test_finance_voids_an_open_invoice_with_a_reason(
    login: Login, finance: Membership, open_invoice: Invoice
) -> None:
    response = login(finance).post(
        url("billing:invoice_void", open_invoice), {"reason": "Issued twice."}, follow=True
    )
    open_invoice.refresh_from_db()
    assert (open_invoice.status, open_invoice.void_reason) == (InvoiceStatus.VOID, "Issued twice.")
    assert "Issued twice." in page(response) and "voided" in page(response)
    assert sum(LedgerEntry.objects.values_list("amount_minor", flat=True)) == 0


def test_voiding_needs_a_reason(login: Login, finance: Membership, open_invoice: Invoice) -> None:
    response = login(finance).post(url("billing:invoice_void", open_invoice), {"reason": "  "})
    assert "Say why the invoice is voided." in page(response)
    open_invoice.refresh_from_db()
    assert open_invoice.status == InvoiceStatus.OPEN


def test_a_paid_amount_prevents_voiding(
    login: Login, finance: Membership, open_invoice: Invoice
) -> None:
    Invoice.objects.filter(pk=open_invoice.pk).update(amount_paid_minor=10_000)
    response = login(finance).post(url("billing:invoice_void", open_invoice), {"reason": "Oops"})
    assert "correct it with a credit note instead" in page(response)
    open_invoice.refresh_from_db()
    assert open_invoice.status == InvoiceStatus.OPEN


def test_a_draft_invoice_cannot_be_voided(
    login: Login, finance: Membership, draft_invoice: Callable[..., Invoice]
) -> None:
    invoice = draft_invoice()
    response = login(finance).post(
        url("billing:invoice_void", invoice), {"reason": "Oops"}, follow=True
    )
    assert "only open invoices can be voided" in page(response)
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.DRAFT


def test_the_void_page_explains_the_consequences(
    login: Login, finance: Membership, open_invoice: Invoice
) -> None:
    form = page(login(finance).get(url("billing:invoice_void", open_invoice)))
    assert f"Voiding {open_invoice.number} cancels it: $1,190.00 is taken off" in form


@pytest.mark.parametrize("issue_date", ["0001-01-01", "1999-12-31", "2037-01-01"])
def test_an_issue_date_outside_the_date_window_is_refused_inline(
    login: Login, finance: Membership, draft_invoice: Callable[..., Invoice], issue_date: str
) -> None:
    invoice = draft_invoice()
    response = login(finance).post(
        url("billing:invoice_issue", invoice), {"issue_date": issue_date}
    )
    assert response.status_code == 200
    assert "Enter a date from 2000 to 2036." in page(response)
    invoice.refresh_from_db()
    assert (invoice.status, invoice.number) == (InvoiceStatus.DRAFT, "")
    assert not LedgerEntry.objects.exists()
