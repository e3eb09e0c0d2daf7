from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "clientledger.billing"
    label = "billing"

    def ready(self) -> None:
        from clientledger.billing.documents.build import document_pdf, pdf_filename
        from clientledger.billing.models import Estimate, Invoice
        from clientledger.notifications.services import attachment_renderer_register

        def render(document: Estimate | Invoice) -> tuple[str, bytes]:
            return pdf_filename(document), document_pdf(document)

        attachment_renderer_register(Estimate, render)
        attachment_renderer_register(Invoice, render)
