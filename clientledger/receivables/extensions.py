"""What receivables adds to billing's invoice page, registered from ReceivablesConfig.ready():
billing never imports this app. The panel loads the dunning timeline by URL."""

from __future__ import annotations

from clientledger.billing.views.extensions import PageExtension, page_extension_register


def register_page_extensions() -> None:
    page_extension_register(
        "invoice",
        PageExtension(
            list_context=lambda agency, invoices: {},
            detail_context=lambda invoice: {},
            detail_panels=("receivables/_invoice_reminders_panel.html",),
        ),
    )
