"""Writers for clients, contacts, deals and their lines."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from clientledger.accounts.models import Agency, User
from clientledger.core import clock
from clientledger.core.audit import audit_record
from clientledger.core.dates import dates_check
from clientledger.core.services import record_create, record_delete, record_update
from clientledger.crm.audit_verbs import ClientVerb, ContactVerb, DealVerb
from clientledger.crm.deal_values import (
    VALUE_FIELDS,
    deals_reprice,
    deals_reprice_for_client,
    tax_rates_lock,
)
from clientledger.crm.finance import client_has_financial_records
from clientledger.crm.models import Client, Contact, Deal, DealLine, DealStage
from clientledger.lines.data import LineData
from clientledger.lines.validation import lines_validate


def client_create(*, agency: Agency, actor: User | None, **data: Any) -> Client:
    data.setdefault("currency", agency.default_currency)
    return record_create(
        instance=Client(agency=agency, **data), actor=actor, verb=ClientVerb.CREATED
    )


def client_update(*, client: Client, actor: User | None, **data: Any) -> Client:
    if "currency" in data and data["currency"] != client.currency and _client_has_prices(client):
        raise ValidationError(
            {
                "currency": "The currency cannot change once the client has priced deals or "
                "financial records."
            }
        )
    with transaction.atomic():
        changes = record_update(instance=client, actor=actor, verb=ClientVerb.UPDATED, data=data)
        if "tax_exempt" in changes:
            deals_reprice_for_client(client=client)
    return client


def _client_has_prices(client: Client) -> bool:
    """Deal lines and financial records are amounts in the client's currency."""
    if DealLine.objects.filter(deal__client=client).exists():
        return True
    return client_has_financial_records(client)


def client_delete(*, client: Client, actor: User | None) -> None:
    with transaction.atomic():
        # Locked so a deal created meanwhile waits, instead of failing the delete.
        locked = Client.objects.select_for_update().get(pk=client.pk)
        if locked.deals.exists() or client_has_financial_records(locked):
            raise ValidationError(
                "This client has deals or financial records and cannot be deleted."
            )
        record_delete(instance=locked, actor=actor, verb=ClientVerb.DELETED)


def _unset_other_billing_contacts(contact: Contact) -> None:
    if contact.is_billing_contact:
        Contact.objects.filter(client_id=contact.client_id, is_billing_contact=True).exclude(
            pk=contact.pk
        ).update(is_billing_contact=False)


def contact_create(*, client: Client, actor: User | None, **data: Any) -> Contact:
    with transaction.atomic():
        contact = record_create(
            instance=Contact(agency=client.agency, client=client, **data),
            actor=actor,
            verb=ContactVerb.CREATED,
        )
        _unset_other_billing_contacts(contact)
    return contact


def contact_update(*, contact: Contact, actor: User | None, **data: Any) -> Contact:
    with transaction.atomic():
        record_update(instance=contact, actor=actor, verb=ContactVerb.UPDATED, data=data)
        _unset_other_billing_contacts(contact)
    return contact


def contact_delete(*, contact: Contact, actor: User | None) -> None:
    record_delete(instance=contact, actor=actor, verb=ContactVerb.DELETED)


def _check_deal_data(agency: Agency, data: dict[str, Any]) -> None:
    """The deal's client and owner belong to the agency; its close date is a sane date."""
    dates_check(expected_close_date=data.get("expected_close_date"))
    client = data.get("client")
    if client is not None and client.agency_id != agency.pk:
        raise ValidationError({"client": "Choose a client of your agency."})
    owner = data.get("owner")
    if owner is not None and getattr(getattr(owner, "membership", None), "agency_id", None) != (
        agency.pk
    ):
        raise ValidationError({"owner": "Choose a member of your agency."})


def deal_create(*, agency: Agency, actor: User | None, **data: Any) -> Deal:
    _check_deal_data(agency, data)
    return record_create(instance=Deal(agency=agency, **data), actor=actor, verb=DealVerb.CREATED)


def deal_update(*, deal: Deal, actor: User | None, **data: Any) -> Deal:
    _check_deal_data(deal.agency, data)
    new_client = data.get("client")
    if (
        new_client is not None
        and new_client.currency != deal.client.currency
        and deal.lines.exists()
    ):
        raise ValidationError(
            {"client": "The new client bills in another currency; remove the lines first."}
        )
    with transaction.atomic():
        changes = record_update(instance=deal, actor=actor, verb=DealVerb.UPDATED, data=data)
        if "client" in changes:
            # The new client may be tax exempt where the old one was not.
            deals_reprice(Deal.objects.filter(pk=deal.pk))
            deal.refresh_from_db(fields=VALUE_FIELDS)
    return deal


def deal_move(*, deal: Deal, actor: User | None, stage: str, approved_estimate: str = "") -> Deal:
    """Move a deal to another pipeline stage (the board's drag and drop, or the client's
    approval of estimate number `approved_estimate`, which the history then names)."""
    if stage not in DealStage.values:
        raise ValidationError({"stage": f"“{stage}” is not a pipeline stage."})
    with transaction.atomic():
        locked = Deal.objects.select_for_update().get(pk=deal.pk)
        if locked.stage == stage:
            return locked
        previous = locked.stage
        locked.stage = stage
        locked.updated_at = clock.now()
        locked.save(update_fields=["stage", "updated_at"])
        audit_record(
            agency=locked.agency,
            actor=actor,
            verb=DealVerb.STAGE_CHANGED,
            subject=locked,
            client_id=locked.client_id,
            data={"from": previous, "to": stage}
            | ({"estimate": approved_estimate} if approved_estimate else {}),
        )
    return locked


def deal_delete(*, deal: Deal, actor: User | None) -> None:
    record_delete(instance=deal, actor=actor, verb=DealVerb.DELETED)


def deal_lines_replace(*, deal: Deal, actor: User | None, lines: list[LineData]) -> Deal:
    """Replace all of a deal's lines at once: every line valid, or nothing saved."""
    agency = deal.agency
    lines_validate(agency=agency, client=deal.client, lines=lines, existing=deal.lines.all())
    with transaction.atomic():
        tax_rates_lock(tax.pk for line in lines for tax in line.taxes)
        locked = Deal.objects.select_for_update().get(pk=deal.pk)
        locked.lines.all().delete()
        DealLine.objects.bulk_create(
            DealLine(agency=agency, deal=locked, position=position, **data.fields())
            for position, data in enumerate(lines)
        )
        locked.updated_at = clock.now()
        locked.save(update_fields=["updated_at"])
        # Priced from the saved lines and the rates as locked above, in this transaction.
        deals_reprice(Deal.objects.filter(pk=locked.pk))
        locked.refresh_from_db(fields=VALUE_FIELDS)
        audit_record(
            agency=agency,
            actor=actor,
            verb=DealVerb.LINES_SAVED,
            subject=locked,
            client_id=locked.client_id,
            data={"lines": len(lines)},
        )
    return locked
