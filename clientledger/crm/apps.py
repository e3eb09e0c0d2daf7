from django.apps import AppConfig


class CrmConfig(AppConfig):
    name = "clientledger.crm"
    label = "crm"

    def ready(self) -> None:
        # Each deal's stored value follows the rates and rounding it was priced with; the
        # apps below crm call these hooks in the transaction that changes them.
        from clientledger.accounts.services import agency_setting_follower_register
        from clientledger.catalog.services import tax_rate_repricing_register
        from clientledger.crm.deal_values import (
            deals_reprice_for_agency,
            deals_reprice_for_tax_rate,
        )

        tax_rate_repricing_register(deals_reprice_for_tax_rate)
        agency_setting_follower_register("tax_rounding", deals_reprice_for_agency)
