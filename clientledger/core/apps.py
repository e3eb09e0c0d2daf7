from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class CoreConfig(AppConfig):
    name = "clientledger.core"
    label = "core"

    def ready(self) -> None:
        # Every app's verb enums register themselves when defined; the trail reads any stored
        # verb back through them, whichever app's code a process has imported so far.
        autodiscover_modules("audit_verbs")
