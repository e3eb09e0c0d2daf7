from django.apps import AppConfig


class ReportingConfig(AppConfig):
    name = "clientledger.reporting"
    label = "reporting"
