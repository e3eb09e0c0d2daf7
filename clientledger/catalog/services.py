"""Writers for services and tax rates, and the hook that vets a tax rate's change."""

from __future__ import annotations

from typing import Any, Protocol

from django.core.exceptions import ValidationError
from django.db import transaction

from clientledger.accounts.models import Agency, User
from clientledger.catalog.audit_verbs import ServiceVerb, TaxRateVerb
from clientledger.catalog.models import Service, TaxRate
from clientledger.core import clock
from clientledger.core.services import record_create, record_update

SERVICE_FIELDS = (
    "name",
    "description",
    "unit_type",
    "default_unit_price",
    "currency",
    "default_tax_1",
    "default_tax_2",
)
TAX_RATE_FIELDS = ("name", "percent", "is_compound", "is_inclusive")
# What a line's price reads of its tax rate: a change of any re-prices what stores prices.
TAX_RATE_PRICE_FIELDS = ("percent", "is_compound", "is_inclusive")


class TaxRateChangeCheck(Protocol):
    def __call__(self, *, tax_rate: TaxRate, is_compound: bool, is_inclusive: bool) -> None:
        """Raise ValidationError if `tax_rate` cannot become compound or inclusive as given."""
        ...


# Whether a tax rate may change how it applies depends on the lines priced from it, which
# live in the apps above catalog: they register their check here (billing checks deals and
# documents together, so that one refusal names them all).
_TAX_RATE_CHANGE_CHECKS: list[TaxRateChangeCheck] = []


def tax_rate_change_check_register(check: TaxRateChangeCheck) -> None:
    if check not in _TAX_RATE_CHANGE_CHECKS:
        _TAX_RATE_CHANGE_CHECKS.append(check)


class TaxRateRepricing(Protocol):
    def __call__(self, *, tax_rate: TaxRate) -> None:
        """Store again the prices of what is priced from `tax_rate`, which has just changed."""
        ...


# Prices stored above catalog (each deal's value) are re-priced in the transaction that
# changes a rate: crm registers its hook here.
_TAX_RATE_REPRICINGS: list[TaxRateRepricing] = []


def tax_rate_repricing_register(repricing: TaxRateRepricing) -> None:
    if repricing not in _TAX_RATE_REPRICINGS:
        _TAX_RATE_REPRICINGS.append(repricing)


def service_default_taxes_check(agency: Agency, data: dict[str, Any]) -> None:
    """Default taxes must be the agency's and live: they are what new lines are given."""
    first, second = data.get("default_tax_1"), data.get("default_tax_2")
    errors: dict[str, str] = {}
    for field, tax in (("default_tax_1", first), ("default_tax_2", second)):
        if tax is not None and tax.agency_id != agency.pk:
            errors[field] = "Choose a tax rate of your agency."
        elif tax is not None and not tax.is_active:
            errors[field] = f"The tax rate “{tax.name}” is archived."
    if first is None and second is not None:
        errors["default_tax_2"] = "Set the first tax before a second one."
    if first is not None and second is not None:
        if first.pk == second.pk:
            errors["default_tax_2"] = "The second tax must differ from the first."
        elif first.is_compound:
            errors["default_tax_1"] = "A compound tax can only be the second tax."
        elif first.is_inclusive != second.is_inclusive:
            errors["default_tax_2"] = "Inclusive and exclusive taxes cannot be mixed."
    elif first is not None and first.is_compound:
        errors["default_tax_1"] = "A compound tax can only be the second tax."
    if errors:
        raise ValidationError(errors)


def _check_unique_name(
    model: type[Service] | type[TaxRate], agency: Agency, name: str, exclude_pk: int | None
) -> None:
    clash = model.objects.filter(agency=agency, name__iexact=name.strip())
    if exclude_pk is not None:
        clash = clash.exclude(pk=exclude_pk)
    if clash.exists():
        raise ValidationError({"name": f"“{name}” already exists in your catalog."})


def service_create(*, agency: Agency, actor: User | None, **data: Any) -> Service:
    data.setdefault("currency", agency.default_currency)
    service_default_taxes_check(agency, data)
    _check_unique_name(Service, agency, data.get("name", ""), None)
    return record_create(
        instance=Service(agency=agency, **data), actor=actor, verb=ServiceVerb.CREATED
    )


def service_update(*, service: Service, actor: User | None, **data: Any) -> Service:
    merged = {f: getattr(service, f) for f in ("default_tax_1", "default_tax_2")} | data
    service_default_taxes_check(service.agency, merged)
    if "name" in data:
        _check_unique_name(Service, service.agency, data["name"], service.pk)
    record_update(instance=service, actor=actor, verb=ServiceVerb.UPDATED, data=data)
    return service


def service_set_archived(*, service: Service, actor: User | None, archived: bool) -> Service:
    """Archived services stay on old records but cannot be added to new ones."""
    record_update(
        instance=service,
        actor=actor,
        verb=ServiceVerb.ARCHIVED if archived else ServiceVerb.RESTORED,
        data={"archived_at": clock.now() if archived else None},
    )
    return service


def tax_rate_create(*, agency: Agency, actor: User | None, **data: Any) -> TaxRate:
    _check_unique_name(TaxRate, agency, data.get("name", ""), None)
    return record_create(
        instance=TaxRate(agency=agency, **data), actor=actor, verb=TaxRateVerb.CREATED
    )


def tax_rate_update(*, tax_rate: TaxRate, actor: User | None, **data: Any) -> TaxRate:
    if "name" in data:
        _check_unique_name(TaxRate, tax_rate.agency, data["name"], tax_rate.pk)
    is_compound = data.get("is_compound", tax_rate.is_compound)
    is_inclusive = data.get("is_inclusive", tax_rate.is_inclusive)
    if (is_compound, is_inclusive) != (tax_rate.is_compound, tax_rate.is_inclusive):
        for check in _TAX_RATE_CHANGE_CHECKS:
            check(tax_rate=tax_rate, is_compound=is_compound, is_inclusive=is_inclusive)
    with transaction.atomic():
        changes = record_update(instance=tax_rate, actor=actor, verb=TaxRateVerb.UPDATED, data=data)
        if any(name in changes for name in TAX_RATE_PRICE_FIELDS):
            for repricing in _TAX_RATE_REPRICINGS:
                repricing(tax_rate=tax_rate)
    return tax_rate


def tax_rate_set_archived(*, tax_rate: TaxRate, actor: User | None, archived: bool) -> TaxRate:
    record_update(
        instance=tax_rate,
        actor=actor,
        verb=TaxRateVerb.ARCHIVED if archived else TaxRateVerb.RESTORED,
        data={"archived_at": clock.now() if archived else None},
    )
    return tax_rate
