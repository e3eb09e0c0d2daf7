from django.apps import AppConfig


class RecurringConfig(AppConfig):
    name = "clientledger.recurring"
    label = "recurring"
