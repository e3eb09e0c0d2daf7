from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "clientledger.demo"
    label = "demo"
