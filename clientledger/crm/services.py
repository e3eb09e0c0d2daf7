from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from clientledger.accounts.models import Agency, User
from clientledger.billing.calculations import CalculationError, line_validate
from clientledger.billing.models import LedgerEntry
from clientledger.billing.pricing import line_input
from clientledger.catalog.models import Service, TaxRate
from clientledger.core import clock
from clientledger.core.audit import audit_record
from clientledger.core.services import record_create, record_delete, record_update
from clientledger.crm.models import Client, Contact, Deal, DealLine, DealStage


def client_create(*, agency: Agency, actor: User | None, **data: Any) -> Client:
    data.setdefault("currency", agency.default_currency)
    return record_create(instance=Client(agency=agency, **data), actor=actor, verb="client.created")


def client_update(*, client: Client, actor: User | None, **data: Any) -> Client:
    if "currency" in data and data["currency"] != client.currency and _client_has_prices(client):
        raise ValidationError(
            {
                "currency": "The currency cannot change once the client has priced deals or "
                "financial records."
            }
        )
    record_update(instance=client, actor=actor, verb="client.updated", data=data)
    return client


def _client_has_prices(client: Client) -> bool:
    """Deal lines and ledger entries are amounts in the client's currency."""
    return (
        DealLine.objects.filter(deal__client=client).exists()
        or LedgerEntry.objects.filter(client=client).exists()
    )


def client_delete(*, client: Client, actor: User | None) -> None:
    with transaction.atomic():
        # Locked so a deal created meanwhile waits, instead of failing the delete.
        locked = Client.objects.select_for_update().get(pk=client.pk)
        if locked.deals.exists() or LedgerEntry.objects.filter(client=locked).exists():
            raise ValidationError(
                "This client has deals or financial records and cannot be deleted."
            )
        record_delete(instance=locked, actor=actor, verb="client.deleted")


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
            verb="contact.created",
        )
        _unset_other_billing_contacts(contact)
    return contact


def contact_update(*, contact: Contact, actor: User | None, **data: Any) -> Contact:
    with transaction.atomic():
        record_update(instance=contact, actor=actor, verb="contact.updated", data=data)
        _unset_other_billing_contacts(contact)
    return contact


def contact_delete(*, contact: Contact, actor: User | None) -> None:
    record_delete(instance=contact, actor=actor, verb="contact.deleted")


def _check_deal_refs(agency: Agency, data: dict[str, Any]) -> None:
    client = data.get("client")
    if client is not None and client.agency_id != agency.pk:
        raise ValidationError({"client": "Choose a client of your agency."})
    owner = data.get("owner")
    if owner is not None and getattr(getattr(owner, "membership", None), "agency_id", None) != (
        agency.pk
    ):
        raise ValidationError({"owner": "Choose a member of your agency."})


def deal_create(*, agency: Agency, actor: User | None, **data: Any) -> Deal:
    _check_deal_refs(agency, data)
    return record_create(instance=Deal(agency=agency, **data), actor=actor, verb="deal.created")


def deal_update(*, deal: Deal, actor: User | None, **data: Any) -> Deal:
    _check_deal_refs(deal.agency, data)
    new_client = data.get("client")
    if (
        new_client is not None
        and new_client.currency != deal.client.currency
        and deal.lines.exists()
    ):
        raise ValidationError(
            {"client": "The new client bills in another currency; remove the lines first."}
        )
    record_update(instance=deal, actor=actor, verb="deal.updated", data=data)
    return deal


def deal_move(*, deal: Deal, actor: User | None, stage: str) -> Deal:
    """Move a deal to another pipeline stage (the board's drag and drop)."""
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
            verb="deal.stage_changed",
            subject=locked,
            client_id=locked.client_id,
            data={"from": previous, "to": stage},
        )
    return locked


def deal_delete(*, deal: Deal, actor: User | None) -> None:
    record_delete(instance=deal, actor=actor, verb="deal.deleted")


@dataclass
class DealLineData:
    description: str
    quantity: Decimal
    unit_price: Decimal
    unit: str = "hour"
    service: Service | None = None
    discount_kind: str = ""
    discount_value: Decimal = Decimal(0)
    taxes: list[TaxRate] = field(default_factory=list)
    recurrence: str = "one_off"


def _line_errors(
    agency: Agency, data: DealLineData, in_use: set[tuple[str, int]]
) -> dict[str, str]:
    """Field errors of one line; archived services and taxes may stay where already `in_use`."""
    errors: dict[str, str] = {}
    if data.service is not None:
        if data.service.agency_id != agency.pk:
            errors["service"] = "Choose a service of your agency."
        elif not data.service.is_active and ("service", data.service.pk) not in in_use:
            errors["service"] = f"“{data.service.name}” is archived and cannot be added."
    for tax in data.taxes:
        if tax.agency_id != agency.pk:
            errors["taxes"] = "Choose tax rates of your agency."
        elif not tax.is_active and ("tax", tax.pk) not in in_use:
            errors["taxes"] = f"The tax rate “{tax.name}” is archived."
    if not data.description.strip():
        errors["description"] = "Enter a description."
    line = DealLine(
        agency=agency,
        description=data.description.strip(),
        quantity=data.quantity,
        unit=data.unit,
        unit_price=data.unit_price,
        discount_kind=data.discount_kind,
        discount_value=data.discount_value,
        recurrence=data.recurrence,
    )
    try:
        line.full_clean(exclude=["deal", "agency", "service", "tax_1", "tax_2", "position"])
    except ValidationError as exc:
        for name, messages in exc.message_dict.items():
            errors.setdefault(name, " ".join(messages))
    if not errors:
        try:
            line_validate(line_input(data))
        except CalculationError as exc:
            name, _, message = str(exc).partition(": ")
            errors.setdefault(name if message else "__all__", message or str(exc))
    return errors


class DealLinesInvalid(ValidationError):
    """Per-line errors: `line_errors[i]` maps field names to messages for line i."""

    def __init__(self, line_errors: list[dict[str, str]]) -> None:
        self.line_errors = line_errors
        flat = {
            f"lines[{index}].{name}": message
            for index, errors in enumerate(line_errors)
            for name, message in errors.items()
        }
        super().__init__(flat)


def deal_lines_replace(*, deal: Deal, actor: User | None, lines: list[DealLineData]) -> Deal:
    """Replace all of a deal's lines at once: every line valid, or nothing saved."""
    agency = deal.agency
    in_use: set[tuple[str, int]] = set()
    for service_id, tax_1_id, tax_2_id in deal.lines.values_list(
        "service_id", "tax_1_id", "tax_2_id"
    ):
        in_use.update({("service", service_id), ("tax", tax_1_id), ("tax", tax_2_id)})
    line_errors = [_line_errors(agency, data, in_use) for data in lines]
    if any(line_errors):
        raise DealLinesInvalid(line_errors)
    with transaction.atomic():
        locked = Deal.objects.select_for_update().get(pk=deal.pk)
        locked.lines.all().delete()
        DealLine.objects.bulk_create(
            DealLine(
                agency=agency,
                deal=locked,
                position=position,
                service=data.service,
                description=data.description.strip(),
                quantity=data.quantity,
                unit=data.unit,
                unit_price=data.unit_price,
                discount_kind=data.discount_kind,
                discount_value=data.discount_value if data.discount_kind else Decimal(0),
                tax_1=data.taxes[0] if data.taxes else None,
                tax_2=data.taxes[1] if len(data.taxes) > 1 else None,
                recurrence=data.recurrence,
            )
            for position, data in enumerate(lines)
        )
        locked.updated_at = clock.now()
        locked.save(update_fields=["updated_at"])
        audit_record(
            agency=agency,
            actor=actor,
            verb="deal.lines_saved",
            subject=locked,
            client_id=locked.client_id,
            data={"lines": len(lines)},
        )
    return locked
