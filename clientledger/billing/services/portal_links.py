"""Creating and revoking the client links of a document."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import NamedTuple

from django.db import transaction

from clientledger.accounts.models import User
from clientledger.billing.audit_verbs import PortalLinkVerb
from clientledger.billing.models import (
    BillingDocument,
    PortalLink,
)
from clientledger.billing.portal_tokens import portal_nonce_token, portal_token_hash
from clientledger.billing.services.common import document_kind
from clientledger.core import clock
from clientledger.core.audit import audit_record
from clientledger.core.bulk import rows_write


def portal_link_create(*, document: BillingDocument, actor: User | None) -> tuple[PortalLink, str]:
    """A new link with a 256-bit token; only its nonce and the token's hash are stored."""
    link, token = portal_link_build(document)
    link.save(force_insert=True)
    return link, token


def portal_link_build(document: BillingDocument) -> tuple[PortalLink, str]:
    """The unsaved link `portal_link_create` saves, and its token."""
    row, token = portal_link_row(document)
    return PortalLink(**row._asdict()), token


class PortalLinkRow(NamedTuple):
    """A new link's values, for batch writers that write tens of thousands
    (`portal_links_write`) without a model instance each."""

    agency_id: int
    nonce: str
    token_hash: str
    estimate_id: int | None
    invoice_id: int | None
    credit_note_id: int | None


def portal_link_row(document: BillingDocument) -> tuple[PortalLinkRow, str]:
    """A new link of the saved `document`, and its token."""
    nonce = secrets.token_hex(32)
    token = portal_nonce_token(nonce)
    kind = document_kind(document)
    row = PortalLinkRow(
        agency_id=document.agency_id,
        nonce=nonce,
        token_hash=portal_token_hash(token),
        estimate_id=document.pk if kind == "estimate" else None,
        invoice_id=document.pk if kind == "invoice" else None,
        credit_note_id=document.pk if kind == "credit_note" else None,
    )
    return row, token


def portal_links_write(rows: Sequence[PortalLinkRow]) -> None:
    rows_write(PortalLink, PortalLinkRow._fields, rows)


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
