"""Payment reminders: the agency's policies and an invoice's dunning timeline with pause and
resume."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from ninja import Field, Router
from pydantic import Strict

from clientledger.accounts.roles import Perm
from clientledger.api.access import require
from clientledger.api.inputs import RowId, StrictSchema, Text, partial_update
from clientledger.api.outputs import DecimalStr, Output, minor_money_str, responses
from clientledger.api.service_errors import state_conflicts
from clientledger.billing.selectors import invoice_get
from clientledger.core.permissions import AgencyRequest
from clientledger.receivables.models import ReminderPolicy, ReminderTrigger, SkipReason
from clientledger.receivables.selectors import (
    InvoiceReminderTimeline,
    TimelineState,
    invoice_reminder_timeline,
    policy_get,
    policy_list,
)
from clientledger.receivables.services.policies import (
    StepData,
    invoice_reminders_pause,
    invoice_reminders_resume,
    reminder_policy_default,
    reminder_policy_update,
)

policies_router = Router(tags=["reminders"])
invoice_reminders_router = Router(tags=["reminders"])


def operation_id(name: str) -> str:
    return f"clientledger_api_reminders_{name}"


class StepOut(Output):
    id: int
    trigger: ReminderTrigger
    offset_days: int = Field(description="Days after the trigger's date; negative: before.")
    enabled: bool
    subject: str
    body: str


class PolicyOut(Output):
    id: int
    name: str
    is_default: bool
    enabled: bool
    send_hour: int = Field(description="Reminders go out from this hour of the agency's day.")
    business_days_only: bool
    steps: list[StepOut]

    @classmethod
    def of(cls, policy: ReminderPolicy) -> PolicyOut:
        return cls(
            id=policy.pk,
            name=policy.name,
            is_default=policy.is_default,
            enabled=policy.enabled,
            send_hour=policy.send_hour,
            business_days_only=policy.business_days_only,
            steps=[
                StepOut(
                    id=step.pk,
                    trigger=ReminderTrigger(step.trigger),
                    offset_days=step.offset_days,
                    enabled=step.enabled,
                    subject=step.subject,
                    body=step.body,
                )
                for step in policy.steps.all()
            ],
        )


class StepIn(StrictSchema):
    id: RowId | None = Field(None, description="An existing step to change; omit for a new one.")
    trigger: Annotated[ReminderTrigger, Strict(False)]
    offset_days: int = Field(ge=-365, le=365)
    enabled: bool = True
    subject: Annotated[str, Text(200, required=True)]
    body: Annotated[str, Text(5000, required=True, multiline=True)]


class PolicyIn(StrictSchema):
    name: Annotated[str, Text(100, required=True)]
    enabled: bool
    send_hour: int = Field(ge=0, le=23)
    business_days_only: bool
    steps: list[StepIn] = Field(
        description="Every step of the policy: steps left out are removed (a step that has "
        "sent reminders can only be switched off).",
        max_length=30,
    )


@partial_update
class PolicyPatch(PolicyIn):
    pass


@policies_router.get(
    "",
    response=responses({200: list[PolicyOut]}),
    summary="List the reminder policies",
    description="The agency's default policy first; it is created with the standard steps.",
    operation_id=operation_id("list_policies"),
)
def list_policies(request: AgencyRequest) -> list[PolicyOut]:
    agency = require(request, Perm.VIEW)
    reminder_policy_default(agency=agency)
    return [PolicyOut.of(policy) for policy in policy_list(agency=agency)]


@policies_router.get(
    "/{policy_id}",
    response=responses({200: PolicyOut}),
    summary="Get a reminder policy",
    operation_id=operation_id("get_policy"),
)
def get_policy(request: AgencyRequest, policy_id: RowId) -> PolicyOut:
    return PolicyOut.of(policy_get(agency=require(request, Perm.VIEW), pk=policy_id))


@policies_router.patch(
    "/{policy_id}",
    response=responses({200: PolicyOut}),
    summary="Update a reminder policy",
    description="Send only what changes; `steps`, when sent, is the whole list of steps.",
    operation_id=operation_id("update_policy"),
)
def update_policy(request: AgencyRequest, policy_id: RowId, payload: PolicyPatch) -> PolicyOut:
    agency = require(request, Perm.AGENCY_SETTINGS)
    policy = policy_get(agency=agency, pk=policy_id)
    changes: dict[str, Any] = payload.model_dump(exclude_unset=True)
    steps = (
        [StepData(**step) for step in changes.pop("steps")]
        if "steps" in changes
        else [
            StepData(
                id=step.pk,
                trigger=step.trigger,
                offset_days=step.offset_days,
                subject=step.subject,
                body=step.body,
                enabled=step.enabled,
            )
            for step in policy.steps.all()
        ]
    )
    reminder_policy_update(
        policy=policy,
        actor=request.user,
        name=changes.get("name", policy.name),
        enabled=changes.get("enabled", policy.enabled),
        send_hour=changes.get("send_hour", policy.send_hour),
        business_days_only=changes.get("business_days_only", policy.business_days_only),
        steps=steps,
    )
    return PolicyOut.of(policy_get(agency=agency, pk=policy_id))


class TimelineEntryOut(Output):
    label: str
    offset_days: int
    day: dt.date = Field(description="The step's day: the due date plus its offset.")
    state: TimelineState = Field(
        description="sent; skipped (with its reason); planned (with when); held back now by a "
        "pause, a dispute or a pending bank payment (with the reason); off (policy off)."
    )
    reason: SkipReason | None
    at: dt.datetime | None = Field(description="When it was sent, or when it is planned.")
    recipients: list[str]
    balance_shown: DecimalStr | None = Field(description="The balance due the email showed.")


class InvoiceRemindersOut(Output):
    invoice_id: int
    policy_id: int | None = Field(description="Null when the client gets no reminders.")
    paused: bool
    pause_reason: str
    next_planned: TimelineEntryOut | None
    entries: list[TimelineEntryOut]

    @classmethod
    def of(cls, timeline: InvoiceReminderTimeline) -> InvoiceRemindersOut:
        currency = timeline.invoice.currency

        def entry_out(entry: Any) -> TimelineEntryOut:
            return TimelineEntryOut(
                label=entry.label,
                offset_days=entry.offset_days,
                day=entry.day,
                state=entry.state,
                reason=SkipReason(entry.reason) if entry.reason else None,
                at=entry.at,
                recipients=list(entry.recipients),
                balance_shown=(
                    minor_money_str(entry.balance_minor, currency)
                    if entry.balance_minor is not None and entry.state == "sent"
                    else None
                ),
            )

        return cls(
            invoice_id=timeline.invoice.pk,
            policy_id=timeline.policy.pk if timeline.policy else None,
            paused=timeline.is_paused,
            pause_reason=timeline.pause.reason if timeline.is_paused and timeline.pause else "",
            next_planned=entry_out(timeline.next_planned) if timeline.next_planned else None,
            entries=[entry_out(entry) for entry in timeline.entries],
        )


class PauseIn(StrictSchema):
    reason: Annotated[str, Text(300, required=True)]


def _timeline(request: AgencyRequest, perm: str, invoice_id: int) -> InvoiceRemindersOut:
    agency = require(request, perm)
    invoice = invoice_get(agency=agency, pk=invoice_id)
    return InvoiceRemindersOut.of(invoice_reminder_timeline(agency=agency, invoice=invoice))


@invoice_reminders_router.get(
    "/{invoice_id}/reminders",
    response=responses({200: InvoiceRemindersOut}),
    summary="Get an invoice's reminder timeline",
    description="Each reminder sent, skipped (and why) or planned, and the next one.",
    operation_id=operation_id("get_invoice_reminders"),
)
def get_invoice_reminders(request: AgencyRequest, invoice_id: RowId) -> InvoiceRemindersOut:
    return _timeline(request, Perm.VIEW, invoice_id)


@invoice_reminders_router.post(
    "/{invoice_id}/reminders/pause",
    response=responses({200: InvoiceRemindersOut}),
    summary="Pause an invoice's reminders",
    operation_id=operation_id("pause_invoice_reminders"),
)
def pause_invoice_reminders(
    request: AgencyRequest, invoice_id: RowId, payload: PauseIn
) -> InvoiceRemindersOut:
    agency = require(request, Perm.INVOICE_EDIT)
    invoice = invoice_get(agency=agency, pk=invoice_id)
    with state_conflicts():
        invoice_reminders_pause(invoice=invoice, actor=request.user, reason=payload.reason)
    return _timeline(request, Perm.INVOICE_EDIT, invoice_id)


@invoice_reminders_router.post(
    "/{invoice_id}/reminders/resume",
    response=responses({200: InvoiceRemindersOut}),
    summary="Resume an invoice's reminders",
    operation_id=operation_id("resume_invoice_reminders"),
)
def resume_invoice_reminders(request: AgencyRequest, invoice_id: RowId) -> InvoiceRemindersOut:
    agency = require(request, Perm.INVOICE_EDIT)
    invoice = invoice_get(agency=agency, pk=invoice_id)
    with state_conflicts():
        invoice_reminders_resume(invoice=invoice, actor=request.user)
    return _timeline(request, Perm.INVOICE_EDIT, invoice_id)
