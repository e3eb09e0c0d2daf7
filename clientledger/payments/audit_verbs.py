"""What the trail records about payments, refunds and the agency's Stripe account."""

from __future__ import annotations

from clientledger.core.audit_verbs import AuditVerb, Party, Phrase


class PaymentVerb(AuditVerb):
    RECORDED = "payment.recorded"
    PENDING = "payment.pending", Phrase.VERB_WORDS, Party.STRIPE
    FAILED = "payment.failed", Phrase.VERB_WORDS, Party.STRIPE
    REFUNDED = "payment.refunded"
    DISPUTED = "payment.disputed", Phrase.VERB_WORDS, Party.STRIPE
    DISPUTE_UPDATED = "payment.dispute_updated", Phrase.VERB_WORDS, Party.STRIPE
    # A lost dispute takes the money back; one won on appeal brings it back.
    REVERSED = "payment.reversed", Phrase.VERB_WORDS, Party.STRIPE
    REINSTATED = "payment.reinstated", Phrase.VERB_WORDS, Party.STRIPE


class RefundVerb(AuditVerb):
    SUCCEEDED = "refund.succeeded", Phrase.VERB_WORDS, Party.STRIPE
    FAILED = "refund.failed", Phrase.VERB_WORDS, Party.STRIPE


class StripeVerb(AuditVerb):
    SETTINGS_UPDATED = "stripe.settings_updated"
    EVENT_REPROCESSED = "stripe.event_reprocessed"
