"""The client's answer to an estimate (viewed, approved, declined), its conversion to an
invoice, and expiry."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse

from clientledger.accounts.models import User
from clientledger.accounts.roles import Role
from clientledger.accounts.selectors import member_emails
from clientledger.billing.audit_verbs import EstimateVerb, InvoiceVerb
from clientledger.billing.models import (
    Estimate,
    EstimateStatus,
    Invoice,
    estimate_is_lapsed,
    lapsed_condition,
)
from clientledger.billing.services.common import document_lock, lines_write
from clientledger.billing.states import estimate_transition_check
from clientledger.core import clock
from clientledger.core.audit import audit_record
from clientledger.crm.models import DealStage
from clientledger.crm.services import deal_move
from clientledger.lines.data import LineData
from clientledger.notifications.services import email_enqueue


def estimate_mark_viewed(*, estimate: Estimate) -> None:
    """The first portal view sets viewed_at (a conditional update: no lock needed)."""
    if Estimate.objects.filter(pk=estimate.pk, viewed_at=None).update(viewed_at=clock.now()):
        audit_record(
            agency=estimate.agency,
            actor=None,
            verb=EstimateVerb.VIEWED,
            subject=estimate,
            client_id=estimate.client_id,
        )


def estimate_approve(*, estimate: Estimate, name: str, ip: str | None, user_agent: str) -> Estimate:
    """The client's one-click approval; converts at once when the agency asks for it."""
    with transaction.atomic():
        locked = document_lock(estimate)
        if estimate_is_lapsed(locked, clock.agency_today(locked.agency)):
            raise ValidationError("This estimate has expired; ask for a new one.")
        estimate_transition_check(locked.status, EstimateStatus.APPROVED)
        locked.status = EstimateStatus.APPROVED
        locked.approved_at = clock.now()
        locked.approved_name = name.strip()[:150]
        locked.approved_ip = ip
        locked.approved_user_agent = user_agent[:500]
        locked.updated_at = locked.approved_at
        locked.save()
        audit_record(
            agency=locked.agency,
            actor=None,
            verb=EstimateVerb.APPROVED,
            subject=locked,
            client_id=locked.client_id,
            data={"name": locked.approved_name, "ip": ip, "user_agent": locked.approved_user_agent},
        )
        _notify_staff(locked, "estimate_approved", f"{locked.client.name} approved {locked.number}")
        if locked.deal is not None and locked.agency.approval_wins_deal:
            deal_move(
                deal=locked.deal,
                actor=None,
                stage=DealStage.WON,
                approved_estimate=locked.number,
            )
        if locked.agency.auto_convert_approved_estimates:
            estimate_convert(estimate=locked, actor=None)
            locked.refresh_from_db()
    return locked


def estimate_decline(*, estimate: Estimate, reason: str) -> Estimate:
    with transaction.atomic():
        locked = document_lock(estimate)
        estimate_transition_check(locked.status, EstimateStatus.DECLINED)
        locked.status = EstimateStatus.DECLINED
        locked.declined_at = clock.now()
        locked.decline_reason = reason.strip()[:2000]
        locked.updated_at = locked.declined_at
        locked.save()
        audit_record(
            agency=locked.agency,
            actor=None,
            verb=EstimateVerb.DECLINED,
            subject=locked,
            client_id=locked.client_id,
            data={"reason": locked.decline_reason},
        )
        _notify_staff(locked, "estimate_declined", f"{locked.client.name} declined {locked.number}")
    return locked


def _notify_staff(estimate: Estimate, template: str, subject: str) -> None:
    """The estimate's author and the deal owner, or else the agency's owners and admins."""
    people = {
        user.email
        for user in (estimate.created_by, estimate.deal.owner if estimate.deal else None)
        if user is not None and user.is_active
    }
    if not people:
        people = set(member_emails(agency=estimate.agency, roles=[Role.OWNER, Role.ADMIN]))
    if people:
        email_enqueue(
            agency=estimate.agency,
            to=sorted(people),
            subject=subject,
            template=template,
            context={
                "document": estimate,
                "link": settings.SITE_URL + reverse("billing:estimate_detail", args=[estimate.pk]),
            },
        )


def estimate_convert(*, estimate: Estimate, actor: User | None) -> Invoice:
    """An approved estimate becomes a draft invoice with the same lines, once."""
    with transaction.atomic():
        locked = document_lock(estimate)
        estimate_transition_check(locked.status, EstimateStatus.CONVERTED)
        lines = [
            LineData.from_line(line)
            for line in locked.lines.select_related("service", "tax_1", "tax_2")
        ]
        invoice = Invoice(
            agency=locked.agency,
            client=locked.client,
            deal=locked.deal,
            estimate=locked,
            currency=locked.currency,
            notes=locked.notes,
            terms=locked.terms,
            created_by=actor,
        )
        invoice.save()
        lines_write(invoice, lines)
        locked.status = EstimateStatus.CONVERTED
        locked.converted_at = clock.now()
        locked.updated_at = locked.converted_at
        locked.save(update_fields=["status", "converted_at", "updated_at"])
        audit_record(
            agency=locked.agency,
            actor=actor,
            verb=EstimateVerb.CONVERTED,
            subject=locked,
            client_id=locked.client_id,
            data={"invoice": invoice.pk},
        )
        audit_record(
            agency=locked.agency,
            actor=actor,
            verb=InvoiceVerb.CREATED,
            subject=invoice,
            client_id=locked.client_id,
            data={"estimate": locked.pk, "lines": len(lines)},
        )
    return invoice


def estimates_expire_due(*, as_of: dt.datetime) -> dict[str, int]:
    """Sent estimates past their validity date (in their agency's timezone) expire."""
    expired = 0
    # No agency's date is later than the UTC date plus one day: lapsed for that date takes
    # every estimate that may have lapsed; each is then checked on its agency's date.
    candidates = Estimate.objects.filter(
        lapsed_condition(as_of.date() + dt.timedelta(days=1))
    ).select_related("agency")
    for estimate in candidates.iterator(chunk_size=200):
        today = clock.agency_today(estimate.agency, as_of=as_of)
        if not estimate_is_lapsed(estimate, today):
            continue
        with transaction.atomic():
            locked = document_lock(estimate)
            if not estimate_is_lapsed(locked, today):
                continue
            estimate_transition_check(locked.status, EstimateStatus.EXPIRED)
            locked.status = EstimateStatus.EXPIRED
            locked.updated_at = clock.now()
            locked.save(update_fields=["status", "updated_at"])
            audit_record(
                agency=locked.agency,
                actor=None,
                verb=EstimateVerb.EXPIRED,
                subject=locked,
                client_id=locked.client_id,
            )
            expired += 1
    return {"expired": expired} if expired else {}
