"""The catalog: services and tax rates. Both are archived, never deleted."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from django.core.exceptions import ValidationError
from ninja import Field, Query, Router

from clientledger.accounts.models import Agency
from clientledger.accounts.roles import Perm
from clientledger.api.access import agency_tax_rates, require
from clientledger.api.inputs import (
    ChoiceValue,
    Currency,
    LongText,
    Percent,
    Price,
    RowId,
    SearchText,
    StrictSchema,
    Text,
    partial_update,
)
from clientledger.api.outputs import DecimalStr, Output, money_str, responses
from clientledger.api.pagination import Page, PageParams, paginate
from clientledger.api.service_errors import api_field_names
from clientledger.catalog.models import Service, TaxRate, UnitType
from clientledger.catalog.selectors import (
    service_get,
    service_list,
    tax_rate_get,
    tax_rate_overview,
)
from clientledger.catalog.services import (
    service_create,
    service_set_archived,
    service_update,
    tax_rate_create,
    tax_rate_set_archived,
    tax_rate_update,
)
from clientledger.core.money import plain_decimal
from clientledger.core.permissions import AgencyRequest

services_router = Router(tags=["services"])
tax_rates_router = Router(tags=["tax rates"])

CATALOG_ORDERING = ("name", "id")
DEFAULT_TAX_FIELDS = ("default_tax_1", "default_tax_2")
SERVICE_FIELD_NAMES = {
    field: f"default_tax_rate_ids[{index}]" for index, field in enumerate(DEFAULT_TAX_FIELDS)
}
Status = Literal["active", "archived", "all"]


def _status(archived_at: dt.datetime | None) -> Literal["active", "archived"]:
    return "archived" if archived_at is not None else "active"


class ServiceIn(StrictSchema):
    name: Annotated[str, Text(200, required=True)]
    description: LongText = ""
    unit_type: Annotated[UnitType, ChoiceValue] = UnitType.HOUR
    default_unit_price: Price
    currency: Currency | None = Field(
        None, description="ISO 4217 code; the agency's when omitted or null."
    )
    default_tax_rate_ids: list[RowId] = Field(
        default_factory=list,
        max_length=2,
        description="Up to two active tax rates proposed when the service is added to a deal.",
    )


@partial_update
class ServicePatch(ServiceIn):
    """Only the fields sent are changed; `default_tax_rate_ids` replaces both defaults."""


class ServiceOut(Output):
    id: int
    name: str
    description: str
    unit_type: UnitType
    default_unit_price: DecimalStr
    currency: str
    default_tax_rate_ids: list[int]
    status: Literal["active", "archived"]
    archived_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime

    @classmethod
    def of(cls, service: Service) -> ServiceOut:
        return cls(
            id=service.pk,
            name=service.name,
            description=service.description,
            unit_type=UnitType(service.unit_type),
            default_unit_price=money_str(service.default_unit_price, service.currency),
            currency=service.currency,
            default_tax_rate_ids=[
                pk for pk in (service.default_tax_1_id, service.default_tax_2_id) if pk
            ],
            status=_status(service.archived_at),
            archived_at=service.archived_at,
            created_at=service.created_at,
            updated_at=service.updated_at,
        )


class ServiceFilters(PageParams):
    q: SearchText = Field("", description="Name or description.")
    status: Status = "active"
    unit_type: UnitType | None = None


class TaxRateIn(StrictSchema):
    name: Annotated[str, Text(100, required=True)]
    percent: Percent
    is_compound: bool = Field(False, description="Applied on top of the line's first tax.")
    is_inclusive: bool = Field(False, description="Prices already include this tax.")


@partial_update
class TaxRatePatch(TaxRateIn):
    """Only the fields sent are changed."""


class TaxRateOut(Output):
    id: int
    name: str
    percent: DecimalStr
    is_compound: bool
    is_inclusive: bool
    status: Literal["active", "archived"]
    archived_at: dt.datetime | None
    created_at: dt.datetime

    @classmethod
    def of(cls, rate: TaxRate) -> TaxRateOut:
        return cls(
            id=rate.pk,
            name=rate.name,
            percent=plain_decimal(rate.percent),
            is_compound=rate.is_compound,
            is_inclusive=rate.is_inclusive,
            status=_status(rate.archived_at),
            archived_at=rate.archived_at,
            created_at=rate.created_at,
        )


class TaxRateFilters(PageParams):
    q: SearchText = Field("", description="Name.")
    status: Status = "active"


def _default_taxes(agency: Agency, data: dict[str, Any]) -> dict[str, Any]:
    """Swap `default_tax_rate_ids` for the agency's rows (or a 422 naming the bad id)."""
    if "default_tax_rate_ids" not in data:
        return data
    ids: list[int] = data.pop("default_tax_rate_ids")
    rates = agency_tax_rates(agency=agency, ids=ids)
    for index, pk in enumerate(ids):
        if pk not in rates:
            raise ValidationError(
                {f"default_tax_rate_ids[{index}]": "Choose a tax rate of your agency."}
            )
    chosen = [rates[pk] for pk in ids] + [None, None]
    return data | dict(zip(DEFAULT_TAX_FIELDS, chosen, strict=False))


@services_router.get("", response=responses({200: Page[ServiceOut]}), summary="List services")
def list_services(request: AgencyRequest, filters: Query[ServiceFilters]) -> Page[ServiceOut]:
    agency = require(request, Perm.VIEW)
    rows = service_list(
        agency=agency, search=filters.q, status=filters.status, unit_type=filters.unit_type or ""
    )
    return paginate(
        rows,
        ordering=CATALOG_ORDERING,
        params=filters,
        item=ServiceOut,
        render=lambda page: [ServiceOut.of(s) for s in page],
    )


@services_router.post("", response=responses({201: ServiceOut}), summary="Create a service")
def create_service(request: AgencyRequest, payload: ServiceIn) -> tuple[int, ServiceOut]:
    agency = require(request, Perm.CATALOG_EDIT)
    data = _default_taxes(agency, payload.model_dump(exclude_none=True))
    data.setdefault("currency", agency.default_currency)
    with api_field_names(SERVICE_FIELD_NAMES):
        service = service_create(agency=agency, actor=request.user, **data)
    return 201, ServiceOut.of(service)


@services_router.get(
    "/{service_id}", response=responses({200: ServiceOut}), summary="Get a service"
)
def get_service(request: AgencyRequest, service_id: RowId) -> ServiceOut:
    agency = require(request, Perm.VIEW)
    return ServiceOut.of(service_get(agency=agency, pk=service_id))


@services_router.patch(
    "/{service_id}", response=responses({200: ServiceOut}), summary="Update a service"
)
def update_service(request: AgencyRequest, service_id: RowId, payload: ServicePatch) -> ServiceOut:
    agency = require(request, Perm.CATALOG_EDIT)
    service = service_get(agency=agency, pk=service_id)
    data = _default_taxes(agency, payload.model_dump(exclude_unset=True))
    with api_field_names(SERVICE_FIELD_NAMES):
        service_update(service=service, actor=request.user, **data)
    return ServiceOut.of(service)


@services_router.post(
    "/{service_id}/archive",
    response=responses({200: ServiceOut}),
    summary="Archive a service",
    description="Archived services stay on existing deals but cannot be added to new lines.",
)
def archive_service(request: AgencyRequest, service_id: RowId) -> ServiceOut:
    agency = require(request, Perm.CATALOG_EDIT)
    service = service_get(agency=agency, pk=service_id)
    return ServiceOut.of(service_set_archived(service=service, actor=request.user, archived=True))


@services_router.post(
    "/{service_id}/restore", response=responses({200: ServiceOut}), summary="Restore a service"
)
def restore_service(request: AgencyRequest, service_id: RowId) -> ServiceOut:
    agency = require(request, Perm.CATALOG_EDIT)
    service = service_get(agency=agency, pk=service_id)
    return ServiceOut.of(service_set_archived(service=service, actor=request.user, archived=False))


@tax_rates_router.get("", response=responses({200: Page[TaxRateOut]}), summary="List tax rates")
def list_tax_rates(request: AgencyRequest, filters: Query[TaxRateFilters]) -> Page[TaxRateOut]:
    agency = require(request, Perm.VIEW)
    rows = tax_rate_overview(agency=agency, search=filters.q, status=filters.status)
    return paginate(
        rows,
        ordering=CATALOG_ORDERING,
        params=filters,
        item=TaxRateOut,
        render=lambda page: [TaxRateOut.of(rate) for rate in page],
    )


@tax_rates_router.post("", response=responses({201: TaxRateOut}), summary="Create a tax rate")
def create_tax_rate(request: AgencyRequest, payload: TaxRateIn) -> tuple[int, TaxRateOut]:
    agency = require(request, Perm.CATALOG_EDIT)
    rate = tax_rate_create(agency=agency, actor=request.user, **payload.model_dump())
    return 201, TaxRateOut.of(rate)


@tax_rates_router.get(
    "/{tax_rate_id}", response=responses({200: TaxRateOut}), summary="Get a tax rate"
)
def get_tax_rate(request: AgencyRequest, tax_rate_id: RowId) -> TaxRateOut:
    agency = require(request, Perm.VIEW)
    return TaxRateOut.of(tax_rate_get(agency=agency, pk=tax_rate_id))


@tax_rates_router.patch(
    "/{tax_rate_id}", response=responses({200: TaxRateOut}), summary="Update a tax rate"
)
def update_tax_rate(
    request: AgencyRequest, tax_rate_id: RowId, payload: TaxRatePatch
) -> TaxRateOut:
    agency = require(request, Perm.CATALOG_EDIT)
    rate = tax_rate_get(agency=agency, pk=tax_rate_id)
    data = payload.model_dump(exclude_unset=True)
    return TaxRateOut.of(tax_rate_update(tax_rate=rate, actor=request.user, **data))


@tax_rates_router.post(
    "/{tax_rate_id}/archive", response=responses({200: TaxRateOut}), summary="Archive a tax rate"
)
def archive_tax_rate(request: AgencyRequest, tax_rate_id: RowId) -> TaxRateOut:
    agency = require(request, Perm.CATALOG_EDIT)
    rate = tax_rate_get(agency=agency, pk=tax_rate_id)
    return TaxRateOut.of(tax_rate_set_archived(tax_rate=rate, actor=request.user, archived=True))


@tax_rates_router.post(
    "/{tax_rate_id}/restore", response=responses({200: TaxRateOut}), summary="Restore a tax rate"
)
def restore_tax_rate(request: AgencyRequest, tax_rate_id: RowId) -> TaxRateOut:
    agency = require(request, Perm.CATALOG_EDIT)
    rate = tax_rate_get(agency=agency, pk=tax_rate_id)
    return TaxRateOut.of(tax_rate_set_archived(tax_rate=rate, actor=request.user, archived=False))
