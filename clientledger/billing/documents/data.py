"""From a stored estimate, invoice or credit note to the data the renderer prints (reads
only)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from clientledger.billing.models import (
    BillingDocument,
    CreditNote,
    CreditNoteStatus,
    Estimate,
    Invoice,
    InvoiceStatus,
)
from clientledger.billing.services.snapshots import buyer_snapshot, seller_snapshot
from clientledger.core.money import format_money, from_minor, plain_decimal


def display_date(value: dt.date | None) -> str | None:
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
    kind, title = _kind_title(document)

    def money(minor: int) -> str:
        return format_money(from_minor(minor, currency), currency)

    frozen = document.status != "draft"
    seller = document.seller_snapshot if frozen else seller_snapshot(document.agency)
    data: dict[str, Any] = {
        "kind": kind,
        "title": title,
        "number": document.number,
        "status": document.status,
        "issue_date": display_date(document.issue_date),
        "due_date": display_date(document.due_date) if isinstance(document, Invoice) else None,
        "valid_until": (
            display_date(document.valid_until) if isinstance(document, Estimate) else None
        ),
        "currency": currency,
        "seller": _seller_data(document, seller),
        "buyer": document.buyer_snapshot if frozen else buyer_snapshot(document.client),
        "lines": _line_rows(document, money),
        "tax_breakdown": _tax_rows(document),
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
        "references": _references(document),
    }
    if isinstance(document, Invoice):
        data.update(_payment_state(document, payments, money))
    if isinstance(document, CreditNote):
        data.update(credit_note_heading(document))
    return data


def _kind_title(document: BillingDocument) -> tuple[str, str]:
    if isinstance(document, Invoice):
        return "invoice", "Invoice"
    if isinstance(document, CreditNote):
        return "credit_note", "Credit note"
    return "estimate", "Estimate"


def credit_note_heading(credit_note: CreditNote) -> dict[str, str]:
    """The invoice a credit note corrects, named on it: "Credit note CN-2026-00001 for
    invoice INV-2026-00007 of Nov 2, 2026"."""
    invoice = credit_note.invoice
    number = credit_note.number or "(draft)"
    issued = display_date(invoice.issue_date) or ""
    return {
        "credited_invoice": invoice.number,
        "credited_invoice_date": issued,
        "credit_for": f"Credit note {number} for invoice {invoice.number} of {issued}",
        "reason": credit_note.reason,
    }


def _seller_data(document: BillingDocument, seller: dict[str, Any]) -> dict[str, Any]:
    logo = document.agency.logo
    return {
        "name": seller.get("name", ""),
        "address_lines": seller.get("address_lines", []),
        "tax_id": seller.get("tax_id", ""),
        "email": "",
        "brand_color": seller.get("brand_color", "#1F6FEB"),
        "logo_path": logo.path if logo and stored_file_exists(logo) else None,
    }


def _line_rows(document: BillingDocument, money: Callable[[int], str]) -> list[dict[str, Any]]:
    currency = document.currency
    return [
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
        for line in document.lines.select_related("tax_1", "tax_2")  # type: ignore[attr-defined]
    ]


def _tax_rows(document: BillingDocument) -> list[dict[str, str]]:
    currency = document.currency
    return [
        {
            "name": _tax_label(row["name"], Decimal(row["percent"])),
            "base": format_money(Decimal(row["base"]), currency),
            "amount": format_money(Decimal(row["amount"]), currency),
        }
        for row in document.tax_breakdown
    ]


def _references(document: BillingDocument) -> list[dict[str, str]]:
    references = []
    if isinstance(document, Invoice) and document.estimate_id:
        references.append({"label": "Estimate", "value": document.estimate.number})  # type: ignore[union-attr]
    if document.deal_id:
        references.append({"label": "Project", "value": document.deal.title})  # type: ignore[union-attr]
    return references


def _payment_state(
    invoice: Invoice, payments: Sequence[PaymentReceived], money: Callable[[int], str]
) -> dict[str, Any]:
    # Asked only of a credited invoice: the others' pages cost no query more.
    credit_notes = (
        invoice.credit_notes.filter(status=CreditNoteStatus.ISSUED).order_by("id")
        if invoice.amount_credited_minor
        else CreditNote.objects.none()
    )
    return {
        "amount_paid": money(invoice.amount_paid_minor + invoice.amount_credited_minor),
        "amount_credited": (
            money(invoice.amount_credited_minor) if invoice.amount_credited_minor else ""
        ),
        "credit_notes": ", ".join(credit_notes.values_list("number", flat=True)),
        "balance_due": money(invoice.balance_due_minor),
        "payments": [
            {
                "date": display_date(payment.received_on),
                "method": payment.method,
                "amount": money(payment.amount_minor),
            }
            for payment in payments
        ],
    }


def issued_document_data(document: Estimate | Invoice | CreditNote) -> dict[str, Any]:
    """The document as it was issued, for the archived original: an invoice open for its whole
    total, whenever it is first rendered."""
    data = document_data(document)
    if isinstance(document, Invoice):
        data.update(
            status=InvoiceStatus.OPEN,
            amount_paid=format_money(Decimal(0), document.currency),
            amount_credited="",
            credit_notes="",
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


def stored_file_exists(field_file: Any) -> bool:
    try:
        return bool(field_file.storage.exists(field_file.name))
    except (OSError, ValueError):
        return False


def invoice_changed_since_issue(invoice: Invoice) -> bool:
    """Paid, credited, voided or written off: the issued original no longer tells its state."""
    return (
        invoice.status not in (InvoiceStatus.DRAFT, InvoiceStatus.OPEN)
        or invoice.amount_paid_minor > 0
        or invoice.amount_credited_minor > 0
    )
