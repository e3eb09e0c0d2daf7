from django.apps import AppConfig


class ReceivablesConfig(AppConfig):
    name = "clientledger.receivables"
    label = "receivables"

    def ready(self) -> None:
        # billing's and crm's pages show the reminders without importing this app: it
        # registers what they add (the invoice's dunning timeline, the client's reminder state).
        from clientledger.receivables.extensions import register_page_extensions

        register_page_extensions()
