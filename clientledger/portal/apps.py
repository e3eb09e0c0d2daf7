from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "clientledger.portal"
    label = "portal"
