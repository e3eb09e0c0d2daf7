"""What the trail records about agencies, their members and API tokens."""

from __future__ import annotations

from clientledger.core.audit_verbs import AuditVerb, Phrase


class AgencyVerb(AuditVerb):
    CREATED = "agency.created", Phrase.ACTION_FIRST
    UPDATED = "agency.updated", Phrase.ACTION_FIRST


class MemberVerb(AuditVerb):
    INVITED = "member.invited"
    INVITATION_REVOKED = "member.invitation_revoked"
    JOINED = "member.joined"
    ROLE_CHANGED = "member.role_changed"
    DEACTIVATED = "member.deactivated"
    LOCKED_OUT = "member.locked_out"


class ApiTokenVerb(AuditVerb):
    CREATED = "api_token.created", Phrase.ACTION_FIRST
    REVOKED = "api_token.revoked", Phrase.ACTION_FIRST
