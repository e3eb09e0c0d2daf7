from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "clientledger.catalog"
    label = "catalog"
