"""The document kinds, each declared once: what differs between estimates and invoices (and
the kinds to come). The shared pages (`billing.views.documents`), their URLs
(`billing.urls`) and the API's routers (`api.documents`) are all built from these
declarations; a kind's own rules live in its services (`services/estimates.py`,
`services/invoices.py`, its `*_send`) and its own actions in `views/<plural>.py`.

Services never import this module: they read a document's kind from its model
(`services.common.document_kind`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from django.db.models import QuerySet
from django.http import HttpResponse
from django.urls import reverse

from clientledger.accounts.models import Agency, User
from clientledger.accounts.roles import Perm
from clientledger.billing import selectors
from clientledger.billing.forms import CreditNoteFilterForm, EstimateFilterForm, InvoiceFilterForm
from clientledger.billing.models import (
    CreditNote,
    CreditNoteStatus,
    Estimate,
    EstimateStatus,
    Invoice,
)
from clientledger.billing.services import sending
from clientledger.billing.states import ESTIMATE_TRANSITIONS
from clientledger.billing.views import credit_notes as credit_note_views
from clientledger.billing.views import estimates as estimate_views
from clientledger.billing.views import invoices as invoice_views
from clientledger.core.permissions import AgencyRequest

D = TypeVar("D", Estimate, Invoice, CreditNote)


class DocumentSend(Protocol[D]):
    """The kind's sending rule: what the first send does (number, freeze) differs by kind."""

    def __call__(
        self, document: D, /, *, actor: User | None, recipients: list[str], message: str
    ) -> D: ...


class PageNames:
    """`pages["detail"]` is "billing:estimate_detail"."""

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def __getitem__(self, page: str) -> str:
        return f"billing:{self.kind}_{page}"


@dataclass(frozen=True)
class DocumentAction:
    """A page of one kind only, at `<plural>/<pk>/<segment>/`, named `<kind>_<name>`."""

    name: str
    segment: str
    view: Callable[[AgencyRequest, DocumentKind[Any], int], HttpResponse]
    methods: tuple[str, ...] = ("GET", "POST")
    # The kind's edit permission unless set.
    perm: Perm | None = None


@dataclass(frozen=True)
class DocumentKind(Generic[D]):
    """Everything the shared document machinery needs to know about one kind."""

    name: str  # "estimate": URL names `billing:estimate_<page>`, templates, messages
    plural: str  # "estimates": the URL prefix
    model: type[D]
    holder: str  # how the line editor names the document: "an estimate"
    edit_perm: Perm
    filter_form: type[EstimateFilterForm] | type[InvoiceFilterForm] | type[CreditNoteFilterForm]
    rows: Callable[..., QuerySet[D]]  # the list's selector: (agency=, filters=)
    get: Callable[..., D]  # one document with its lines: (agency=, pk=)
    overview: Callable[..., selectors.DocumentOverview]  # the document page: (agency=, pk=)
    send: DocumentSend[D]
    sendable: frozenset[str]  # the statuses whose send page opens
    actions: tuple[DocumentAction, ...] = ()
    # Shared pages the kind does without or replaces with an action of the same name (a
    # credit note is created from its invoice and edits lines tied to the invoice's).
    own_pages: frozenset[str] = frozenset()

    @property
    def creatable(self) -> bool:
        """Whether the list offers "New …" (the shared blank create page)."""
        return "create" not in self.own_pages

    @property
    def label(self) -> str:
        """How pages name the kind: "credit note"."""
        return self.name.replace("_", " ")

    @property
    def plural_label(self) -> str:
        return self.plural.replace("-", " ")

    def url(self, page: str, *args: Any) -> str:
        return reverse(self.pages[page], args=args)

    @property
    def pages(self) -> PageNames:
        """The URL names of the kind's pages, for templates: `{% url kind.pages.detail pk %}`."""
        return PageNames(self.name)

    @property
    def can_edit(self) -> str:
        """The key of the edit permission in templates' `can`."""
        return self.edit_perm.replace(".", "_")


def _estimate_send(
    document: Estimate, /, *, actor: User | None, recipients: list[str], message: str
) -> Estimate:
    return sending.estimate_send(
        estimate=document, actor=actor, recipients=recipients, message=message
    )


def _invoice_send(
    document: Invoice, /, *, actor: User | None, recipients: list[str], message: str
) -> Invoice:
    return sending.invoice_send(
        invoice=document, actor=actor, recipients=recipients, message=message
    )


def _invoice_rows(*, agency: Agency, filters: selectors.InvoiceFilters) -> QuerySet[Invoice]:
    return selectors.invoice_list(agency=agency, filters=filters)


ESTIMATE: DocumentKind[Estimate] = DocumentKind(
    name="estimate",
    plural="estimates",
    model=Estimate,
    holder="an estimate",
    edit_perm=Perm.ESTIMATE_EDIT,
    filter_form=EstimateFilterForm,
    rows=selectors.estimate_list,
    get=selectors.estimate_get,
    overview=selectors.estimate_overview,
    send=_estimate_send,
    # Sending is the draft's first transition and a sent estimate's reminder.
    sendable=frozenset(
        status for status, targets in ESTIMATE_TRANSITIONS.items() if EstimateStatus.SENT in targets
    ),
    actions=(
        DocumentAction("convert", "convert", estimate_views.estimate_convert, methods=("POST",)),
    ),
)

INVOICE: DocumentKind[Invoice] = DocumentKind(
    name="invoice",
    plural="invoices",
    model=Invoice,
    holder="an invoice",
    edit_perm=Perm.INVOICE_EDIT,
    filter_form=InvoiceFilterForm,
    rows=_invoice_rows,
    get=selectors.invoice_get,
    overview=selectors.invoice_overview,
    send=_invoice_send,
    sendable=sending.INVOICE_SENDABLE,
    actions=(
        DocumentAction("issue", "issue", invoice_views.invoice_issue),
        DocumentAction("void", "void", invoice_views.invoice_void),
        DocumentAction(
            "credit", "credit", credit_note_views.credit_note_create_from_invoice, methods=("POST",)
        ),
        DocumentAction(
            "pdf_current",
            "pdf/current",
            invoice_views.invoice_pdf_current,
            methods=("GET",),
            perm=Perm.VIEW,
        ),
    ),
)


def _credit_note_send(
    document: CreditNote, /, *, actor: User | None, recipients: list[str], message: str
) -> CreditNote:
    return sending.credit_note_send(
        credit_note=document, actor=actor, recipients=recipients, message=message
    )


CREDIT_NOTE: DocumentKind[CreditNote] = DocumentKind(
    name="credit_note",
    plural="credit-notes",
    model=CreditNote,
    holder="a credit note",
    edit_perm=Perm.INVOICE_EDIT,
    filter_form=CreditNoteFilterForm,
    rows=selectors.credit_note_list,
    get=selectors.credit_note_get,
    overview=selectors.credit_note_overview,
    send=_credit_note_send,
    sendable=frozenset({CreditNoteStatus.ISSUED}),
    actions=(
        DocumentAction("edit", "edit", credit_note_views.credit_note_edit),
        DocumentAction("lines", "lines", credit_note_views.credit_note_lines),
        DocumentAction("issue", "issue", credit_note_views.credit_note_issue, methods=("POST",)),
        DocumentAction("settle", "settle", credit_note_views.credit_note_settle),
        DocumentAction("apply", "apply", credit_note_views.credit_note_apply),
    ),
    own_pages=frozenset({"create", "create_from_deal", "edit", "lines", "lines_totals"}),
)

KINDS: tuple[DocumentKind[Any], ...] = (ESTIMATE, INVOICE, CREDIT_NOTE)
