"""The staff pages of credit notes: a full credit in two clicks from the invoice page, the
line editor, settling the credit, the lists, the PDF, and who may do what."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from clientledger.accounts.models import Membership
from clientledger.billing.documents.data import document_data
from clientledger.billing.documents.render import render_document_pdf
from clientledger.billing.models import (
    CreditNote,
    CreditNoteStatus,
    CreditSettlement,
    Invoice,
    InvoiceStatus,
)
from clientledger.billing.services.credit_notes import credit_note_create, credit_note_issue
from clientledger.billing.services.invoices import invoice_issue

pytestmark = pytest.mark.django_db

Login = Callable[[Membership], HttpClient]


def page(response: Any) -> str:
    return response.content.decode()


@pytest.fixture(autouse=True)
def stopped_clock(frozen_now: Callable[[dt.datetime], None], media_root: Path) -> None:
    """Every test here runs on 2026-11-24 and stores issued PDFs in a throw-away folder."""


@pytest.fixture
def open_invoice(draft_invoice: Callable[..., Invoice]) -> Invoice:
    return invoice_issue(invoice=draft_invoice(), actor=None)


def test_a_full_credit_is_two_clicks_from_the_invoice_page(
    login: Login, finance: Membership, open_invoice: Invoice
) -> None:
    http = login(finance)
    invoice_page = page(http.get(reverse("billing:invoice_detail", args=[open_invoice.pk])))
    assert reverse("billing:invoice_credit", args=[open_invoice.pk]) in invoice_page

    created = http.post(
        reverse("billing:invoice_credit", args=[open_invoice.pk]), {"reason": "Project cancelled"}
    )
    draft = CreditNote.objects.get()
    assert created["Location"] == reverse("billing:credit_note_detail", args=[draft.pk])
    issued = http.post(
        reverse("billing:credit_note_issue", args=[draft.pk]),
        {"settlement": CreditSettlement.APPLY},
        follow=True,
    )

    draft.refresh_from_db()
    open_invoice.refresh_from_db()
    assert (draft.status, draft.number) == (CreditNoteStatus.ISSUED, "CN-2026-00001")
    assert "Credit note CN-2026-00001 issued" in page(issued)
    assert (open_invoice.status, open_invoice.amount_credited_minor) == (InvoiceStatus.PAID, 119000)
    invoice_page = page(http.get(reverse("billing:invoice_detail", args=[open_invoice.pk])))
    assert "Credited" in invoice_page and "CN-2026-00001" in invoice_page
    credited = page(http.get(reverse("billing:invoice_list"), {"status": "credited"}))
    assert open_invoice.number in credited and "Credited" in credited


def test_a_credit_note_without_a_reason_is_refused_on_the_invoice_page(
    login: Login, finance: Membership, open_invoice: Invoice
) -> None:
    http = login(finance)
    refused = http.post(
        reverse("billing:invoice_credit", args=[open_invoice.pk]), {"reason": " "}, follow=True
    )
    assert "Say why this credit note is issued." in page(refused)
    assert not CreditNote.objects.exists()


def test_the_line_editor_reduces_a_line_and_refuses_more_than_is_creditable(
    login: Login, finance: Membership, open_invoice: Invoice
) -> None:
    draft = credit_note_create(invoice=open_invoice, actor=None, reason="Hours")
    original = open_invoice.lines.get()
    http = login(finance)
    lines_url = reverse("billing:credit_note_lines", args=[draft.pk])
    assert "Untick the lines" in page(http.get(lines_url))

    def post(quantity: str) -> Any:
        return http.post(
            lines_url,
            {
                "line-TOTAL_FORMS": "1",
                "line-INITIAL_FORMS": "1",
                "line-0-invoice_line": str(original.pk),
                "line-0-keep": "on",
                "line-0-description": "Design work",
                "line-0-quantity": quantity,
                "line-0-unit_price": "100.00",
            },
        )

    too_much = post("11")
    assert too_much.status_code == 200
    assert "Only $1,190.00 of this line is still creditable" in page(too_much)
    saved = post("2")
    assert saved.status_code == 302
    draft.refresh_from_db()
    assert draft.total_minor == 23800


def test_the_credit_note_list_and_page_show_the_invoice_and_remaining_credit(
    login: Login, viewer: Membership, open_invoice: Invoice
) -> None:
    issued = credit_note_issue(
        credit_note=credit_note_create(
            invoice=open_invoice,
            actor=None,
            reason="Kept for later",
            settlement=CreditSettlement.KEEP,
        ),
        actor=None,
    )
    http = login(viewer)
    listing = page(http.get(reverse("billing:credit_note_list")))
    assert issued.number in listing and open_invoice.number in listing and "$1,190.00" in listing
    detail = page(http.get(reverse("billing:credit_note_detail", args=[issued.pk])))
    assert f"Credit note {issued.number} for invoice {open_invoice.number} of Nov 24, 2026" in (
        detail
    )
    assert reverse("billing:credit_note_settle", args=[issued.pk]) not in detail
    credited = page(http.get(reverse("billing:invoice_list"), {"status": "credited"}))
    assert open_invoice.number not in credited


def test_the_credit_note_pdf_names_the_invoice_it_corrects(open_invoice: Invoice) -> None:
    issued = credit_note_issue(
        credit_note=credit_note_create(invoice=open_invoice, actor=None, reason="Dispute"),
        actor=None,
    )
    data = document_data(issued)
    assert (data["kind"], data["title"]) == ("credit_note", "Credit note")
    assert data["credit_for"] == (
        f"Credit note {issued.number} for invoice {open_invoice.number} of Nov 24, 2026"
    )


def test_staff_download_the_issued_credit_note_as_a_pdf(
    login: Login, viewer: Membership, open_invoice: Invoice
) -> None:
    issued = credit_note_issue(
        credit_note=credit_note_create(invoice=open_invoice, actor=None, reason="Dispute"),
        actor=None,
    )
    response = login(viewer).get(reverse("billing:credit_note_pdf", args=[issued.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")


def test_a_viewer_cannot_create_issue_or_settle_a_credit_note(
    login: Login, viewer: Membership, open_invoice: Invoice
) -> None:
    draft = credit_note_create(invoice=open_invoice, actor=None, reason="Dispute")
    http = login(viewer)
    for name, target in (
        ("billing:invoice_credit", open_invoice),
        ("billing:credit_note_issue", draft),
        ("billing:credit_note_settle", draft),
        ("billing:credit_note_lines", draft),
    ):
        assert http.post(reverse(name, args=[target.pk])).status_code == 403
    draft.refresh_from_db()
    assert draft.status == CreditNoteStatus.DRAFT


def test_the_invoice_pdf_with_its_payment_state_names_the_credit_and_its_credit_note(
    open_invoice: Invoice,
) -> None:
    issued = credit_note_issue(
        credit_note=credit_note_create(invoice=open_invoice, actor=None, reason="Dispute"),
        actor=None,
    )
    open_invoice.refresh_from_db()
    data = document_data(open_invoice)
    assert (data["amount_credited"], data["credit_notes"], data["balance_due"]) == (
        "$1,190.00",
        issued.number,
        "$0.00",
    )
    assert render_document_pdf(data).startswith(b"%PDF")
