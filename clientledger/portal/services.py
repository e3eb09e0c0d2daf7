"""What a client's visit changes: the link's last view and the estimate's first view."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q

from clientledger.billing.models import CreditNote, Estimate, Invoice, PortalLink
from clientledger.billing.services.estimates import estimate_mark_viewed
from clientledger.core import clock

# A link's last view is kept to this precision: a client reloading the page, or a load on
# one link, writes no row for every request.
LAST_VIEW_PRECISION = dt.timedelta(minutes=15)


def portal_visit_record(*, link: PortalLink, document: Estimate | Invoice | CreditNote) -> None:
    """Write only what changed: the link's first view or a view `LAST_VIEW_PRECISION` after
    the one recorded, and the estimate's first view (audited, once)."""
    now = clock.now()
    stale = now - LAST_VIEW_PRECISION
    if link.last_viewed_at is None or link.last_viewed_at <= stale:
        # Conditional, so that concurrent first views write once.
        PortalLink.objects.filter(Q(last_viewed_at=None) | Q(last_viewed_at__lte=stale)).filter(
            pk=link.pk
        ).update(last_viewed_at=now)
    if isinstance(document, Estimate) and document.viewed_at is None:
        estimate_mark_viewed(estimate=document)
