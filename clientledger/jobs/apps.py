from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "clientledger.jobs"
    label = "jobs"
