"""The request schemas of the recurring schedules API: settings, creation, edits, filters."""

from __future__ import annotations

from typing import Annotated, Literal

from ninja import Field, Schema

from clientledger.api.inputs import (
    ChoiceValue,
    Email,
    IsoDate,
    LongText,
    RowId,
    SearchText,
    StrictSchema,
    Text,
    partial_update,
)
from clientledger.api.lines import MAX_LINES, LineIn
from clientledger.api.pagination import PageParams
from clientledger.billing.services.sending import MAX_RECIPIENTS
from clientledger.recurring.models import (
    MAX_INTERVAL_COUNT,
    IntervalUnit,
    PeriodAction,
    ScheduleEnd,
    ScheduleStatus,
)

MAX_PERIODS = 100_000


class ScheduleSettings(StrictSchema):
    interval_unit: Annotated[IntervalUnit, ChoiceValue] = Field(
        IntervalUnit.MONTH, description="Monthly is 1 month, quarterly 3, yearly 12."
    )
    interval_count: int = Field(
        1, ge=1, le=max(MAX_INTERVAL_COUNT.values()), description="Bill every N units."
    )
    end_kind: Annotated[ScheduleEnd, ChoiceValue] = ScheduleEnd.NEVER
    end_date: IsoDate | None = Field(
        None, description="With `on_date`: no period starts after this day."
    )
    end_after_count: int | None = Field(
        None, ge=1, le=MAX_PERIODS, description="With `after_count`: how many invoices in all."
    )
    on_period: Annotated[PeriodAction, ChoiceValue] = Field(
        PeriodAction.DRAFT, description="What the billing run does with each period's invoice."
    )
    payment_terms_days: int | None = Field(
        None, ge=0, le=365, description="Left out or null: the client's terms."
    )
    notes: LongText = ""
    terms: LongText = ""
    recipients: list[Email] = Field(
        default_factory=list,
        max_length=MAX_RECIPIENTS,
        description="Where each invoice is emailed; empty: the client's billing addresses.",
    )


class ScheduleIn(ScheduleSettings):
    start_date: IsoDate = Field(description="The first day billed: every period counts from it.")
    name: Annotated[str, Text(200)] = Field(
        "", description="Required with `client_id`; from a deal, the deal's title by default."
    )
    from_deal_id: RowId | None = Field(None, description="A won deal of your agency.")
    recurrence: Literal["monthly", "quarterly", "yearly"] | None = Field(
        None, description="With `from_deal_id`: which of the deal's recurring lines to bill."
    )
    client_id: RowId | None = None
    deal_id: RowId | None = Field(None, description="A deal of the client the schedule is for.")
    lines: list[LineIn] = Field(default_factory=list, max_length=MAX_LINES)


class ScheduleFields(ScheduleSettings):
    name: Annotated[str, Text(200, required=True)]
    start_date: IsoDate
    deal_id: RowId | None = None


@partial_update
class SchedulePatch(ScheduleFields):
    """Only the fields sent are changed, for the periods not billed yet; a change of frequency
    or start begins a new timing at the first unbilled period. The client never changes."""


class EndIn(StrictSchema):
    reason: Annotated[str, Text(2000, multiline=True)] = ""


class ScheduleFilters(PageParams):
    q: SearchText = Field("", description="Schedule name or client name.")
    status: ScheduleStatus | None = None
    client_id: RowId | None = None
    deal_id: RowId | None = None


class RunParams(Schema):
    limit: int = Field(10, ge=1, le=50, description="How many runs, latest first.")
