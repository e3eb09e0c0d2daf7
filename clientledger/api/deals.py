"""Deals, their service lines (replaced as a whole) and pipeline moves."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Self

from django.core.exceptions import ValidationError
from ninja import Field, Query, Router

from clientledger.accounts.models import Agency, User
from clientledger.accounts.roles import Perm
from clientledger.api.access import agency_client, require
from clientledger.api.inputs import (
    ChoiceValue,
    IsoDate,
    LongText,
    RowId,
    SearchText,
    StrictSchema,
    Text,
    partial_update,
)
from clientledger.api.lines import LinesIn, api_line_errors, lines_data
from clientledger.api.outputs import DecimalStr, Output, discount_str, money_str, responses
from clientledger.api.pagination import Page, PageParams, paginate
from clientledger.api.service_errors import api_field_names
from clientledger.core.money import plain_decimal
from clientledger.core.permissions import AgencyRequest
from clientledger.crm.models import Deal, DealStage
from clientledger.crm.selectors import (
    DEAL_ORDERING,
    agency_members,
    deal_get,
    deal_list,
    deal_value,
    deals_priced_from_lines,
)
from clientledger.crm.services import (
    deal_create,
    deal_delete,
    deal_lines_replace,
    deal_move,
    deal_update,
)
from clientledger.lines.calculations.values import LineResult, TaxBreakdown
from clientledger.lines.models import PricedLine
from clientledger.lines.selectors import LinesValue

router = Router(tags=["deals"])

DEAL_FIELD_NAMES = {"client": "client_id", "owner": "owner_id"}


class DealFields(StrictSchema):
    title: Annotated[str, Text(200, required=True)]
    client_id: RowId = Field(description="A client of your agency; the deal bills in its currency.")
    owner_id: RowId | None = Field(None, description="The user id of a member of your agency.")
    expected_close_date: IsoDate | None = None
    notes: LongText = ""


class DealIn(DealFields):
    stage: Annotated[DealStage, ChoiceValue] = DealStage.LEAD


@partial_update
class DealPatch(DealFields):
    """Only the fields sent are changed; the stage changes through POST /deals/{id}/move."""


class DealMove(StrictSchema):
    stage: Annotated[DealStage, ChoiceValue]


class DealFilters(PageParams):
    q: SearchText = Field("", description="Deal title or client name.")
    stage: DealStage | None = None
    client_id: RowId | None = None
    owner_id: RowId | None = None


class DealLineOut(Output):
    id: int
    position: int
    service_id: int | None
    description: str
    quantity: DecimalStr
    unit: str
    unit_price: DecimalStr
    discount_kind: str
    discount_value: DecimalStr
    tax_rate_ids: list[int]
    recurrence: str
    net: DecimalStr | None = Field(
        description="After discount, before exclusive taxes; null when the deal's "
        "`pricing_problem` says why its lines cannot be priced."
    )
    tax_total: DecimalStr | None
    total: DecimalStr | None

    @classmethod
    def of(cls, line: PricedLine, result: LineResult | None, currency: str) -> Self:
        return cls(
            id=line.pk,
            position=line.position,
            service_id=line.service_id,
            description=line.description,
            quantity=plain_decimal(line.quantity),
            unit=line.unit,
            unit_price=money_str(line.unit_price, currency),
            discount_kind=line.discount_kind,
            discount_value=discount_str(line.discount_kind, line.discount_value, currency),
            tax_rate_ids=[tax.pk for tax in line.taxes],
            recurrence=line.recurrence,
            net=money_str(result.net, currency) if result else None,
            tax_total=money_str(result.tax_total, currency) if result else None,
            total=money_str(result.total, currency) if result else None,
        )


class TaxBreakdownOut(Output):
    tax_rate_id: int
    name: str
    percent: DecimalStr
    is_compound: bool
    is_inclusive: bool
    base: DecimalStr
    amount: DecimalStr

    @classmethod
    def of(cls, row: TaxBreakdown, currency: str) -> TaxBreakdownOut:
        return cls(
            tax_rate_id=int(row.tax.key),
            name=row.tax.name,
            percent=plain_decimal(row.tax.percent),
            is_compound=row.tax.is_compound,
            is_inclusive=row.tax.is_inclusive,
            base=money_str(row.base, currency),
            amount=money_str(row.amount, currency),
        )


class DealOut(Output):
    id: int
    title: str
    client_id: int
    client_name: str
    owner_id: int | None
    owner_name: str | None
    stage: DealStage
    expected_close_date: dt.date | None
    notes: str
    currency: str = Field(description="The client's currency; every amount of the deal uses it.")
    lines: list[DealLineOut]
    pricing_problem: str | None = Field(
        description="Why the lines cannot be priced (e.g. a tax rate changed since they were "
        "saved); the amounts are then null until the lines are corrected."
    )
    subtotal: DecimalStr | None
    discount_total: DecimalStr | None
    tax_total: DecimalStr | None
    total: DecimalStr | None
    tax_breakdown: list[TaxBreakdownOut]
    monthly_recurring: DecimalStr | None = Field(
        description="Net of the recurring lines per month (a quarterly line counts a third)."
    )
    created_at: dt.datetime
    updated_at: dt.datetime

    @classmethod
    def of(cls, deal: Deal, value: LinesValue) -> DealOut:
        totals, currency = value.totals, value.currency

        def amount(figure: Decimal | None) -> str | None:
            return None if figure is None else money_str(figure, currency)

        return cls(
            id=deal.pk,
            title=deal.title,
            client_id=deal.client_id,
            client_name=deal.client.name,
            owner_id=deal.owner_id,
            owner_name=str(deal.owner) if deal.owner else None,
            stage=DealStage(deal.stage),
            expected_close_date=deal.expected_close_date,
            notes=deal.notes,
            currency=currency,
            lines=[
                DealLineOut.of(line, result, currency)
                for line, result in value.with_results(deal.lines.all())
            ],
            pricing_problem=value.pricing_problem or None,
            subtotal=amount(totals.subtotal if totals else None),
            discount_total=amount(totals.discount_total if totals else None),
            tax_total=amount(totals.tax_total if totals else None),
            total=amount(totals.total if totals else None),
            tax_breakdown=[
                TaxBreakdownOut.of(row, currency)
                for row in (totals.tax_breakdown if totals else ())
            ],
            monthly_recurring=amount(value.monthly_recurring),
            created_at=deal.created_at,
            updated_at=deal.updated_at,
        )


def _deal_out(agency: Agency, deal_id: int) -> DealOut:
    deal = deal_get(agency=agency, pk=deal_id)
    return DealOut.of(deal, deal_value(deal=deal))


def _references(agency: Agency, data: dict[str, Any]) -> dict[str, Any]:
    """Swap the payload's `client_id`/`owner_id` for rows of the agency (or a 422)."""
    if "client_id" in data:
        data["client"] = agency_client(agency=agency, pk=data.pop("client_id"))
    if "owner_id" in data:
        data["owner"] = _owner_of_agency(agency, data.pop("owner_id"))
    return data


def _owner_of_agency(agency: Agency, user_id: int | None) -> User | None:
    if user_id is None:
        return None
    owner = agency_members(agency=agency).select_related("membership").filter(pk=user_id).first()
    if owner is None:
        raise ValidationError({"owner_id": "Choose a member of your agency."})
    return owner


@router.get("", response=responses({200: Page[DealOut]}), summary="List deals")
def list_deals(request: AgencyRequest, filters: Query[DealFilters]) -> Page[DealOut]:
    agency = require(request, Perm.VIEW)
    rows = deal_list(
        agency=agency,
        search=filters.q,
        stage=filters.stage or "",
        client_id=filters.client_id,
        owner_id=filters.owner_id,
    )

    def render(page: list[Deal]) -> list[DealOut]:
        return [
            DealOut.of(deal, value)
            for deal, value in deals_priced_from_lines(agency=agency, deals=page)
        ]

    return paginate(rows, ordering=DEAL_ORDERING, params=filters, item=DealOut, render=render)


@router.post("", response=responses({201: DealOut}), summary="Create a deal")
def create_deal(request: AgencyRequest, payload: DealIn) -> tuple[int, DealOut]:
    agency = require(request, Perm.CRM_EDIT)
    data = _references(agency, payload.model_dump(exclude_unset=True))
    with api_field_names(DEAL_FIELD_NAMES):
        deal = deal_create(agency=agency, actor=request.user, **data)
    return 201, _deal_out(agency, deal.pk)


@router.get("/{deal_id}", response=responses({200: DealOut}), summary="Get a deal")
def get_deal(request: AgencyRequest, deal_id: RowId) -> DealOut:
    agency = require(request, Perm.VIEW)
    return _deal_out(agency, deal_id)


@router.patch("/{deal_id}", response=responses({200: DealOut}), summary="Update a deal")
def update_deal(request: AgencyRequest, deal_id: RowId, payload: DealPatch) -> DealOut:
    agency = require(request, Perm.CRM_EDIT)
    deal = deal_get(agency=agency, pk=deal_id)
    data = _references(agency, payload.model_dump(exclude_unset=True))
    with api_field_names(DEAL_FIELD_NAMES):
        deal_update(deal=deal, actor=request.user, **data)
    return _deal_out(agency, deal_id)


@router.delete("/{deal_id}", response=responses({204: None}), summary="Delete a deal")
def delete_deal(request: AgencyRequest, deal_id: RowId) -> tuple[int, None]:
    agency = require(request, Perm.CRM_DELETE)
    deal_delete(deal=deal_get(agency=agency, pk=deal_id), actor=request.user)
    return 204, None


@router.put(
    "/{deal_id}/lines",
    response=responses({200: DealOut}),
    summary="Replace a deal's lines",
    description="All lines are replaced at once: every line is valid, or nothing changes.",
)
def replace_lines(request: AgencyRequest, deal_id: RowId, payload: LinesIn) -> DealOut:
    agency = require(request, Perm.CRM_EDIT)
    deal = deal_get(agency=agency, pk=deal_id)
    lines = lines_data(agency=agency, lines=payload.lines)
    with api_line_errors():
        deal_lines_replace(deal=deal, actor=request.user, lines=lines)
    return _deal_out(agency, deal_id)


@router.post(
    "/{deal_id}/move", response=responses({200: DealOut}), summary="Move a deal to a stage"
)
def move_deal(request: AgencyRequest, deal_id: RowId, payload: DealMove) -> DealOut:
    agency = require(request, Perm.CRM_EDIT)
    deal_move(deal=deal_get(agency=agency, pk=deal_id), actor=request.user, stage=payload.stage)
    return _deal_out(agency, deal_id)
