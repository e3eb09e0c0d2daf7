from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "clientledger.billing"
    label = "billing"

    def ready(self) -> None:
        # The apps below billing ask it through hooks they declare, never by importing it.
        from clientledger.accounts.services import agency_setting_follower_register
        from clientledger.billing.client_finance import BillingClientFinance
        from clientledger.billing.documents.build import document_pdf, pdf_filename
        from clientledger.billing.models import CreditNote, Estimate, Invoice
        from clientledger.billing.services.rollups import agency_rollups_rebuild
        from clientledger.billing.tax_rate_changes import tax_rate_change_check
        from clientledger.catalog.services import tax_rate_change_check_register
        from clientledger.crm.finance import client_finance_register
        from clientledger.notifications.services import attachment_renderer_register

        def render(document: Estimate | Invoice | CreditNote) -> tuple[str, bytes]:
            return pdf_filename(document), document_pdf(document)

        attachment_renderer_register(Estimate, render)
        attachment_renderer_register(Invoice, render)
        attachment_renderer_register(CreditNote, render)
        client_finance_register(BillingClientFinance())
        tax_rate_change_check_register(tax_rate_change_check)
        agency_setting_follower_register("timezone", agency_rollups_rebuild)
