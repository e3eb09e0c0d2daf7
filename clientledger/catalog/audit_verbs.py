"""What the trail records about the catalog's services and tax rates."""

from __future__ import annotations

from clientledger.core.audit_verbs import AuditVerb, Phrase


class ServiceVerb(AuditVerb):
    CREATED = "service.created", Phrase.ACTION_FIRST
    UPDATED = "service.updated", Phrase.ACTION_FIRST
    ARCHIVED = "service.archived", Phrase.ACTION_FIRST
    RESTORED = "service.restored", Phrase.ACTION_FIRST


class TaxRateVerb(AuditVerb):
    CREATED = "tax_rate.created", Phrase.ACTION_FIRST
    UPDATED = "tax_rate.updated", Phrase.ACTION_FIRST
    ARCHIVED = "tax_rate.archived", Phrase.ACTION_FIRST
    RESTORED = "tax_rate.restored", Phrase.ACTION_FIRST
