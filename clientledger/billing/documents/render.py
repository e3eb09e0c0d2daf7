"""Estimate and invoice PDFs, rendered by typst from templates/document.typ.

The document travels to typst as JSON in `sys.inputs` and the template reads it as data,
so nothing an agency or its clients typed can become typst markup or code. Rendering is a
pure function of the document (plus the logo file it names): no database, no network.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import threading
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal, cast

import typst

from clientledger.core.images import image_suffix
from clientledger.core.money import format_money, plain_decimal, quantize

__all__ = ["render_document_pdf", "sample_document"]

TEMPLATE = (Path(__file__).parent / "templates" / "document.typ").read_bytes()

_per_thread = threading.local()


def _compiler() -> typst.Compiler:
    # A Compiler loads its fonts once and is reused for every render, but it refuses to be
    # entered by two threads at once, so each thread owns one. System fonts are ignored so
    # a document looks the same on every machine, whatever fonts the host has installed.
    compiler: typst.Compiler | None = getattr(_per_thread, "compiler", None)
    if compiler is None:
        compiler = typst.Compiler(TEMPLATE, ignore_system_fonts=True)
        _per_thread.compiler = compiler
    return compiler


def _compile(document: dict[str, Any], **options: Any) -> bytes | list[bytes]:
    # Each render gets its own empty root holding nothing but a copy of the logo, so the
    # compiler can read no other file. The template is passed again on every call because
    # the compiler forgets an in-memory main file when the root changes.
    with tempfile.TemporaryDirectory(prefix="clientledger-document-") as root:
        inputs = {"data": json.dumps(document)}
        logo_path = (document.get("seller") or {}).get("logo_path")
        if logo_path:
            # typst picks the decoder by suffix: name the copy after what the file really is
            # (logos stored before uploads were renamed may carry another format's suffix).
            suffix = image_suffix(logo_path) or Path(logo_path).suffix.lower()
            logo = Path(root) / f"logo{suffix}"
            shutil.copyfile(logo_path, logo)
            inputs["logo"] = f"/{logo.name}"
        result = _compiler().compile(input=TEMPLATE, root=root, sys_inputs=inputs, **options)
    return cast(bytes | list[bytes], result)


def render_document_pdf(document: dict[str, Any]) -> bytes:
    """A tagged A4 PDF of an estimate or invoice.

    `document` is JSON-serialisable with money already formatted (see `sample_document`
    for every key); `seller.logo_path`, when set, is an absolute path to a PNG, JPEG, GIF or
    WebP image (whatever its suffix).
    A missing logo file raises `FileNotFoundError`, one typst cannot decode `TypstError`:
    an issued document's PDF is frozen, so it is never rendered without its logo.
    """
    return cast(bytes, _compile(document, format="pdf"))


_SAMPLE_SERVICES: tuple[tuple[str, str, str, str, str, str], ...] = (
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


def sample_document(
    lines: int = 10, *, kind: Literal["invoice", "estimate"] = "invoice"
) -> dict[str, Any]:
    """A realistic document with `lines` lines whose totals add up, for tests and benches."""
    currency = "USD"

    def money(amount: Decimal) -> str:
        return format_money(amount, currency)

    def negative(amount: Decimal) -> str:
        # A true minus sign: a hyphen before "$" reads as a dash on paper.
        return f"\N{MINUS SIGN}{money(amount)}" if amount else ""

    rendered_lines = []
    subtotal = discount_total = Decimal(0)
    tax_bases: dict[str, Decimal] = {}
    tax_amounts: dict[str, Decimal] = {}
    for index in range(lines):
        description, unit, price, quantity, discount_percent, vat = _SAMPLE_SERVICES[
            index % len(_SAMPLE_SERVICES)
        ]
        gross = quantize(Decimal(quantity) * Decimal(price), currency)
        discount = quantize(gross * Decimal(discount_percent) / 100, currency)
        net = gross - discount
        tax_name = f"VAT {vat}%"
        tax_bases[tax_name] = tax_bases.get(tax_name, Decimal(0)) + net
        tax_amounts[tax_name] = tax_amounts.get(tax_name, Decimal(0)) + quantize(
            net * Decimal(vat) / 100, currency
        )
        subtotal += gross
        discount_total += discount
        rendered_lines.append(
            {
                "description": description,
                "quantity": plain_decimal(Decimal(quantity)),
                "unit": unit,
                "unit_price": money(Decimal(price)),
                "discount": negative(discount),
                "taxes": tax_name,
                "amount": money(net),
                "period": "year" if unit == "Year" else "",
            }
        )
    tax_total = sum(tax_amounts.values(), Decimal(0))
    total = subtotal - discount_total + tax_total
    is_invoice = kind == "invoice"
    return {
        "kind": kind,
        "title": "Invoice" if is_invoice else "Estimate",
        "number": "INV-2026-00001" if is_invoice else "EST-2026-00003",
        "status": "open" if is_invoice else "sent",
        "issue_date": "Nov 24, 2026",
        "due_date": "Dec 24, 2026" if is_invoice else None,
        "valid_until": None if is_invoice else "Dec 24, 2026",
        "currency": currency,
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
        "lines": rendered_lines,
        "tax_breakdown": [
            {"name": name, "base": money(tax_bases[name]), "amount": money(amount)}
            for name, amount in sorted(tax_amounts.items())
        ],
        "subtotal": money(subtotal),
        "discount_total": negative(discount_total),
        "tax_total": money(tax_total),
        "total": money(total),
        "amount_paid": money(Decimal(0)) if is_invoice else None,
        "balance_due": money(total) if is_invoice else None,
        # Payments received ({"date", "method", "amount"}), on copies showing the payment state.
        "payments": [],
        # On such a copy: the date of the state shown and that the original is unchanged.
        "state_note": "",
        "notes": "Thank you for choosing Brightside Digital.\n"
        "Questions about this document? Reply to billing@brightside.digital.",
        "terms": (
            "Payment due within 30 days of the invoice date. Late payments accrue interest "
            "of 1% per month. Work remains the property of Brightside Digital LLC until paid "
            "in full."
            if is_invoice
            else "Prices are fixed until the date above; travel and third-party licences are "
            "billed at cost with your written approval. Approve online to book the team."
        ),
        "payment_instructions": (
            "Pay online with the link in your email, or by ACH or wire to Brightside Digital "
            "LLC, First Harbor Bank, routing 021000089, account 4410 2290 7731. Please quote "
            "the invoice number."
            if is_invoice
            else ""
        ),
        "footer": "Brightside Digital LLC · 148 Lafayette Street, New York, NY 10013 · "
        "EIN 84-2918375 · brightside.digital",
        "references": (
            [
                {"label": "Estimate", "value": "EST-2026-00003"},
                {"label": "Deal", "value": "Website relaunch"},
            ]
            if is_invoice
            else [{"label": "Deal", "value": "Website relaunch"}]
        ),
    }
