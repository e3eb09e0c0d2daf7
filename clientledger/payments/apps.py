from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "clientledger.payments"
    label = "payments"
