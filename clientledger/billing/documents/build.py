"""From stored documents to the renderer's data, and the PDF stored once per issued document."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction

from clientledger.billing.documents.render import render_document_pdf
from clientledger.billing.models import BillingDocument, Estimate, Invoice, InvoiceStatus
from clientledger.billing.services.snapshots import buyer_snapshot, seller_snapshot
from clientledger.core.money import format_money, from_minor, plain_decimal


def _date(value: dt.date | None) -> str | None:
    return value.strftime("%b %d, %Y").replace(" 0", " ") if value else None


@dataclass(frozen=True)
class PaymentReceived:
    """A payment as an invoice prints it: what part of it paid this invoice."""

    received_on: dt.date
    method: str
    amount_minor: int


def document_data(
    document: BillingDocument, *, payments: Sequence[PaymentReceived] = ()
) -> dict[str, Any]:
    """Everything the template prints, as plain strings: user text stays data, never markup.

    What was issued is frozen; an invoice's payment state (status, amount paid, balance and
    the `payments` given) is the current one. `issued_document_data` is the invoice as it
    was issued."""
    currency = document.currency
    is_invoice = isinstance(document, Invoice)

    def money(minor: int) -> str:
        return format_money(from_minor(minor, currency), currency)

    frozen = document.status != "draft"
    seller = document.seller_snapshot if frozen else seller_snapshot(document.agency)
    buyer = document.buyer_snapshot if frozen else buyer_snapshot(document.client)
    logo = document.agency.logo
    lines = []
    for line in document.lines.select_related("tax_1", "tax_2"):  # type: ignore[attr-defined]
        lines.append(
            {
                "description": line.description,
                "quantity": plain_decimal(line.quantity),
                "unit": line.get_unit_display(),
                "unit_price": format_money(line.unit_price, currency),
                "discount": _discount_label(line.discount_kind, line.discount_value, currency),
                "taxes": ", ".join(tax["name"] for tax in line.tax_snapshot),
                "amount": money(line.net_minor),
                "period": line.period,
            }
        )
    references = []
    if isinstance(document, Invoice) and document.estimate_id:
        references.append({"label": "Estimate", "value": document.estimate.number})  # type: ignore[union-attr]
    if document.deal_id:
        references.append({"label": "Project", "value": document.deal.title})  # type: ignore[union-attr]
    data: dict[str, Any] = {
        "kind": "invoice" if is_invoice else "estimate",
        "title": "Invoice" if is_invoice else "Estimate",
        "number": document.number,
        "status": document.status,
        "issue_date": _date(document.issue_date),
        "due_date": _date(document.due_date) if isinstance(document, Invoice) else None,
        "valid_until": _date(document.valid_until) if isinstance(document, Estimate) else None,
        "currency": currency,
        "seller": {
            "name": seller.get("name", ""),
            "address_lines": seller.get("address_lines", []),
            "tax_id": seller.get("tax_id", ""),
            "email": "",
            "brand_color": seller.get("brand_color", "#1F6FEB"),
            "logo_path": logo.path if logo and _exists(logo) else None,
        },
        "buyer": buyer,
        "lines": lines,
        "tax_breakdown": [
            {
                "name": _tax_label(row["name"], Decimal(row["percent"])),
                "base": format_money(Decimal(row["base"]), currency),
                "amount": format_money(Decimal(row["amount"]), currency),
            }
            for row in document.tax_breakdown
        ],
        "subtotal": money(document.subtotal_minor),
        "discount_total": f"\N{MINUS SIGN}{money(document.discount_minor)}"
        if document.discount_minor
        else "",
        "tax_total": money(document.tax_total_minor),
        "total": money(document.total_minor),
        "notes": document.notes,
        "terms": document.terms,
        "payment_instructions": seller.get("payment_instructions", "") if is_invoice else "",
        "footer": seller.get("footer", "")
        or " · ".join(part for part in (seller.get("name", ""), seller.get("tax_id", "")) if part),
        "references": references,
    }
    if isinstance(document, Invoice):
        data["amount_paid"] = money(document.amount_paid_minor + document.amount_credited_minor)
        data["balance_due"] = money(document.balance_due_minor)
        data["payments"] = [
            {
                "date": _date(payment.received_on),
                "method": payment.method,
                "amount": money(payment.amount_minor),
            }
            for payment in payments
        ]
    return data


def issued_document_data(document: Estimate | Invoice) -> dict[str, Any]:
    """The document as it was issued, for the archived original: an invoice open for its whole
    total, whenever it is first rendered."""
    data = document_data(document)
    if isinstance(document, Invoice):
        data.update(
            status=InvoiceStatus.OPEN,
            amount_paid=format_money(Decimal(0), document.currency),
            balance_due=data["total"],
            payments=[],
        )
    return data


def _tax_label(name: str, percent: Decimal) -> str:
    """ "VAT 19%"; a rate already named with its percentage ("Sales tax 8.875%") keeps its name."""
    shown = f"{percent.normalize():f}%"
    return name if shown in name else f"{name} {shown}"


def _discount_label(kind: str, value: Decimal, currency: str) -> str:
    if kind == "percent":
        return f"{plain_decimal(value)}%"
    if kind == "amount":
        return f"\N{MINUS SIGN}{format_money(value, currency)}"
    return ""


def _exists(field_file: Any) -> bool:
    try:
        return bool(field_file.storage.exists(field_file.name))
    except (OSError, ValueError):
        return False


def pdf_filename(document: BillingDocument) -> str:
    kind = "invoice" if isinstance(document, Invoice) else "estimate"
    return f"{document.number or f'draft-{kind}-{document.pk}'}.pdf"


def document_pdf(document: Estimate | Invoice) -> bytes:
    """The document's PDF. Issued documents are rendered once, as issued, and the file is
    kept: the same bytes every time, even if the agency's details change or the invoice is
    paid later (`invoice_current_pdf` shows that). Drafts are previews."""
    if document.status == "draft":
        return render_document_pdf(document_data(document))
    if document.pdf and _exists(document.pdf):
        with document.pdf.open("rb") as stored:
            return stored.read()
    with transaction.atomic():
        locked = type(document).objects.select_for_update().get(pk=document.pk)
        if locked.pdf and _exists(locked.pdf):
            with locked.pdf.open("rb") as stored:
                return stored.read()
        content = render_document_pdf(issued_document_data(locked))
        locked.pdf.save(pdf_filename(locked), ContentFile(content), save=False)
        type(document).objects.filter(pk=locked.pk).update(pdf=locked.pdf.name)
        document.pdf = locked.pdf
    return content


def invoice_changed_since_issue(invoice: Invoice) -> bool:
    """Paid, credited, voided or written off: the issued original no longer tells its state."""
    return (
        invoice.status not in (InvoiceStatus.DRAFT, InvoiceStatus.OPEN)
        or invoice.amount_paid_minor > 0
        or invoice.amount_credited_minor > 0
    )


def invoice_current_pdf(
    invoice: Invoice, *, payments: Sequence[PaymentReceived], as_of: dt.date
) -> bytes:
    """The invoice as it stands on `as_of`: the archived original while nothing has changed,
    else a copy with its payment state and `payments` (PAID once settled). The copy is
    rendered on demand and never stored, so the original is never overwritten."""
    if not invoice_changed_since_issue(invoice):
        return document_pdf(invoice)
    data = document_data(invoice, payments=payments)
    data["state_note"] = (
        f"Payment status on {_date(as_of)}. "
        f"The invoice as issued on {_date(invoice.issue_date)} is unchanged."
    )
    return render_document_pdf(data)


def render_pending_pdfs(*, as_of: dt.datetime, batch: int = 100) -> dict[str, int]:
    """The runner renders the PDF of every issued document that has none yet."""
    rendered = 0
    for model in (Invoice, Estimate):
        pending = (
            model.objects.exclude(status="draft")
            .filter(pdf="")
            .select_related("agency", "client", "deal")
        )
        for document in pending[:batch]:
            document_pdf(document)
            rendered += 1
    return {"rendered": rendered} if rendered else {}
