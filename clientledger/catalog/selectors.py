"""Reads of services and tax rates."""

from __future__ import annotations

from django.db.models import OuterRef, Q, QuerySet

from clientledger.accounts.models import Agency
from clientledger.catalog.models import Service, TaxRate
from clientledger.core.query import count_subquery


def service_list(
    *, agency: Agency, search: str = "", status: str = "active", unit_type: str = ""
) -> QuerySet[Service]:
    services = Service.objects.filter(agency=agency).select_related(
        "default_tax_1", "default_tax_2"
    )
    if status == "active":
        services = services.filter(archived_at__isnull=True)
    elif status == "archived":
        services = services.filter(archived_at__isnull=False)
    if unit_type:
        services = services.filter(unit_type=unit_type)
    if search:
        services = services.filter(Q(name__icontains=search) | Q(description__icontains=search))
    return services.order_by("name", "id")


def tax_rate_list(*, agency: Agency, include_archived: bool = True) -> QuerySet[TaxRate]:
    rates = TaxRate.objects.filter(agency=agency)
    if not include_archived:
        rates = rates.filter(archived_at__isnull=True)
    return rates.order_by("name", "id")


def service_get(*, agency: Agency, pk: int) -> Service:
    return Service.objects.select_related("default_tax_1", "default_tax_2").get(
        agency=agency, pk=pk
    )


def tax_rate_get(*, agency: Agency, pk: int) -> TaxRate:
    return TaxRate.objects.get(agency=agency, pk=pk)


def tax_rate_overview(
    *, agency: Agency, search: str = "", status: str = "active"
) -> QuerySet[TaxRate]:
    """Tax rates with `service_count`, the number of services using them as a default tax."""
    uses = Service.objects.filter(agency=agency).filter(
        Q(default_tax_1=OuterRef("pk")) | Q(default_tax_2=OuterRef("pk"))
    )
    rates = tax_rate_list(agency=agency, include_archived=status != "active").annotate(
        service_count=count_subquery(uses)
    )
    if status == "archived":
        rates = rates.filter(archived_at__isnull=False)
    if search:
        rates = rates.filter(name__icontains=search)
    return rates
