"""Client link tokens and URLs, derived from a link's nonce: read by services and selectors
alike."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable

from django.conf import settings
from django.db.models import QuerySet
from django.urls import reverse

from clientledger.billing.models import (
    BillingDocument,
    PortalLink,
)


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


def document_portal_url(document: BillingDocument) -> str | None:
    """The newest live client link of a document (prefetch `live_portal_links` for lists)."""
    links = getattr(document, "live_portal_links", None)
    if links is None:
        links = list(live_portal_links(document.portal_links.all())[:1])  # type: ignore[attr-defined]
    return portal_url(portal_link_token(links[0])) if links else None


def portal_url(token: str) -> str:
    return settings.SITE_URL + reverse("portal:document", args=[token])


def portal_url_maker() -> Callable[[str], str]:
    """`portal_url` for the many tokens of a batch: the route reversed once (reversing costs
    more than making a token), each token put in its sample's place. A token is URL-safe
    base64, which reversing leaves as it is."""
    sample = portal_nonce_token("")
    head, tail = portal_url(sample).split(sample)
    return lambda token: f"{head}{token}{tail}"
