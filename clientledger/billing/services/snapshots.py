"""The seller and buyer as a document froze them when it was sent or issued."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.core.exceptions import ValidationError

from clientledger.accounts.models import Agency
from clientledger.billing.models import BillingDocument, DocumentLine, Estimate
from clientledger.billing.services.common import (
    PRICING_COLUMNS,
    document_kind,
    document_noun,
    line_model,
    line_price,
    stored_pricing_digest,
)
from clientledger.core.rows import rows_read, rows_values
from clientledger.crm.models import Client, Contact


def seller_snapshot(agency: Agency) -> dict[str, Any]:
    return {
        "name": agency.name,
        "address_lines": [line for line in agency.legal_address.splitlines() if line.strip()],
        "tax_id": agency.tax_id,
        "brand_color": agency.brand_color,
        "logo": agency.logo.name if agency.logo else "",
        "payment_instructions": agency.payment_instructions,
        "footer": agency.document_footer,
    }


def buyer_snapshot(client: Client) -> dict[str, Any]:
    # The first billing contact's name in the contacts' order (`Contact.Meta.ordering`), read
    # without the ORM's compilation: issuing reads it every time.
    names = rows_values(
        Contact,
        columns=["name"],
        equal=[("client", client.pk), ("is_billing_contact", True)],
        order_by=["name", "id"],
    )
    return _buyer(client, names[0][0] if names else "")


def buyer_snapshot_with(client: Client, billing_contact: Contact | None) -> dict[str, Any]:
    """The buyer as a document freezes it, with the billing contact in hand (batch writers
    read them all at once with `billing_contacts`)."""
    return _buyer(client, billing_contact.name if billing_contact else "")


def _buyer(client: Client, contact_name: str) -> dict[str, Any]:
    return {
        "name": client.name,
        "address_lines": client.address_lines,
        "tax_id": client.tax_id,
        "email": client.billing_email,
        "contact_name": contact_name,
    }


def billing_contacts(client_ids: Iterable[int]) -> dict[int, Contact]:
    """Each client's first billing contact (the one `buyer_snapshot` names), in one query."""
    contacts: dict[int, Contact] = {}
    for contact in Contact.objects.filter(client_id__in=set(client_ids), is_billing_contact=True):
        contacts.setdefault(contact.client_id, contact)
    return contacts


def snapshot_freeze(document: BillingDocument) -> bool:
    """Snapshot seller, buyer and line taxes: later edits of either never reach the document.
    Answers whether the lines were priced again, which they are only when what prices them
    changed since the draft was saved (`stored_pricing_digest`: a rate, the rounding, the client's
    exemption); the document's amounts are then to be written too."""
    document.seller_snapshot = seller_snapshot(document.agency)
    document.buyer_snapshot = buyer_snapshot(document.client)
    # What prices the lines, in their order (`PricedLine.Meta.ordering`), read as values
    # without the ORM's compilation: issuing reads them every time.
    kind, order = document_kind(document), ["position", "id"]
    inputs = rows_values(
        line_model(document),
        columns=PRICING_COLUMNS,
        equal=[(kind, document.pk)],
        order_by=order,
    )
    lines_require(document, inputs)
    if stored_pricing_digest(document, inputs) == document.priced_from:
        return False
    lines = rows_read(
        line_model(document),
        equal=[(kind, document.pk)],
        related=["tax_1", "tax_2"],
        order_by=order,
    )
    priced_before = [_line_amounts(line) for line in lines]
    line_price(document, lines)
    # Only the lines whose amounts or tax snapshots moved are written.
    changed = [
        line
        for line, before in zip(lines, priced_before, strict=True)
        if _line_amounts(line) != before
    ]
    if changed:
        line_model(document).objects.bulk_update(
            changed,  # type: ignore[arg-type]
            [*LINE_AMOUNT_FIELDS],
        )
    return True


LINE_AMOUNT_FIELDS = ("net_minor", "tax_minor", "total_minor", "tax_snapshot")


def _line_amounts(line: DocumentLine) -> tuple[Any, ...]:
    return tuple(getattr(line, field) for field in LINE_AMOUNT_FIELDS)


def lines_require(document: BillingDocument, lines: Sequence[object]) -> None:
    """A document is issued or sent with at least one line."""
    if not lines:
        action = "sending" if isinstance(document, Estimate) else "issuing"
        raise ValidationError(
            f"Add at least one line before {action} this {document_noun(document)}."
        )
