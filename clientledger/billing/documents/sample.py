"""A realistic document for tests and benches, with every key the renderer reads (see
`render.render_document_pdf`) and totals that add up."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any, Literal

from clientledger.core.money import format_money, plain_decimal, quantize

__all__ = ["sample_document"]

CURRENCY = "USD"

SERVICES: tuple[tuple[str, str, str, str, str, str], ...] = (
    # description, unit, unit price, quantity, discount %, VAT %
    ("Discovery workshop with stakeholders", "Day", "1800.00", "2", "0", "19"),
    ("UX research and information architecture", "Hour", "150.00", "24", "0", "19"),
    ("Visual design: homepage and 12 page templates", "Hour", "150.00", "46.5", "0", "19"),
    ("Front-end development, responsive and accessible", "Hour", "140.00", "92", "10", "19"),
    ("CMS integration and content migration", "Hour", "140.00", "38", "0", "19"),
    ("Copywriting for service pages", "Page", "220.00", "8", "0", "19"),
    ("SEO audit and redirect map", "Fixed", "950.00", "1", "0", "19"),
    ("Printed brand guidelines, 10 copies", "Set", "85.00", "10", "0", "7"),
    ("QA across browsers and devices", "Hour", "110.00", "16", "0", "19"),
    ("Managed hosting and monitoring, 12 months", "Year", "1200.00", "1", "15", "19"),
)

PARTIES: dict[str, Any] = {
    "currency": CURRENCY,
    "issue_date": "Nov 24, 2026",
    "seller": {
        "name": "Brightside Digital LLC",
        "address_lines": ["148 Lafayette Street, Floor 4", "New York, NY 10013", "USA"],
        "tax_id": "84-2918375",
        "email": "billing@brightside.digital",
        "brand_color": "#1F6FEB",
        "logo_path": None,
    },
    "buyer": {
        "name": "Northwind Outfitters Inc.",
        "address_lines": ["2200 Alaskan Way, Suite 310", "Seattle, WA 98121", "USA"],
        "tax_id": "91-4417702",
        "email": "accounts@northwind-outfitters.com",
        "contact_name": "Dana Whitfield",
    },
    "notes": "Thank you for choosing Brightside Digital.\n"
    "Questions about this document? Reply to billing@brightside.digital.",
    "footer": "Brightside Digital LLC · 148 Lafayette Street, New York, NY 10013 · "
    "EIN 84-2918375 · brightside.digital",
    # Payments received ({"date", "method", "amount"}), on copies showing the payment state.
    "payments": [],
    # On such a copy: the date of the state shown and that the original is unchanged.
    "state_note": "",
}

BY_KIND: dict[str, dict[str, Any]] = {
    "invoice": {
        "title": "Invoice",
        "number": "INV-2026-00001",
        "status": "open",
        "due_date": "Dec 24, 2026",
        "valid_until": None,
        "terms": "Payment due within 30 days of the invoice date. Late payments accrue interest "
        "of 1% per month. Work remains the property of Brightside Digital LLC until paid "
        "in full.",
        "payment_instructions": "Pay online with the link in your email, or by ACH or wire to "
        "Brightside Digital LLC, First Harbor Bank, routing 021000089, account 4410 2290 7731. "
        "Please quote the invoice number.",
        "references": [
            {"label": "Estimate", "value": "EST-2026-00003"},
            {"label": "Deal", "value": "Website relaunch"},
        ],
    },
    "estimate": {
        "title": "Estimate",
        "number": "EST-2026-00003",
        "status": "sent",
        "due_date": None,
        "valid_until": "Dec 24, 2026",
        "terms": "Prices are fixed until the date above; travel and third-party licences are "
        "billed at cost with your written approval. Approve online to book the team.",
        "payment_instructions": "",
        "references": [{"label": "Deal", "value": "Website relaunch"}],
    },
}


def _money(amount: Decimal) -> str:
    return format_money(amount, CURRENCY)


def _negative(amount: Decimal) -> str:
    # A true minus sign: a hyphen before "$" reads as a dash on paper.
    return f"\N{MINUS SIGN}{_money(amount)}" if amount else ""


def _priced_lines(count: int) -> dict[str, Any]:
    """`count` lines cycling through SERVICES, with the document's totals and tax rows."""
    rendered_lines = []
    subtotal = discount_total = Decimal(0)
    tax_bases: dict[str, Decimal] = {}
    tax_amounts: dict[str, Decimal] = {}
    for index in range(count):
        description, unit, price, quantity, discount_percent, vat = SERVICES[index % len(SERVICES)]
        gross = quantize(Decimal(quantity) * Decimal(price), CURRENCY)
        discount = quantize(gross * Decimal(discount_percent) / 100, CURRENCY)
        net = gross - discount
        tax_name = f"VAT {vat}%"
        tax_bases[tax_name] = tax_bases.get(tax_name, Decimal(0)) + net
        tax_amounts[tax_name] = tax_amounts.get(tax_name, Decimal(0)) + quantize(
            net * Decimal(vat) / 100, CURRENCY
        )
        subtotal += gross
        discount_total += discount
        rendered_lines.append(
            {
                "description": description,
                "quantity": plain_decimal(Decimal(quantity)),
                "unit": unit,
                "unit_price": _money(Decimal(price)),
                "discount": _negative(discount),
                "taxes": tax_name,
                "amount": _money(net),
                "period": "year" if unit == "Year" else "",
            }
        )
    tax_total = sum(tax_amounts.values(), Decimal(0))
    return {
        "lines": rendered_lines,
        "tax_breakdown": [
            {"name": name, "base": _money(tax_bases[name]), "amount": _money(amount)}
            for name, amount in sorted(tax_amounts.items())
        ],
        "subtotal": _money(subtotal),
        "discount_total": _negative(discount_total),
        "tax_total": _money(tax_total),
        "total": _money(subtotal - discount_total + tax_total),
    }


def sample_document(
    lines: int = 10, *, kind: Literal["invoice", "estimate"] = "invoice"
) -> dict[str, Any]:
    """A realistic document with `lines` lines whose totals add up, for tests and benches."""
    priced = _priced_lines(lines)
    is_invoice = kind == "invoice"
    return {
        "kind": kind,
        **copy.deepcopy(PARTIES),
        **copy.deepcopy(BY_KIND[kind]),
        **priced,
        "amount_paid": _money(Decimal(0)) if is_invoice else None,
        "balance_due": priced["total"] if is_invoice else None,
    }
