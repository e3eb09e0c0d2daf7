"""What a client's visit changes: the link's last view and the estimate's first view."""

from __future__ import annotations

from clientledger.billing.models import CreditNote, Estimate, Invoice, PortalLink
from clientledger.billing.services.estimates import estimate_mark_viewed
from clientledger.core import clock


def portal_visit_record(*, link: PortalLink, document: Estimate | Invoice | CreditNote) -> None:
    PortalLink.objects.filter(pk=link.pk).update(last_viewed_at=clock.now())
    if isinstance(document, Estimate) and document.viewed_at is None:
        estimate_mark_viewed(estimate=document)
