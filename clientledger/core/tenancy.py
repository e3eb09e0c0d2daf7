"""Tenant scoping: every business row has an agency and every read names it."""

from __future__ import annotations

from django.db import models


class AgencyScoped(models.Model):
    agency = models.ForeignKey("accounts.Agency", on_delete=models.CASCADE, related_name="+")

    class Meta:
        abstract = True
