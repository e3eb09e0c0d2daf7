"""Estimates, invoices and credit notes: drafts are edited freely; sent estimates and issued
invoices and credit notes are frozen, and the API answers 409 to any change the document's
state refuses.

`kinds` declares each kind's router and schemas, `routes` generates the endpoints every kind
shares, `estimates`, `invoices` and `credit_notes` add each kind's own; `inputs` and
`outputs` are the schemas."""

from clientledger.api.documents import credit_notes, estimates, invoices
from clientledger.api.documents.kinds import API_KINDS, CREDIT_NOTE_API, ESTIMATE_API, INVOICE_API
from clientledger.api.documents.outputs import ClientRef, DocumentRef
from clientledger.api.documents.routes import document_routes

for api_kind in API_KINDS:
    document_routes(api_kind)

estimates_router = ESTIMATE_API.router
invoices_router = INVOICE_API.router
credit_notes_router = CREDIT_NOTE_API.router

__all__ = [
    "ClientRef",
    "DocumentRef",
    "credit_notes",
    "credit_notes_router",
    "estimates",
    "estimates_router",
    "invoices",
    "invoices_router",
]
