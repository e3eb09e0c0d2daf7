"""What the trail records about clients, contacts and deals."""

from __future__ import annotations

from clientledger.core.audit_verbs import AuditVerb, Phrase


class ClientVerb(AuditVerb):
    CREATED = "client.created", Phrase.ACTION_FIRST
    IMPORTED = "client.imported", Phrase.ACTION_FIRST
    UPDATED = "client.updated", Phrase.ACTION_FIRST
    DELETED = "client.deleted", Phrase.ACTION_FIRST


class ContactVerb(AuditVerb):
    CREATED = "contact.created", Phrase.ACTION_FIRST
    IMPORTED = "contact.imported", Phrase.ACTION_FIRST
    UPDATED = "contact.updated", Phrase.ACTION_FIRST
    DELETED = "contact.deleted", Phrase.ACTION_FIRST


class DealVerb(AuditVerb):
    CREATED = "deal.created", Phrase.ACTION_FIRST
    UPDATED = "deal.updated", Phrase.ACTION_FIRST
    STAGE_CHANGED = "deal.stage_changed", Phrase.STAGE_MOVE
    LINES_SAVED = "deal.lines_saved", Phrase.LINES_SAVED
    DELETED = "deal.deleted", Phrase.ACTION_FIRST
