"""Write helpers shared by every app's services: validate the whole row, save, audit."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction

from clientledger.core import clock
from clientledger.core.audit import audit_record, model_changes, snapshot
from clientledger.core.audit_verbs import AuditVerb

if TYPE_CHECKING:
    from clientledger.accounts.models import Agency, User

M = TypeVar("M", bound=models.Model)


def _agency_of(instance: models.Model) -> Agency:
    # Agency rows name their agency; the agency row itself answers with `audit_agency`.
    agency: Agency = getattr(instance, "audit_agency", None) or instance.agency  # type: ignore[attr-defined]
    return agency


def _client_id_of(instance: models.Model) -> int | None:
    # A client's records join its timeline; the client row answers with `audit_client_id`.
    client_id: int | None = getattr(
        instance, "audit_client_id", getattr(instance, "client_id", None)
    )
    return client_id


def _audit(
    instance: models.Model,
    *,
    actor: User | None,
    verb: AuditVerb,
    data: dict[str, Any] | None = None,
) -> None:
    audit_record(
        agency=_agency_of(instance),
        actor=actor,
        verb=verb,
        subject=instance,
        client_id=_client_id_of(instance),
        data=data,
    )


def record_create(*, instance: M, actor: User | None, verb: AuditVerb) -> M:
    """Validate and insert one agency row and append its audit event, atomically."""
    instance.full_clean()
    try:
        with transaction.atomic():
            instance.save(force_insert=True)
            _audit(instance, actor=actor, verb=verb)
    except IntegrityError as exc:
        # A concurrent insert won the race that full_clean() could not see.
        raise ValidationError("This record already exists or conflicts with another one.") from exc
    return instance


def record_update(
    *, instance: M, actor: User | None, verb: AuditVerb, data: dict[str, Any]
) -> dict[str, Any]:
    """Apply `data`, validate, save only if something changed, and audit the differences."""
    before = snapshot(instance, list(data))
    for name, value in data.items():
        setattr(instance, name, value)
    changes = model_changes(instance, before)
    if not changes:
        return changes
    if hasattr(instance, "updated_at"):
        instance.updated_at = clock.now()
    instance.full_clean()
    with transaction.atomic():
        instance.save()
        _audit(instance, actor=actor, verb=verb, data={"changes": changes})
    return changes


def record_delete(*, instance: models.Model, actor: User | None, verb: AuditVerb) -> None:
    with transaction.atomic():
        _audit(instance, actor=actor, verb=verb, data={"name": str(instance)})
        instance.delete()
