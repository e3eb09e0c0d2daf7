"""Emailing a client its statement of account through the outbox."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction

from clientledger.accounts.models import User
from clientledger.billing.services.sending import recipients_clean
from clientledger.core.audit import audit_record
from clientledger.core.dates import dates_check
from clientledger.core.error_codes import ErrorCode
from clientledger.crm.models import Client
from clientledger.notifications.services import email_enqueue
from clientledger.receivables.audit_verbs import StatementVerb
from clientledger.receivables.models import StatementDelivery


def statement_send(
    *,
    client: Client,
    actor: User | None,
    recipients: list[str],
    start: dt.date,
    end: dt.date,
    message: str = "",
) -> StatementDelivery:
    """Queue the statement for `start` to `end` with its PDF, to the client's addresses."""
    to = recipients_clean(recipients)
    dates_check(start=start, end=end)
    if start > end:
        raise ValidationError({"start": "The period starts after it ends."}, code=ErrorCode.INVALID)
    agency = client.agency
    with transaction.atomic():
        delivery = StatementDelivery.objects.create(
            agency=agency, client=client, start=start, end=end, recipients=to, sent_by=actor
        )
        email_enqueue(
            agency=agency,
            to=to,
            subject=f"{agency.name}: statement of account",
            template="statement",
            # The statement is computed at delivery, as its PDF is.
            context={"delivery": delivery, "message": message},
            attach=delivery,
        )
        audit_record(
            agency=agency,
            actor=actor,
            verb=StatementVerb.SENT,
            subject=client,
            client_id=client.pk,
            data={"to": to, "start": start, "end": end},
        )
    return delivery
