from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "clientledger.accounts"
    label = "accounts"
