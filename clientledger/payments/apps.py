from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "clientledger.payments"
    label = "payments"

    def ready(self) -> None:
        # Billing sits below payments and never imports it: payments adds what the invoice
        # pages show of it (payment states, the PDF with the payments received) and the
        # credit note pages' refunds.
        from clientledger.billing.views.extensions import (
            PageExtension,
            invoice_current_pdf_register,
            page_extension_register,
        )
        from clientledger.payments.documents import invoice_pdf_with_payments
        from clientledger.payments.selectors import (
            credit_note_refunds,
            invoice_payment_state,
            invoice_payment_states,
        )

        page_extension_register(
            "invoice",
            PageExtension(
                list_context=lambda agency, invoices: {
                    "payment_states": invoice_payment_states(
                        agency=agency, invoice_ids=[invoice.pk for invoice in invoices]
                    )
                },
                detail_context=lambda invoice: {
                    "payment_state": invoice_payment_state(invoice=invoice)
                },
                detail_panels=("payments/_invoice_payments_panel.html",),
            ),
        )
        page_extension_register(
            "credit_note",
            PageExtension(
                list_context=lambda agency, credit_notes: {},
                detail_context=lambda credit_note: {
                    "credit_note_refunds": credit_note_refunds(credit_note=credit_note)
                },
                detail_panels=("payments/_credit_note_refunds_panel.html",),
            ),
        )
        invoice_current_pdf_register(invoice_pdf_with_payments)
