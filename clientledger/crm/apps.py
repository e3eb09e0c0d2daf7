from django.apps import AppConfig


class CrmConfig(AppConfig):
    name = "clientledger.crm"
    label = "crm"
