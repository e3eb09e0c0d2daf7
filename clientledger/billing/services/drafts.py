"""Creating, editing and deleting draft estimates and invoices."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any, TypedDict, Unpack

from django.core.exceptions import ValidationError
from django.db import transaction

from clientledger.accounts.models import Agency, User
from clientledger.billing.audit_verbs import DOCUMENT_VERBS
from clientledger.billing.models import BillingDocument, CreditNote, Estimate, Invoice
from clientledger.billing.selectors import deal_lines_data
from clientledger.billing.services.common import (
    D,
    document_kind,
    document_lock,
    draft_require,
    lines_priced,
    lines_write,
)
from clientledger.core import clock
from clientledger.core.audit import audit_record
from clientledger.core.cursors import cursor_shared
from clientledger.core.dates import dates_check
from clientledger.core.rows import row_insert, row_new, rows_insert_together
from clientledger.crm.models import Client, Deal
from clientledger.lines.data import LineData
from clientledger.lines.validation import lines_validate

DRAFT_FIELDS = ("notes", "terms", "deal")


def editable_fields(document: BillingDocument) -> set[str]:
    """What a draft's details form and PATCH may change: the texts and deal, an estimate's
    validity; a credit note's texts, reason and settlement (its deal is its invoice's)."""
    if isinstance(document, CreditNote):
        return {"notes", "terms", "reason", "settlement"}
    return {*DRAFT_FIELDS, "valid_until"} if isinstance(document, Estimate) else {*DRAFT_FIELDS}


class DraftFields(TypedDict, total=False):
    """What a new draft of any kind may be given besides its client."""

    deal: Deal | None
    lines: list[LineData]
    notes: str
    terms: str


class EstimateDraftFields(DraftFields, total=False):
    valid_until: dt.date | None


def document_create(
    model: type[D],
    *,
    agency: Agency,
    actor: User | None,
    client: Client,
    deal: Deal | None = None,
    lines: list[LineData] | None = None,
    **fields: Any,
) -> D:
    """A draft of the model's kind; `fields` are the kind's own (texts, validity)."""
    lines = lines or []
    if client.agency_id != agency.pk:
        raise ValidationError({"client": "Choose a client of your agency."})
    if deal is not None and (deal.agency_id != agency.pk or deal.client_id != client.pk):
        raise ValidationError({"deal": "Choose a deal of this client."})
    dates_check(valid_until=fields.get("valid_until"))
    totals = lines_validate(
        agency=agency, client=client, lines=lines, existing=deal.lines.all() if deal else []
    )
    document = row_new(
        model,
        agency=agency,
        client=client,
        deal=deal,
        currency=client.currency,
        created_by=actor,
        **fields,
    )
    # Only the fields given are validated (texts, validity): the others hold the model's
    # defaults and the client's currency, and the client and deal are checked above, the
    # agency and author are the caller's rows (validating their keys again would read each
    # row once more). The table's constraints (a unique number, a number once issued)
    # concern issued documents, never a new draft, and the database enforces them whatever
    # is checked here.
    document.full_clean(exclude=_not_given(model, fields), validate_constraints=False)
    priced = lines_priced(document, lines, totals=totals)
    with transaction.atomic(), cursor_shared():
        row_insert(document)
        rows_insert_together(priced)
        audit_record(
            agency=agency,
            actor=actor,
            verb=DOCUMENT_VERBS[document_kind(document)].created,
            subject=document,
            client_id=client.pk,
            data={"deal": deal.pk if deal else None, "lines": len(lines)},
        )
    return document


def _not_given(model: type[BillingDocument], given: Iterable[str]) -> list[str]:
    return [field.name for field in model._meta.fields if field.name not in given]


def document_create_from_deal(model: type[D], *, deal: Deal, actor: User | None) -> D:
    """A draft of the model's kind carrying the deal's service lines over."""
    return document_create(
        model,
        agency=deal.agency,
        actor=actor,
        client=deal.client,
        deal=deal,
        lines=deal_lines_data(deal),
    )


def estimate_create(
    *, agency: Agency, actor: User | None, client: Client, **fields: Unpack[EstimateDraftFields]
) -> Estimate:
    return document_create(Estimate, agency=agency, actor=actor, client=client, **fields)


def invoice_create(
    *, agency: Agency, actor: User | None, client: Client, **fields: Unpack[DraftFields]
) -> Invoice:
    """Due and issue dates are set when the invoice is issued."""
    return document_create(Invoice, agency=agency, actor=actor, client=client, **fields)


def estimate_create_from_deal(*, deal: Deal, actor: User | None) -> Estimate:
    return document_create_from_deal(Estimate, deal=deal, actor=actor)


def invoice_create_from_deal(*, deal: Deal, actor: User | None) -> Invoice:
    return document_create_from_deal(Invoice, deal=deal, actor=actor)


def document_update(*, document: D, actor: User | None, **data: Any) -> D:
    """Change a draft's texts, deal or validity; issued documents never change."""
    unknown = set(data) - editable_fields(document)
    if unknown:
        raise ValidationError(f"These fields cannot be edited: {', '.join(sorted(unknown))}.")
    deal = data.get("deal")
    if deal is not None and (
        deal.agency_id != document.agency_id or deal.client_id != document.client_id
    ):
        raise ValidationError({"deal": "Choose a deal of this client."})
    dates_check(valid_until=data.get("valid_until"))
    with transaction.atomic():
        locked = document_lock(document)
        draft_require(locked, locked.status)
        before = {name: getattr(locked, name) for name in data}
        for name, value in data.items():
            setattr(locked, name, value)
        locked.full_clean(exclude=["number"])
        locked.updated_at = clock.now()
        locked.save()
        audit_record(
            agency=locked.agency,
            actor=actor,
            verb=DOCUMENT_VERBS[document_kind(locked)].updated,
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
        locked = document_lock(document)
        draft_require(locked, locked.status)
        lines_write(locked, lines)
        audit_record(
            agency=locked.agency,
            actor=actor,
            verb=DOCUMENT_VERBS[document_kind(locked)].lines_saved,
            subject=locked,
            client_id=locked.client_id,
            data={"lines": len(lines)},
        )
    return locked


def document_delete(*, document: Estimate | Invoice | CreditNote, actor: User | None) -> None:
    """Only drafts may be deleted: issued documents are never deleted."""
    with transaction.atomic():
        locked = document_lock(document)
        draft_require(locked, locked.status)
        if isinstance(locked, Invoice) and locked.estimate_id is not None:
            raise ValidationError(
                "This invoice was converted from an approved estimate; edit it instead of "
                "deleting it."
            )
        audit_record(
            agency=locked.agency,
            actor=actor,
            verb=DOCUMENT_VERBS[document_kind(locked)].deleted,
            subject=locked,
            client_id=locked.client_id,
            data={"name": str(locked)},
        )
        locked.delete()
