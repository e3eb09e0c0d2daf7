from django.apps import AppConfig


class RecurringConfig(AppConfig):
    name = "clientledger.recurring"
    label = "recurring"

    def ready(self) -> None:
        # crm sits below recurring and never imports it: recurring adds its card to the
        # client and deal pages through the hook crm declares.
        from clientledger.crm.finance import client_records_check_register, record_panel_register
        from clientledger.recurring.models import RecurringSchedule
        from clientledger.recurring.panels import SchedulesPanel

        record_panel_register(SchedulesPanel())
        # A schedule's lines are prices in the client's currency: the client keeps it.
        client_records_check_register(
            "recurring", lambda client: RecurringSchedule.objects.filter(client=client).exists()
        )
