"""What the trail records about estimates, invoices and their portal links."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from clientledger.core.audit_verbs import AuditVerb, Party, Phrase


class EstimateVerb(AuditVerb):
    CREATED = "estimate.created", Phrase.ACTION_FIRST
    UPDATED = "estimate.updated", Phrase.ACTION_FIRST
    LINES_SAVED = "estimate.lines_saved", Phrase.LINES_SAVED
    DELETED = "estimate.deleted", Phrase.ACTION_FIRST
    SENT = "estimate.sent"
    VIEWED = "estimate.viewed", Phrase.VERB_WORDS, Party.CLIENT
    APPROVED = "estimate.approved", Phrase.VERB_WORDS, Party.CLIENT
    DECLINED = "estimate.declined", Phrase.VERB_WORDS, Party.CLIENT
    CONVERTED = "estimate.converted"
    EXPIRED = "estimate.expired"


class InvoiceVerb(AuditVerb):
    CREATED = "invoice.created", Phrase.ACTION_FIRST
    UPDATED = "invoice.updated", Phrase.ACTION_FIRST
    LINES_SAVED = "invoice.lines_saved", Phrase.LINES_SAVED
    DELETED = "invoice.deleted", Phrase.ACTION_FIRST
    SENT = "invoice.sent"
    ISSUED = "invoice.issued"
    VOIDED = "invoice.voided"
    # Recorded by payments when client credit pays part of the invoice.
    CREDIT_APPLIED = "invoice.credit_applied"


class CreditNoteVerb(AuditVerb):
    CREATED = "credit_note.created", Phrase.ACTION_FIRST
    UPDATED = "credit_note.updated", Phrase.ACTION_FIRST
    LINES_SAVED = "credit_note.lines_saved", Phrase.LINES_SAVED
    DELETED = "credit_note.deleted", Phrase.ACTION_FIRST
    SENT = "credit_note.sent"
    ISSUED = "credit_note.issued"
    SETTLEMENT_CHANGED = "credit_note.settlement_changed"
    # Its credit spent on an invoice, or given back by a refund that failed.
    APPLIED = "credit_note.applied"
    RELEASED = "credit_note.released"


class PortalLinkVerb(AuditVerb):
    REVOKED = "portal_link.revoked", Phrase.ACTION_FIRST


@dataclass(frozen=True)
class DocumentVerbs:
    """The verbs of the writes every document kind shares (drafts and sending)."""

    created: AuditVerb
    updated: AuditVerb
    lines_saved: AuditVerb
    deleted: AuditVerb
    sent: AuditVerb


# By document kind ("estimate", "invoice", "credit_note", as
# `services.common.document_kind` names it).
DOCUMENT_VERBS: Mapping[str, DocumentVerbs] = {
    "estimate": DocumentVerbs(
        created=EstimateVerb.CREATED,
        updated=EstimateVerb.UPDATED,
        lines_saved=EstimateVerb.LINES_SAVED,
        deleted=EstimateVerb.DELETED,
        sent=EstimateVerb.SENT,
    ),
    "invoice": DocumentVerbs(
        created=InvoiceVerb.CREATED,
        updated=InvoiceVerb.UPDATED,
        lines_saved=InvoiceVerb.LINES_SAVED,
        deleted=InvoiceVerb.DELETED,
        sent=InvoiceVerb.SENT,
    ),
    "credit_note": DocumentVerbs(
        created=CreditNoteVerb.CREATED,
        updated=CreditNoteVerb.UPDATED,
        lines_saved=CreditNoteVerb.LINES_SAVED,
        deleted=CreditNoteVerb.DELETED,
        sent=CreditNoteVerb.SENT,
    ),
}
