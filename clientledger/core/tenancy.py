"""Tenant scoping: every business row has an agency and every read names it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Generic, TypeVar

from django.db import models

if TYPE_CHECKING:
    from clientledger.accounts.models import Agency

M = TypeVar("M", bound=models.Model)


class AgencyQuerySet(models.QuerySet[M], Generic[M]):
    def for_agency(self, agency: Agency) -> AgencyQuerySet[M]:
        return self.filter(agency=agency)


class AgencyScoped(models.Model):
    agency = models.ForeignKey("accounts.Agency", on_delete=models.CASCADE, related_name="+")

    class Meta:
        abstract = True
