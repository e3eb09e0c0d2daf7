from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "clientledger.core"
    label = "core"
