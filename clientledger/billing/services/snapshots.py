"""The seller and buyer as a document froze them when it was sent or issued."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError

from clientledger.accounts.models import Agency
from clientledger.billing.models import (
    BillingDocument,
    Invoice,
)
from clientledger.billing.services.common import (
    document_lines,
    document_noun,
    line_model,
    line_price,
)
from clientledger.crm.models import Client


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
    billing = client.contacts.filter(is_billing_contact=True).first()
    return {
        "name": client.name,
        "address_lines": client.address_lines,
        "tax_id": client.tax_id,
        "email": client.billing_email,
        "contact_name": billing.name if billing else "",
    }


def snapshot_freeze(document: BillingDocument) -> None:
    """Snapshot seller, buyer and line taxes: later edits of either never reach the document."""
    document.seller_snapshot = seller_snapshot(document.agency)
    document.buyer_snapshot = buyer_snapshot(document.client)
    lines = list(document_lines(document).select_related("tax_1", "tax_2", "service"))
    if not lines:
        action = "issuing" if isinstance(document, Invoice) else "sending"
        raise ValidationError(
            f"Add at least one line before {action} this {document_noun(document)}."
        )
    line_price(document, lines)
    line_model(document).objects.bulk_update(
        lines,  # type: ignore[arg-type]
        ["net_minor", "tax_minor", "total_minor", "tax_snapshot"],
    )
