"""Helpers shared by the management commands."""

from __future__ import annotations

from django.core.management.base import CommandError

from clientledger.accounts.models import Agency


def agency_option(agency_id: int | None) -> Agency | None:
    """The agency an `--agency ID` option names (None: every agency)."""
    if agency_id is None:
        return None
    agency = Agency.objects.filter(pk=agency_id).first()
    if agency is None:
        raise CommandError(f"There is no agency with id {agency_id}.")
    return agency
