"""Reads of estimates, invoices and credit notes: `lists` (each kind's filters and rows, one
page of a list), `documents` (one document, its overview, recipients and links), `records` (a
client's or a deal's documents), `credits` (what is still creditable on an invoice, what is
left of credit notes' credit), `pdfs` (issued documents still without their PDF, for the
rendering sweep, which reads across agencies). Every other read takes the agency; overdue is
derived from the agency-local date. The names other apps read are exported here."""

from clientledger.billing.selectors.common import DOCUMENT_ORDERING, DocumentKindName
from clientledger.billing.selectors.documents import (
    DocumentOverview,
    Recipient,
    converted_invoice_of,
    credit_note_get,
    credit_note_overview,
    deal_lines_data,
    document_recipients,
    document_timeline,
    estimate_get,
    estimate_overview,
    invoice_get,
    invoice_overview,
    portal_link_resolve,
    suggested_recipients,
)
from clientledger.billing.selectors.lists import (
    DocumentFilters,
    DocumentListPage,
    InvoiceFilters,
    InvoiceListStatus,
    credit_note_list,
    document_list_page,
    estimate_list,
    invoice_list,
)
from clientledger.billing.selectors.records import (
    DocumentRow,
    RecordDocuments,
    client_documents,
    deal_documents,
)

__all__ = [
    "DOCUMENT_ORDERING",
    "DocumentFilters",
    "DocumentKindName",
    "DocumentListPage",
    "DocumentOverview",
    "DocumentRow",
    "InvoiceFilters",
    "InvoiceListStatus",
    "Recipient",
    "RecordDocuments",
    "client_documents",
    "converted_invoice_of",
    "credit_note_get",
    "credit_note_list",
    "credit_note_overview",
    "deal_documents",
    "deal_lines_data",
    "document_list_page",
    "document_recipients",
    "document_timeline",
    "estimate_get",
    "estimate_list",
    "estimate_overview",
    "invoice_get",
    "invoice_list",
    "invoice_overview",
    "portal_link_resolve",
    "suggested_recipients",
]
