from django.apps import AppConfig


class ReceivablesConfig(AppConfig):
    name = "clientledger.receivables"
    label = "receivables"

    def ready(self) -> None:
        # billing's invoice page shows the reminders without importing this app: it registers
        # the panel. The outbox renders an emailed statement's PDF through the hook
        # notifications declares.
        from clientledger.core import clock
        from clientledger.notifications.services import attachment_renderer_register
        from clientledger.receivables.extensions import register_page_extensions
        from clientledger.receivables.models import StatementDelivery
        from clientledger.receivables.statements import (
            client_statement,
            statement_filename,
            statement_pdf,
        )

        def render(delivery: StatementDelivery) -> tuple[str, bytes]:
            statement = client_statement(
                agency=delivery.agency,
                client=delivery.client,
                start=delivery.start,
                end=delivery.end,
                today=clock.agency_today(delivery.agency),
            )
            return statement_filename(statement), statement_pdf(statement)

        register_page_extensions()
        attachment_renderer_register(StatementDelivery, render)
