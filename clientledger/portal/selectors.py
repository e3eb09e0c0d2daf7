"""What a portal link shows: its own document only, never a draft."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from clientledger.billing.documents.data import document_data
from clientledger.billing.models import (
    CreditNote,
    Estimate,
    EstimateStatus,
    Invoice,
    InvoiceStatus,
    PortalLink,
    estimate_is_expired,
    invoice_is_overdue,
)
from clientledger.billing.selectors import portal_link_resolve
from clientledger.core import clock
from clientledger.payments.models import Allocation, PaymentMethod
from clientledger.payments.selectors import invoice_payments_received
from clientledger.payments.stripe.checkout import (
    OnlinePayable,
    checkout_methods,
    online_payable,
    partial_payments_allowed,
)
from clientledger.payments.stripe.client import stripe_configured

DEFAULT_BRAND_COLOR = "#1F6FEB"
# The colour lands in a <style> block, where HTML escaping does not help: only #RRGGBB passes.
BRAND_COLOR = re.compile(r"#[0-9a-fA-F]{6}")


@dataclass(frozen=True)
class InvoicePayments:
    """An invoice's payments as its client sees them, and how it may pay the rest."""

    received: list[Allocation]
    payable: OnlinePayable
    can_pay_online: bool
    methods: list[PaymentMethod]
    allows_partial: bool

    @property
    def is_pending(self) -> bool:
        return self.payable.pending_minor > 0


def invoice_portal_payments(invoice: Invoice) -> InvoicePayments:
    payable = online_payable(invoice)
    return InvoicePayments(
        received=list(invoice_payments_received(invoice=invoice)),
        payable=payable,
        can_pay_online=payable.payable_minor > 0 and stripe_configured(invoice.agency),
        methods=checkout_methods(invoice),
        allows_partial=partial_payments_allowed(invoice.agency),
    )


@dataclass(frozen=True)
class PortalDocument:
    link: PortalLink
    document: Estimate | Invoice | CreditNote

    @property
    def is_estimate(self) -> bool:
        return isinstance(self.document, Estimate)

    @property
    def is_credit_note(self) -> bool:
        return isinstance(self.document, CreditNote)

    @cached_property
    def today(self) -> dt.date:
        return clock.agency_today(self.document.agency)

    @cached_property
    def data(self) -> dict[str, Any]:
        """The same formatted figures and snapshots the PDF prints."""
        return document_data(self.document)

    @cached_property
    def payments(self) -> InvoicePayments | None:
        """None for an estimate."""
        if not isinstance(self.document, Invoice):
            return None
        return invoice_portal_payments(self.document)

    @property
    def brand_color(self) -> str:
        color = self.data["seller"]["brand_color"]
        return color if BRAND_COLOR.fullmatch(color) else DEFAULT_BRAND_COLOR

    @property
    def logo_url(self) -> str:
        # document_data names a logo only when its file exists.
        return self.document.agency.logo.url if self.data["seller"]["logo_path"] else ""

    @property
    def is_expired(self) -> bool:
        return isinstance(self.document, Estimate) and estimate_is_expired(
            self.document, self.today
        )

    @property
    def is_answerable(self) -> bool:
        """The client may still approve or decline."""
        return (
            isinstance(self.document, Estimate)
            and self.document.status == EstimateStatus.SENT
            and not self.is_expired
        )

    @property
    def is_approved(self) -> bool:
        return isinstance(self.document, Estimate) and self.document.status in (
            EstimateStatus.APPROVED,
            EstimateStatus.CONVERTED,
        )

    @property
    def has_discounts(self) -> bool:
        return any(line["discount"] for line in self.data["lines"])

    @property
    def status_badge(self) -> tuple[str, str]:
        """The state the client sees, as a label and a Tabler colour."""
        document = self.document
        if self.is_expired:
            return "Expired", "secondary"
        if self.is_approved:
            return "Approved", "green"
        if self.is_payment_pending:
            return "Payment pending", "yellow"
        if self.is_overdue:
            return "Overdue", "red"
        # Annotated by portal_link_resolve from billing's one definition of partially paid.
        if getattr(document, "is_partially_paid", False):
            return "Partially paid", "azure"
        if isinstance(document, CreditNote):
            return "Credit note", "green"
        tones: dict[str, str] = {
            EstimateStatus.SENT: "blue",
            EstimateStatus.DECLINED: "red",
            InvoiceStatus.OPEN: "blue",
            InvoiceStatus.PAID: "green",
            InvoiceStatus.VOID: "red",
            InvoiceStatus.UNCOLLECTIBLE: "secondary",
        }
        label = "Awaiting your approval" if self.is_answerable else document.get_status_display()
        return label, tones.get(document.status, "secondary")

    @property
    def asks_for_payment(self) -> bool:
        """An open invoice with something left to pay that no processing payment covers."""
        return self.payments is not None and self.payments.payable.payable_minor > 0

    @property
    def payment_instructions(self) -> str:
        """How to pay, as the agency says today: its bank details may have been added or
        changed since the invoice (which keeps the ones it was issued with) went out."""
        return self.document.agency.payment_instructions

    @property
    def is_payment_pending(self) -> bool:
        return (
            self.document.status == InvoiceStatus.OPEN
            and self.payments is not None
            and self.payments.is_pending
        )

    @property
    def is_overdue(self) -> bool:
        return isinstance(self.document, Invoice) and invoice_is_overdue(self.document, self.today)


def portal_document(token: str) -> PortalDocument:
    """The live link's document; PortalLink.DoesNotExist for an unknown or revoked token or
    a draft, which the pages answer with the same plain 404."""
    link = portal_link_resolve(token)
    document = None if link is None else link.estimate or link.invoice or link.credit_note
    if link is None or document is None or document.status == "draft":
        raise PortalLink.DoesNotExist
    return PortalDocument(link=link, document=document)


def portal_estimate(token: str) -> tuple[PortalDocument, Estimate]:
    """The link's estimate (DoesNotExist for a link to anything else)."""
    portal = portal_document(token)
    if not isinstance(portal.document, Estimate):
        raise PortalLink.DoesNotExist
    return portal, portal.document


def portal_invoice(token: str) -> tuple[PortalDocument, Invoice]:
    """The link's invoice (DoesNotExist for a link to anything else)."""
    portal = portal_document(token)
    if not isinstance(portal.document, Invoice):
        raise PortalLink.DoesNotExist
    return portal, portal.document
