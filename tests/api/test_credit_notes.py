"""Credit notes through the API: created from an invoice with lines, issued, sent, printed
and settled (apply, keep, refund), typed in the OpenAPI schema, with bad input refused."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from clientledger.accounts.models import Agency
from clientledger.billing.models import CreditNote, Invoice, LedgerEntry
from clientledger.billing.services.drafts import invoice_create
from clientledger.billing.services.invoices import invoice_issue
from clientledger.catalog.models import TaxRate
from clientledger.crm.models import Client
from clientledger.lines.data import LineData
from clientledger.notifications.models import EmailMessage
from clientledger.payments.services.manual import payment_record_manual
from tests.api.conftest import ApiClient, errors
from tests.factories import ClientFactory, TaxRateFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_root(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def buyer(agency: Agency) -> Client:
    return ClientFactory.create(
        agency=agency, name="Acme Corp", currency="USD", billing_email="ap@acme.example"
    )


@pytest.fixture
def vat(agency: Agency) -> TaxRate:
    return TaxRateFactory.create(agency=agency, name="VAT", percent=Decimal(19))


def issued_invoice(buyer: Client, vat: TaxRate) -> Invoice:
    """Design 10 h at 100.00 and hosting 1 at 200.00, both at 19 % VAT (1,428.00)."""
    lines = [
        LineData(description="Design", quantity=Decimal(10), unit_price=Decimal(100), taxes=[vat]),
        LineData(description="Hosting", quantity=Decimal(1), unit_price=Decimal(200), taxes=[vat]),
    ]
    draft = invoice_create(agency=buyer.agency, actor=None, client=buyer, lines=lines)
    return invoice_issue(invoice=draft, actor=None)


def test_a_partial_credit_note_is_created_issued_and_applied_to_its_invoice(
    owner_api: ApiClient, buyer: Client, vat: TaxRate
) -> None:
    invoice = issued_invoice(buyer, vat)
    design = invoice.lines.order_by("position").first()
    assert design is not None

    created = owner_api.post(
        "/credit-notes",
        {
            "invoice_id": invoice.pk,
            "reason": "Two hours billed twice",
            "lines": [
                {
                    "invoice_line_id": design.pk,
                    "description": "Design",
                    "quantity": "2",
                    "unit_price": "100.00",
                }
            ],
        },
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["status"], body["number"], body["total"], body["tax_total"]) == (
        "draft",
        None,
        "238.00",
        "38.00",
    )
    assert body["invoice"] == {"id": invoice.pk, "number": invoice.number}
    assert body["lines"][0]["invoice_line_id"] == design.pk

    issued = owner_api.post(f"/credit-notes/{body['id']}/issue", {})
    assert issued.status_code == 200, issued.content
    shown = issued.json()
    assert (shown["status"], shown["number"], shown["settlement"]) == (
        "issued",
        "CN-2026-00001",
        "apply",
    )
    assert (shown["amount_applied"], shown["amount_refunded"], shown["remaining_credit"]) == (
        "238.00",
        "0.00",
        "0.00",
    )
    invoice_out = owner_api.get(f"/invoices/{invoice.pk}").json()
    assert (invoice_out["amount_credited"], invoice_out["balance_due"]) == ("238.00", "1190.00")


def test_a_full_credit_kept_then_applied_to_another_invoice_and_sent(
    owner_api: ApiClient, buyer: Client, vat: TaxRate
) -> None:
    credited, later = issued_invoice(buyer, vat), issued_invoice(buyer, vat)
    created = owner_api.post(
        "/credit-notes",
        {"invoice_id": credited.pk, "reason": "Cancelled", "settlement": "keep"},
    ).json()
    assert created["total"] == "1428.00"
    note_id = created["id"]
    assert owner_api.post(f"/credit-notes/{note_id}/issue", {}).status_code == 200

    applied = owner_api.post(
        f"/credit-notes/{note_id}/apply", {"invoice_id": later.pk, "amount": "1000.00"}
    )
    assert applied.status_code == 200, applied.content
    assert applied.json()["remaining_credit"] == "428.00"
    sent = owner_api.post(f"/credit-notes/{note_id}/send", {})
    assert sent.status_code == 200, sent.content
    assert sent.json()["portal_url"]
    assert EmailMessage.objects.filter(subject__contains="credit note").count() == 1
    pdf = owner_api.get(f"/credit-notes/{note_id}/pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    listed = owner_api.get("/credit-notes", q=credited.number).json()
    assert [item["id"] for item in listed["items"]] == [note_id]


def test_a_credit_note_refunded_by_hand_through_the_api(
    owner_api: ApiClient, buyer: Client, vat: TaxRate
) -> None:
    invoice = issued_invoice(buyer, vat)
    assert invoice.issue_date is not None
    payment_record_manual(
        agency=buyer.agency,
        actor=None,
        client=buyer,
        amount=Decimal("1428.00"),
        currency="USD",
        received_on=invoice.issue_date,
        method="bank_transfer",
    )
    note_id = owner_api.post(
        "/credit-notes", {"invoice_id": invoice.pk, "reason": "Refund", "settlement": "refund"}
    ).json()["id"]
    owner_api.post(f"/credit-notes/{note_id}/issue", {})

    too_much = owner_api.post(
        f"/credit-notes/{note_id}/refund", {"amount": "1428.01", "reason": "Goodwill"}
    )
    assert errors(too_much) == {
        "amount": "Credit note CN-2026-00001 has only $1,428.00 of credit left."
    }
    refunded = owner_api.post(
        f"/credit-notes/{note_id}/refund", {"amount": "1428.00", "reason": "Goodwill"}
    )
    assert refunded.status_code == 200, refunded.content
    assert (refunded.json()["amount_refunded"], refunded.json()["remaining_credit"]) == (
        "1428.00",
        "0.00",
    )
    buyer.refresh_from_db()
    assert buyer.balance_minor == 0


def test_bad_input_is_refused_by_field_and_changes_nothing(
    owner_api: ApiClient, agency: Agency, buyer: Client, vat: TaxRate
) -> None:
    invoice = issued_invoice(buyer, vat)
    other = issued_invoice(buyer, vat)
    stranger_line = other.lines.first()
    assert stranger_line is not None
    draft = invoice_create(agency=agency, actor=None, client=buyer)
    ledger_before = LedgerEntry.objects.count()

    assert errors(owner_api.post("/credit-notes", {"invoice_id": draft.pk, "reason": "Early"})) == {
        "invoice_id": "This invoice is a draft: change it, or issue it before crediting it."
    }
    assert errors(
        owner_api.post(
            "/credit-notes", {"invoice_id": invoice.pk, "reason": "Euro", "currency": "EUR"}
        )
    ) == {"currency": f"Invoice {invoice.number} is in USD, not in EUR."}
    assert errors(
        owner_api.post(
            "/credit-notes",
            {
                "invoice_id": invoice.pk,
                "reason": "Mixed up",
                "lines": [
                    {
                        "invoice_line_id": stranger_line.pk,
                        "description": "Design",
                        "quantity": "1",
                        "unit_price": "1.00",
                    }
                ],
            },
        )
    ) == {"lines[0].invoice_line_id": f"This line is not on invoice {invoice.number}."}
    too_much = errors(
        owner_api.post(
            "/credit-notes",
            {
                "invoice_id": invoice.pk,
                "reason": "Too much",
                "lines": [{"description": "Goodwill", "quantity": "1", "unit_price": "5000"}],
            },
        )
    )
    assert "still creditable" in too_much["lines"]
    assert not CreditNote.objects.exists()
    assert LedgerEntry.objects.count() == ledger_before


def test_the_openapi_schema_types_credit_notes_on_their_own(owner_api: ApiClient) -> None:
    schema = owner_api.get("/openapi.json").json()
    out = schema["components"]["schemas"]["CreditNoteOut"]["properties"]
    assert {"invoice", "reason", "amount_applied", "amount_refunded", "remaining_credit"} <= set(
        out
    )
    paths = schema["paths"]
    assert "/api/v1/credit-notes/{credit_note_id}/refund" in paths
    assert "/api/v1/credit-notes/{credit_note_id}/issue" in paths
