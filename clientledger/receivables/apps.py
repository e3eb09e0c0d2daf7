"""The receivables app: reminders, statements and the hooks it registers."""

from typing import Any

from django.apps import AppConfig


class ReceivablesConfig(AppConfig):
    name = "clientledger.receivables"
    label = "receivables"

    def ready(self) -> None:
        # billing's invoice page shows the reminders without importing this app: it registers
        # the panel. The outbox renders an emailed statement, its email and its PDF, for its
        # period as it stands at delivery, through the hooks notifications declares.
        from clientledger.core import clock
        from clientledger.notifications.services import (
            attachment_renderer_register,
            email_context_register,
        )
        from clientledger.receivables.extensions import register_page_extensions
        from clientledger.receivables.models import StatementDelivery
        from clientledger.receivables.statements import (
            Statement,
            client_statement,
            statement_filename,
            statement_pdf,
        )

        def delivered(delivery: StatementDelivery) -> Statement:
            return client_statement(
                agency=delivery.agency,
                client=delivery.client,
                start=delivery.start,
                end=delivery.end,
                today=clock.agency_today(delivery.agency),
            )

        def render(delivery: StatementDelivery) -> tuple[str, bytes]:
            statement = delivered(delivery)
            return statement_filename(statement), statement_pdf(statement)

        def email_context(context: dict[str, Any]) -> dict[str, Any]:
            delivery = context["delivery"]
            return {**context, "client": delivery.client, "statement": delivered(delivery)}

        register_page_extensions()
        attachment_renderer_register(StatementDelivery, render)
        email_context_register("statement", email_context)
