"""Creating and revoking the client links of a document."""

from __future__ import annotations

import secrets

from django.db import transaction

from clientledger.accounts.models import User
from clientledger.billing.audit_verbs import PortalLinkVerb
from clientledger.billing.models import (
    BillingDocument,
    PortalLink,
)
from clientledger.billing.portal_tokens import portal_link_token, portal_token_hash
from clientledger.billing.services.common import document_kind
from clientledger.core import clock
from clientledger.core.audit import audit_record


def portal_link_create(*, document: BillingDocument, actor: User | None) -> tuple[PortalLink, str]:
    """A new link with a 256-bit token; only its nonce and the token's hash are stored."""
    link, token = portal_link_build(document)
    link.save(force_insert=True)
    return link, token


def portal_link_build(document: BillingDocument) -> tuple[PortalLink, str]:
    """The unsaved link `portal_link_create` saves, and its token; batch writers bulk-insert."""
    link = PortalLink(
        agency_id=document.agency_id,
        nonce=secrets.token_hex(32),
        **{document_kind(document): document},
    )
    token = portal_link_token(link)
    link.token_hash = portal_token_hash(token)
    return link, token


def portal_link_revoke(*, document: BillingDocument, actor: User | None) -> int:
    """Revoke every live link of a document; the client then gets a plain 404."""
    with transaction.atomic():
        revoked = PortalLink.objects.filter(
            **{document_kind(document): document}, revoked_at=None
        ).update(revoked_at=clock.now())
        audit_record(
            agency=document.agency,
            actor=actor,
            verb=PortalLinkVerb.REVOKED,
            subject=document,
            client_id=document.client_id,
            data={"links": revoked},
        )
    return revoked
