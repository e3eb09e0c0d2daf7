"""Writing reminder policies, a client's override and an invoice's pause."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef

from clientledger.accounts.models import Agency, User
from clientledger.billing.models import Invoice
from clientledger.billing.services.common import document_lock
from clientledger.core import clock
from clientledger.core.audit import audit_record
from clientledger.core.error_codes import ErrorCode
from clientledger.crm.models import Client
from clientledger.receivables.audit_verbs import (
    ClientRemindersVerb,
    InvoiceRemindersVerb,
    ReminderPolicyVerb,
)
from clientledger.receivables.defaults import DEFAULT_POLICY_NAME, DEFAULT_STEPS
from clientledger.receivables.models import (
    ClientReminderSetting,
    InvoiceReminderState,
    InvoiceReminderStatus,
    ReminderPolicy,
    ReminderStep,
)
from clientledger.receivables.placeholders import placeholders_check
from clientledger.receivables.states import invoice_reminder_transition_check


@dataclass(frozen=True)
class StepData:
    """One step as a form or the API submits it; `id` names an existing step to change."""

    trigger: str
    offset_days: int
    subject: str
    body: str
    enabled: bool = True
    id: int | None = None


def _standard_steps_create(policy: ReminderPolicy) -> None:
    ReminderStep.objects.bulk_create(
        ReminderStep(
            agency_id=policy.agency_id,
            policy=policy,
            trigger=step.trigger,
            offset_days=step.offset_days,
            subject=step.subject,
            body=step.body,
        )
        for step in DEFAULT_STEPS
    )


def reminder_policy_default(*, agency: Agency) -> ReminderPolicy:
    """The agency's default policy, created with the standard steps on first use."""
    policy = ReminderPolicy.objects.filter(agency=agency, is_default=True).first()
    if policy is not None:
        return policy
    try:
        with transaction.atomic():
            policy = ReminderPolicy.objects.create(
                agency=agency, name=DEFAULT_POLICY_NAME, is_default=True
            )
            _standard_steps_create(policy)
            audit_record(agency=agency, actor=None, verb=ReminderPolicyVerb.CREATED, subject=policy)
    except IntegrityError:
        # A concurrent first use created it: the one-default constraint keeps one.
        return ReminderPolicy.objects.get(agency=agency, is_default=True)
    return policy


def reminder_policies_ensure(*, agency: Agency | None = None) -> int:
    """Give every agency (or one) without a default policy the standard one: reminders are
    on from the start. Returns how many were created."""
    agencies = Agency.objects.exclude(
        Exists(ReminderPolicy.objects.filter(agency=OuterRef("pk"), is_default=True))
    )
    if agency is not None:
        agencies = agencies.filter(pk=agency.pk)
    created = 0
    for missing in agencies:
        reminder_policy_default(agency=missing)
        created += 1
    return created


def reminder_policy_create(*, agency: Agency, actor: User | None, name: str) -> ReminderPolicy:
    """Another policy, starting from the standard steps, for clients that need their own."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Name the policy."}, code=ErrorCode.INVALID)
    if ReminderPolicy.objects.filter(agency=agency, name__iexact=name).exists():
        raise ValidationError(
            {"name": f"A policy named “{name}” exists already."}, code=ErrorCode.INVALID
        )
    with transaction.atomic():
        policy = ReminderPolicy.objects.create(agency=agency, name=name)
        _standard_steps_create(policy)
        audit_record(agency=agency, actor=actor, verb=ReminderPolicyVerb.CREATED, subject=policy)
    return policy


def _steps_check(steps: Sequence[StepData]) -> None:
    days = [(step.trigger, step.offset_days) for step in steps]
    if len(set(days)) != len(days):
        raise ValidationError(
            {"steps": "Two steps fall on the same day of the same trigger."},
            code=ErrorCode.INVALID,
        )
    for step in steps:
        if not step.subject.strip() or not step.body.strip():
            raise ValidationError(
                {"steps": "Every step needs a subject and a body."}, code=ErrorCode.INVALID
            )
        placeholders_check(step.subject, field="steps")
        placeholders_check(step.body, field="steps")


def _policy_steps_replace(*, policy: ReminderPolicy, steps: Sequence[StepData]) -> None:
    """Make the locked policy's steps exactly `steps`, refusing to drop a step already used."""
    existing = {step.pk: step for step in policy.steps.all()}
    kept = {step.id for step in steps if step.id is not None}
    if kept - set(existing):
        raise ValidationError(
            {"steps": "A step is not one of this policy's."}, code=ErrorCode.INVALID
        )
    removed = set(existing) - kept
    if ReminderStep.objects.filter(pk__in=removed, reminders__isnull=False).exists():
        raise ValidationError(
            {"steps": "A step that has sent reminders can be switched off, not removed."},
            code=ErrorCode.INVALID,
        )
    ReminderStep.objects.filter(pk__in=removed).delete()
    # Two steps swapping days would meet on the unique (trigger, day) on the way: the kept
    # steps are parked outside the valid range first, then saved with their new days.
    for parking, pk in enumerate(sorted(kept)):
        ReminderStep.objects.filter(pk=pk).update(offset_days=1000 + parking)
    for data in steps:
        step = existing[data.id] if data.id is not None else None
        step = step or ReminderStep(agency_id=policy.agency_id, policy=policy)
        step.trigger = data.trigger
        step.offset_days = data.offset_days
        step.subject = data.subject.strip()
        step.body = data.body.strip()
        step.enabled = data.enabled
        step.full_clean(exclude=["policy", "agency"], validate_constraints=False)
        step.save()


def _policy_name_check_unique(policy: ReminderPolicy) -> None:
    if (
        ReminderPolicy.objects.filter(agency_id=policy.agency_id, name__iexact=policy.name)
        .exclude(pk=policy.pk)
        .exists()
    ):
        raise ValidationError(
            {"name": f"A policy named “{policy.name}” exists already."},
            code=ErrorCode.INVALID,
        )


def reminder_policy_update(
    *,
    policy: ReminderPolicy,
    actor: User | None,
    name: str,
    enabled: bool,
    send_hour: int,
    business_days_only: bool,
    steps: Sequence[StepData],
) -> ReminderPolicy:
    """Change a policy and its steps at once. A step that was used stays in the log: it can
    be switched off, not removed."""
    _steps_check(steps)
    with transaction.atomic():
        locked = ReminderPolicy.objects.select_for_update().get(pk=policy.pk)
        _policy_steps_replace(policy=locked, steps=steps)
        locked.name = name.strip()
        locked.enabled = enabled
        locked.send_hour = send_hour
        locked.business_days_only = business_days_only
        locked.updated_at = clock.now()
        locked.full_clean(validate_constraints=False)
        _policy_name_check_unique(locked)
        locked.save()
        audit_record(
            agency=locked.agency,
            actor=actor,
            verb=ReminderPolicyVerb.UPDATED,
            subject=locked,
            data={
                "enabled": enabled,
                "send_hour": send_hour,
                "business_days_only": business_days_only,
                "steps": [
                    f"{step.trigger} {step.offset_days:+d}{'' if step.enabled else ' (off)'}"
                    for step in steps
                ],
            },
        )
    return locked


def client_reminder_policy_set(
    *, client: Client, actor: User | None, follows_default: bool, policy: ReminderPolicy | None
) -> Client:
    """The client follows the agency's default policy, another policy, or none
    (`follows_default=False` with no policy: no reminders at all)."""
    if policy is not None and policy.agency_id != client.agency_id:
        raise ValidationError({"policy": "Choose one of your policies."}, code=ErrorCode.INVALID)
    with transaction.atomic():
        locked = Client.objects.select_for_update().select_related("agency").get(pk=client.pk)
        if follows_default:
            ClientReminderSetting.objects.filter(client=locked).delete()
        else:
            ClientReminderSetting.objects.update_or_create(
                client=locked,
                defaults={
                    "agency_id": locked.agency_id,
                    "policy": policy,
                    "updated_at": clock.now(),
                },
            )
        audit_record(
            agency=locked.agency,
            actor=actor,
            verb=ClientRemindersVerb.POLICY_SET,
            subject=locked,
            client_id=locked.pk,
            data={"policy": "default" if follows_default else (policy.name if policy else "none")},
        )
    return locked


def _reminder_state_change(
    *, invoice: Invoice, actor: User | None, target: str, reason: str
) -> InvoiceReminderState:
    with transaction.atomic():
        locked = document_lock(invoice)
        state, _ = InvoiceReminderState.objects.select_for_update().get_or_create(
            invoice=locked, defaults={"agency_id": locked.agency_id}
        )
        invoice_reminder_transition_check(state.status, target)
        state.status = target
        state.reason = reason
        state.changed_by = actor
        state.changed_at = clock.now()
        state.save()
        audit_record(
            agency=locked.agency,
            actor=actor,
            verb=InvoiceRemindersVerb.PAUSED
            if target == InvoiceReminderStatus.PAUSED
            else InvoiceRemindersVerb.RESUMED,
            subject=locked,
            client_id=locked.client_id,
            data={"reason": reason} if reason else {},
        )
    return state


def invoice_reminders_pause(
    *, invoice: Invoice, actor: User | None, reason: str
) -> InvoiceReminderState:
    """No reminder goes out for the invoice until it is resumed; the reason is shown with it."""
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "Say why the reminders pause."}, code=ErrorCode.INVALID)
    if len(reason) > 300:
        raise ValidationError(
            {"reason": "Keep the reason under 300 characters."}, code=ErrorCode.TOO_LONG
        )
    return _reminder_state_change(
        invoice=invoice, actor=actor, target=InvoiceReminderStatus.PAUSED, reason=reason
    )


def invoice_reminders_resume(*, invoice: Invoice, actor: User | None) -> InvoiceReminderState:
    return _reminder_state_change(
        invoice=invoice, actor=actor, target=InvoiceReminderStatus.ACTIVE, reason=""
    )
