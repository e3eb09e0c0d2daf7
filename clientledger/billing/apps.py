from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "clientledger.billing"
    label = "billing"
