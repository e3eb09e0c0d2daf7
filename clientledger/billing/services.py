"""Estimates and invoices: every write locks its root row, checks the transition table,
audits, and queues its side effects (email, PDF) as outbox rows in the same transaction."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Sequence
from typing import Any, TypeVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import BooleanField, ExpressionWrapper, QuerySet
from django.urls import reverse

from clientledger.accounts.models import Agency, User
from clientledger.accounts.roles import Role
from clientledger.accounts.selectors import member_emails
from clientledger.billing.ledger import ledger_append
from clientledger.billing.models import (
    BillingDocument,
    DocumentLine,
    DocumentSeries,
    Estimate,
    EstimateLine,
    EstimateStatus,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    LedgerEntryKind,
    PortalLink,
    partially_paid_condition,
)
from clientledger.billing.numbering import number_take
from clientledger.billing.states import estimate_transition_check, invoice_transition_check
from clientledger.core import clock
from clientledger.core.audit import audit_record
from clientledger.core.dates import dates_check
from clientledger.core.money import to_minor
from clientledger.crm.models import Client, Deal, DealStage
from clientledger.crm.services import deal_move
from clientledger.lines.calculations import CalculationError
from clientledger.lines.data import LineData
from clientledger.lines.pricing import document_totals, pricing_problem, recurring_amounts
from clientledger.lines.validation import lines_validate, totals_check
from clientledger.notifications.services import email_enqueue

D = TypeVar("D", bound=Estimate | Invoice)

DRAFT_FIELDS = ("notes", "terms", "deal")
MAX_RECIPIENTS = 10


# --- pricing ----------------------------------------------------------------------------


def _price(document: BillingDocument, lines: Sequence[DocumentLine]) -> None:
    """Compute each line's amounts and the document totals, in minor units, in memory;
    refuse (LinesInvalid) lines beyond the posting bound, also when issuing or sending after
    a tax rate changed."""
    agency = document.agency
    currency = document.currency
    try:
        totals = document_totals(
            lines,
            currency=currency,
            rounding=agency.tax_rounding,
            tax_exempt=document.client.tax_exempt,
        )
    except CalculationError as error:
        # Lines saved before a rule existed, or a rate changed around the catalog's check.
        raise ValidationError(
            f"This {_kind(document)} cannot be priced: {pricing_problem(error)}. "
            "Change the taxes of that line."
        ) from error
    totals_check(totals, currency)
    for line, result in zip(lines, totals.lines, strict=True):
        line.net_minor = to_minor(result.net, currency)
        line.tax_minor = to_minor(result.tax_total, currency)
        line.total_minor = to_minor(result.total, currency)
        line.tax_snapshot = [
            {
                "name": t.tax.name,
                "percent": str(t.tax.percent),
                "is_compound": t.tax.is_compound,
                "is_inclusive": t.tax.is_inclusive,
                "amount": str(t.amount),
            }
            for t in result.taxes
        ]
    document.subtotal_minor = to_minor(totals.subtotal, currency)
    document.discount_minor = to_minor(totals.discount_total, currency)
    document.tax_total_minor = to_minor(totals.tax_total, currency)
    document.total_minor = to_minor(totals.total, currency)
    document.tax_breakdown = [
        {
            "name": row.tax.name,
            "percent": str(row.tax.percent),
            "is_inclusive": row.tax.is_inclusive,
            "base": str(row.base),
            "amount": str(row.amount),
        }
        for row in totals.tax_breakdown
    ]


def _line_model(document: BillingDocument) -> type[EstimateLine] | type[InvoiceLine]:
    return EstimateLine if isinstance(document, Estimate) else InvoiceLine


def _parent_field(document: BillingDocument) -> str:
    return "estimate" if isinstance(document, Estimate) else "invoice"


def _kind(document: BillingDocument) -> str:
    return "estimate" if isinstance(document, Estimate) else "invoice"


def _write_lines(document: BillingDocument, lines: list[LineData]) -> None:
    """Replace the lines of a locked draft and refresh its totals."""
    model = _line_model(document)
    parent = _parent_field(document)
    model.objects.filter(**{parent: document}).delete()
    built = [
        model(agency=document.agency, position=position, **{parent: document}, **data.fields())
        for position, data in enumerate(lines)
    ]
    _price(document, built)
    model.objects.bulk_create(built)  # type: ignore[arg-type]
    document.updated_at = clock.now()
    document.save()


def _lock(document: D) -> D:
    # Only the document's row: joined agency and client rows locked with it would make every
    # write of an agency wait for every other one.
    locked = (
        type(document)
        .objects.select_for_update(of=("self",))
        .select_related("agency", "client")
        .get(pk=document.pk)
    )
    return locked  # type: ignore[return-value]


def _require_draft(document: BillingDocument, status: str) -> None:
    if status != "draft":
        kind = _kind(document)
        raise ValidationError(
            f"This {kind} is {status} and can no longer be changed.", code="not_draft"
        )


# --- drafts -----------------------------------------------------------------------------


def _document_create(
    model: type[D],
    *,
    agency: Agency,
    actor: User | None,
    client: Client,
    deal: Deal | None,
    lines: list[LineData],
    **fields: Any,
) -> D:
    if client.agency_id != agency.pk:
        raise ValidationError({"client": "Choose a client of your agency."})
    if deal is not None and (deal.agency_id != agency.pk or deal.client_id != client.pk):
        raise ValidationError({"deal": "Choose a deal of this client."})
    dates_check(valid_until=fields.get("valid_until"))
    lines_validate(
        agency=agency, client=client, lines=lines, existing=deal.lines.all() if deal else []
    )
    document = model(
        agency=agency,
        client=client,
        deal=deal,
        currency=client.currency,
        created_by=actor,
        **fields,
    )
    document.full_clean(exclude=["number"])
    with transaction.atomic():
        document.save()
        _write_lines(document, lines)
        audit_record(
            agency=agency,
            actor=actor,
            verb=f"{_kind(document)}.created",
            subject=document,
            client_id=client.pk,
            data={"deal": deal.pk if deal else None, "lines": len(lines)},
        )
    return document


def estimate_create(
    *,
    agency: Agency,
    actor: User | None,
    client: Client,
    deal: Deal | None = None,
    lines: list[LineData] | None = None,
    notes: str = "",
    terms: str = "",
    valid_until: dt.date | None = None,
) -> Estimate:
    return _document_create(
        Estimate,
        agency=agency,
        actor=actor,
        client=client,
        deal=deal,
        lines=lines or [],
        notes=notes,
        terms=terms,
        valid_until=valid_until,
    )


def deal_lines_data(deal: Deal) -> list[LineData]:
    return [
        LineData.from_line(line) for line in deal.lines.select_related("service", "tax_1", "tax_2")
    ]


def estimate_create_from_deal(*, deal: Deal, actor: User | None) -> Estimate:
    """A draft estimate carrying the deal's service lines over."""
    return estimate_create(
        agency=deal.agency,
        actor=actor,
        client=deal.client,
        deal=deal,
        lines=deal_lines_data(deal),
    )


def invoice_create(
    *,
    agency: Agency,
    actor: User | None,
    client: Client,
    deal: Deal | None = None,
    lines: list[LineData] | None = None,
    notes: str = "",
    terms: str = "",
) -> Invoice:
    return _document_create(
        Invoice,
        agency=agency,
        actor=actor,
        client=client,
        deal=deal,
        lines=lines or [],
        notes=notes,
        terms=terms,
    )


def invoice_create_from_deal(*, deal: Deal, actor: User | None) -> Invoice:
    return invoice_create(
        agency=deal.agency,
        actor=actor,
        client=deal.client,
        deal=deal,
        lines=deal_lines_data(deal),
    )


def document_update(*, document: D, actor: User | None, **data: Any) -> D:
    """Change a draft's texts, deal or validity; issued documents never change."""
    editable = {*DRAFT_FIELDS, "valid_until"} if isinstance(document, Estimate) else {*DRAFT_FIELDS}
    unknown = set(data) - editable
    if unknown:
        raise ValidationError(f"These fields cannot be edited: {', '.join(sorted(unknown))}.")
    deal = data.get("deal")
    if deal is not None and (
        deal.agency_id != document.agency_id or deal.client_id != document.client_id
    ):
        raise ValidationError({"deal": "Choose a deal of this client."})
    dates_check(valid_until=data.get("valid_until"))
    with transaction.atomic():
        locked = _lock(document)
        _require_draft(locked, locked.status)
        before = {name: getattr(locked, name) for name in data}
        for name, value in data.items():
            setattr(locked, name, value)
        locked.full_clean(exclude=["number"])
        locked.updated_at = clock.now()
        locked.save()
        audit_record(
            agency=locked.agency,
            actor=actor,
            verb=f"{_kind(locked)}.updated",
            subject=locked,
            client_id=locked.client_id,
            data={
                "changes": {
                    n: {"from": before[n], "to": v} for n, v in data.items() if before[n] != v
                }
            },
        )
    return locked


def document_lines_replace(*, document: D, actor: User | None, lines: list[LineData]) -> D:
    """Replace all lines of a draft: every line valid, or nothing changes."""
    lines_validate(
        agency=document.agency, client=document.client, lines=lines, existing=document.lines.all()
    )
    with transaction.atomic():
        locked = _lock(document)
        _require_draft(locked, locked.status)
        _write_lines(locked, lines)
        audit_record(
            agency=locked.agency,
            actor=actor,
            verb=f"{_kind(locked)}.lines_saved",
            subject=locked,
            client_id=locked.client_id,
            data={"lines": len(lines)},
        )
    return locked


def document_delete(*, document: Estimate | Invoice, actor: User | None) -> None:
    """Only drafts may be deleted: issued documents are never deleted."""
    with transaction.atomic():
        locked = _lock(document)
        _require_draft(locked, locked.status)
        if isinstance(locked, Invoice) and locked.estimate_id is not None:
            raise ValidationError(
                "This invoice was converted from an approved estimate; edit it instead of "
                "deleting it."
            )
        audit_record(
            agency=locked.agency,
            actor=actor,
            verb=f"{_kind(locked)}.deleted",
            subject=locked,
            client_id=locked.client_id,
            data={"name": str(locked)},
        )
        locked.delete()


# --- snapshots --------------------------------------------------------------------------


def seller_snapshot(agency: Agency) -> dict[str, Any]:
    return {
        "name": agency.name,
        "address_lines": [line for line in agency.legal_address.splitlines() if line.strip()],
        "tax_id": agency.tax_id,
        "brand_color": agency.brand_color,
        "logo": agency.logo.name if agency.logo else "",
        "payment_instructions": agency.payment_instructions,
        "footer": agency.document_footer,
    }


def buyer_snapshot(client: Client) -> dict[str, Any]:
    billing = client.contacts.filter(is_billing_contact=True).first()
    return {
        "name": client.name,
        "address_lines": client.address_lines,
        "tax_id": client.tax_id,
        "email": client.billing_email,
        "contact_name": billing.name if billing else "",
    }


def _freeze(document: BillingDocument) -> None:
    """Snapshot seller, buyer and line taxes: later edits of either never reach the document."""
    document.seller_snapshot = seller_snapshot(document.agency)
    document.buyer_snapshot = buyer_snapshot(document.client)
    lines = list(
        _line_model(document)
        .objects.filter(**{_parent_field(document): document})
        .select_related("tax_1", "tax_2", "service")
    )
    if not lines:
        action = "issuing" if isinstance(document, Invoice) else "sending"
        raise ValidationError(f"Add at least one line before {action} this {_kind(document)}.")
    _price(document, lines)
    _line_model(document).objects.bulk_update(
        lines,  # type: ignore[arg-type]
        ["net_minor", "tax_minor", "total_minor", "tax_snapshot"],
    )


# --- portal links ----------------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def portal_link_token(link: PortalLink) -> str:
    """The link's 256-bit token, derived from its nonce with the server's secret key."""
    digest = hmac.new(
        settings.SECRET_KEY.encode(), f"portal-link:{link.nonce}".encode(), hashlib.sha256
    ).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def portal_link_create(*, document: BillingDocument, actor: User | None) -> tuple[PortalLink, str]:
    """A new link with a 256-bit token; only its nonce and the token's hash are stored."""
    link = PortalLink(
        agency_id=document.agency_id,
        nonce=secrets.token_hex(32),
        **{_parent_field(document): document},
    )
    token = portal_link_token(link)
    link.token_hash = _token_hash(token)
    link.save(force_insert=True)
    return link, token


def live_portal_links(links: QuerySet[PortalLink]) -> QuerySet[PortalLink]:
    """Links a client can open and staff can show again, newest first."""
    return links.filter(revoked_at=None).exclude(nonce="").order_by("-created_at", "-id")


def document_portal_url(document: BillingDocument) -> str | None:
    """The newest live client link of a document (prefetch `live_portal_links` for lists)."""
    links = getattr(document, "live_portal_links", None)
    if links is None:
        links = list(live_portal_links(document.portal_links.all())[:1])  # type: ignore[attr-defined]
    return portal_url(portal_link_token(links[0])) if links else None


def portal_link_revoke(*, document: BillingDocument, actor: User | None) -> int:
    """Revoke every live link of a document; the client then gets a plain 404."""
    with transaction.atomic():
        revoked = PortalLink.objects.filter(
            **{_parent_field(document): document}, revoked_at=None
        ).update(revoked_at=clock.now())
        audit_record(
            agency=document.agency,
            actor=actor,
            verb="portal_link.revoked",
            subject=document,
            client_id=document.client_id,
            data={"links": revoked},
        )
    return revoked


def portal_link_resolve(token: str) -> PortalLink | None:
    if not token or len(token) > 100:
        return None
    return (
        PortalLink.objects.select_related(
            "estimate__agency",
            "estimate__client",
            "invoice__agency__stripe_account",
            "invoice__client",
        )
        .filter(token_hash=_token_hash(token), revoked_at=None)
        # The portal badges a partly paid invoice by the lists' own rule, in the same query.
        .annotate(
            invoice_is_partially_paid=ExpressionWrapper(
                partially_paid_condition(through="invoice__"), output_field=BooleanField()
            )
        )
        .first()
    )


def portal_url(token: str) -> str:
    return settings.SITE_URL + reverse("portal:document", args=[token])


# --- sending ----------------------------------------------------------------------------


def _clean_recipients(recipients: list[str]) -> list[str]:
    cleaned: list[str] = []
    for address in recipients:
        address = address.strip().lower()
        if not address:
            continue
        try:
            validate_email(address)
        except ValidationError as exc:
            raise ValidationError(
                {"recipients": f"“{address}” is not a valid email address."}
            ) from exc
        if address not in cleaned:
            cleaned.append(address)
    if not cleaned:
        raise ValidationError({"recipients": "Choose at least one recipient."})
    if len(cleaned) > MAX_RECIPIENTS:
        raise ValidationError({"recipients": f"Send to at most {MAX_RECIPIENTS} people at once."})
    return cleaned


def _send(
    document: BillingDocument, *, actor: User | None, recipients: list[str], message: str
) -> None:
    """Queue the branded email with the PDF attached and a fresh portal link (same transaction)."""
    _, token = portal_link_create(document=document, actor=actor)
    kind = _kind(document)
    email_enqueue(
        agency=document.agency,
        to=recipients,
        subject=f"{document.agency.name}: {kind} {document.number}",
        template=f"{kind}_sent",
        context={
            "document": document,
            "link": portal_url(token),
            "message": message,
            "recurring": recurring_amounts(
                _line_model(document).objects.filter(**{_parent_field(document): document}),
                document.currency,
            ),
        },
        attach=document,
    )
    document.sent_at = clock.now()
    audit_record(
        agency=document.agency,
        actor=actor,
        verb=f"{kind}.sent",
        subject=document,
        client_id=document.client_id,
        data={"to": recipients},
    )


def estimate_send(
    *, estimate: Estimate, actor: User | None, recipients: list[str], message: str = ""
) -> Estimate:
    """Send (or resend) an estimate; the first send gives it its number and freezes it."""
    to = _clean_recipients(recipients)
    with transaction.atomic():
        locked = _lock(estimate)
        estimate_transition_check(locked.status, EstimateStatus.SENT)
        if locked.status == EstimateStatus.DRAFT:
            today = clock.agency_today(locked.agency)
            _freeze(locked)
            locked.number = number_take(
                agency=locked.agency, series=DocumentSeries.ESTIMATE, on=today
            )
            locked.issue_date = today
            locked.valid_until = locked.valid_until or today + dt.timedelta(
                days=locked.agency.estimate_validity_days
            )
            if locked.valid_until < today:
                raise ValidationError({"valid_until": "The validity date is in the past."})
            locked.status = EstimateStatus.SENT
        _send(locked, actor=actor, recipients=to, message=message)
        locked.updated_at = clock.now()
        locked.save()
    return locked


def invoice_issue(
    *,
    invoice: Invoice,
    actor: User | None,
    issue_date: dt.date | None = None,
    due_date: dt.date | None = None,
) -> Invoice:
    """Number, date, snapshot and freeze a draft, and post it to the client's ledger."""
    dates_check(issue_date=issue_date, due_date=due_date)
    with transaction.atomic():
        locked = _lock(invoice)
        invoice_transition_check(locked.status, InvoiceStatus.OPEN)
        issued_on = issue_date or clock.agency_today(locked.agency)
        terms = locked.client.effective_payment_terms_days
        due_on = due_date or issued_on + dt.timedelta(days=terms)
        if due_on < issued_on:
            raise ValidationError({"due_date": "The due date cannot be before the issue date."})
        _freeze(locked)
        if locked.total_minor < 0:
            raise ValidationError("An invoice total cannot be negative.")
        locked.number = number_take(
            agency=locked.agency, series=DocumentSeries.INVOICE, on=issued_on
        )
        locked.issue_date, locked.due_date = issued_on, due_on
        locked.status = InvoiceStatus.OPEN
        locked.issued_at = clock.now()
        locked.updated_at = locked.issued_at
        locked.save()
        ledger_append(
            client=locked.client,
            kind=LedgerEntryKind.INVOICE_ISSUED,
            document=locked,
            document_reference=locked.number,
            amount_minor=locked.total_minor,
            currency=locked.currency,
            occurred_at=locked.issued_at,
        )
        audit_record(
            agency=locked.agency,
            actor=actor,
            verb="invoice.issued",
            subject=locked,
            client_id=locked.client_id,
            data={"number": locked.number, "total_minor": locked.total_minor, "due_date": due_on},
        )
    return locked


def invoice_send(
    *, invoice: Invoice, actor: User | None, recipients: list[str], message: str = ""
) -> Invoice:
    to = _clean_recipients(recipients)
    with transaction.atomic():
        locked = _lock(invoice)
        if locked.status not in (InvoiceStatus.OPEN, InvoiceStatus.PAID):
            raise ValidationError(f"A {locked.status} invoice cannot be sent; issue it first.")
        _send(locked, actor=actor, recipients=to, message=message)
        locked.save(update_fields=["sent_at"])
    return locked


def invoice_void(*, invoice: Invoice, actor: User | None, reason: str) -> Invoice:
    """Void an issued invoice with nothing paid or credited; the ledger entry is reversed."""
    if not reason.strip():
        raise ValidationError({"reason": "Say why the invoice is voided."})
    with transaction.atomic():
        locked = _lock(invoice)
        invoice_transition_check(locked.status, InvoiceStatus.VOID)
        if locked.amount_paid_minor or locked.amount_credited_minor:
            raise ValidationError(
                "This invoice has payments or credits; correct it with a credit note instead."
            )
        locked.status = InvoiceStatus.VOID
        locked.voided_at = clock.now()
        locked.void_reason = reason.strip()
        locked.updated_at = locked.voided_at
        locked.save(update_fields=["status", "voided_at", "void_reason", "updated_at"])
        ledger_append(
            client=locked.client,
            kind=LedgerEntryKind.INVOICE_VOIDED,
            document=locked,
            document_reference=locked.number,
            amount_minor=-locked.total_minor,
            currency=locked.currency,
            occurred_at=locked.voided_at,
        )
        audit_record(
            agency=locked.agency,
            actor=actor,
            verb="invoice.voided",
            subject=locked,
            client_id=locked.client_id,
            data={"reason": locked.void_reason},
        )
    return locked


# --- the client's answer ------------------------------------------------------------------


def estimate_mark_viewed(*, estimate: Estimate) -> None:
    """The first portal view sets viewed_at (a conditional update: no lock needed)."""
    if Estimate.objects.filter(pk=estimate.pk, viewed_at=None).update(viewed_at=clock.now()):
        audit_record(
            agency=estimate.agency,
            actor=None,
            verb="estimate.viewed",
            subject=estimate,
            client_id=estimate.client_id,
        )


def _expired(estimate: Estimate) -> bool:
    return estimate.valid_until is not None and estimate.valid_until < clock.agency_today(
        estimate.agency
    )


def estimate_approve(*, estimate: Estimate, name: str, ip: str | None, user_agent: str) -> Estimate:
    """The client's one-click approval; converts at once when the agency asks for it."""
    with transaction.atomic():
        locked = _lock(estimate)
        if locked.status == EstimateStatus.SENT and _expired(locked):
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
            verb="estimate.approved",
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
        locked = _lock(estimate)
        estimate_transition_check(locked.status, EstimateStatus.DECLINED)
        locked.status = EstimateStatus.DECLINED
        locked.declined_at = clock.now()
        locked.decline_reason = reason.strip()[:2000]
        locked.updated_at = locked.declined_at
        locked.save()
        audit_record(
            agency=locked.agency,
            actor=None,
            verb="estimate.declined",
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
        locked = _lock(estimate)
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
        _write_lines(invoice, lines)
        locked.status = EstimateStatus.CONVERTED
        locked.converted_at = clock.now()
        locked.updated_at = locked.converted_at
        locked.save(update_fields=["status", "converted_at", "updated_at"])
        audit_record(
            agency=locked.agency,
            actor=actor,
            verb="estimate.converted",
            subject=locked,
            client_id=locked.client_id,
            data={"invoice": invoice.pk},
        )
        audit_record(
            agency=locked.agency,
            actor=actor,
            verb="invoice.created",
            subject=invoice,
            client_id=locked.client_id,
            data={"estimate": locked.pk, "lines": len(lines)},
        )
    return invoice


def estimates_expire_due(*, as_of: dt.datetime) -> dict[str, int]:
    """Sent estimates past their validity date (in their agency's timezone) expire."""
    expired = 0
    candidates = Estimate.objects.filter(
        status=EstimateStatus.SENT, valid_until__lt=as_of.date() + dt.timedelta(days=1)
    ).select_related("agency")
    for estimate in candidates.iterator(chunk_size=200):
        if estimate.valid_until >= clock.agency_today(estimate.agency, as_of=as_of):  # type: ignore[operator]
            continue
        with transaction.atomic():
            locked = _lock(estimate)
            if locked.status != EstimateStatus.SENT:
                continue
            locked.status = EstimateStatus.EXPIRED
            locked.updated_at = clock.now()
            locked.save(update_fields=["status", "updated_at"])
            audit_record(
                agency=locked.agency,
                actor=None,
                verb="estimate.expired",
                subject=locked,
                client_id=locked.client_id,
            )
            expired += 1
    return {"expired": expired} if expired else {}
