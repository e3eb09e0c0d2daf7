from django.apps import AppConfig


class LinesConfig(AppConfig):
    name = "clientledger.lines"
    label = "lines"
