"""Client link tokens and URLs, derived from a link's nonce: read by services and selectors
alike."""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import TypeVar, cast

from django.conf import settings
from django.db.models import OuterRef, QuerySet, Subquery

from clientledger.billing.models import (
    BillingDocument,
    PortalLink,
)
from clientledger.core.http import url_with

D = TypeVar("D", bound=BillingDocument)


def portal_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def portal_link_token(link: PortalLink) -> str:
    """The link's 256-bit token, derived from its nonce with the server's secret key."""
    return portal_nonce_token(link.nonce)


def portal_nonce_token(nonce: str) -> str:
    digest = hmac.new(
        settings.SECRET_KEY.encode(), f"portal-link:{nonce}".encode(), hashlib.sha256
    ).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def live_portal_links(links: QuerySet[PortalLink]) -> QuerySet[PortalLink]:
    """Links a client can open and staff can show again, newest first."""
    return links.filter(revoked_at=None).exclude(nonce="").order_by("-created_at", "-id")


def with_live_portal_nonce(documents: QuerySet[D]) -> QuerySet[D]:
    """Each document with the nonce of its newest live link (`live_portal_nonce`) read in
    the same query, for lists: a prefetch of the links costs a query and a model per link."""
    links = PortalLink.objects.filter(
        **{documents.model._meta.get_field("portal_links").field.name: OuterRef("pk")}  # type: ignore[union-attr]
    )
    nonce = Subquery(live_portal_links(links).values("nonce")[:1])
    return cast("QuerySet[D]", documents.annotate(live_portal_nonce=nonce))


def document_portal_url(document: BillingDocument) -> str | None:
    """The newest live client link of a document (`with_live_portal_nonce` for lists)."""
    if hasattr(document, "live_portal_nonce"):
        nonce = document.live_portal_nonce
    else:
        link = live_portal_links(document.portal_links.all()).first()  # type: ignore[attr-defined]
        nonce = link.nonce if link else None
    return nonce_portal_url(nonce)


def nonce_portal_url(nonce: str | None) -> str | None:
    """The client link of a document's newest live nonce (`live_portal_nonce`), if any."""
    return portal_url(portal_nonce_token(nonce)) if nonce else None


def portal_url(token: str) -> str:
    return settings.SITE_URL + url_with("portal:document", "token", token)
