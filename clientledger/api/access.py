"""The caller's permission and the rows of their agency a request names (other agencies'
ids are bad input, never found)."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError

from clientledger.accounts.models import Agency
from clientledger.catalog.models import TaxRate
from clientledger.catalog.selectors import tax_rate_list
from clientledger.core.permissions import AgencyRequest
from clientledger.crm.models import Client, Deal
from clientledger.crm.selectors import client_get, deal_get


def require(request: AgencyRequest, perm: str) -> Agency:
    """The caller's agency, if their role grants `perm` (PermissionDenied answers 403)."""
    if not request.membership.allows(perm):
        raise PermissionDenied(f"Your role does not allow this ({perm}).")
    return request.agency


def agency_tax_rates(*, agency: Agency, ids: Iterable[int]) -> dict[int, TaxRate]:
    """The agency's tax rates among `ids`, in one query; other agencies' ids are absent."""
    wanted = set(ids)
    if not wanted:
        return {}
    return {rate.pk: rate for rate in tax_rate_list(agency=agency).filter(pk__in=wanted)}


def agency_client(*, agency: Agency, pk: int) -> Client:
    """The agency's client `pk`; any other id is bad input naming `client_id` (422)."""
    try:
        return client_get(agency=agency, pk=pk)
    except Client.DoesNotExist:
        raise ValidationError({"client_id": "Choose a client of your agency."}) from None


def agency_deal(*, agency: Agency, pk: int, field: str = "deal_id") -> Deal:
    """The agency's deal `pk` with its client and lines; any other id is a 422 on `field`."""
    try:
        return deal_get(agency=agency, pk=pk)
    except Deal.DoesNotExist:
        raise ValidationError({field: "Choose a deal of your agency."}) from None
