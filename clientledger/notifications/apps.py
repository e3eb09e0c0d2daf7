from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "clientledger.notifications"
    label = "notifications"
