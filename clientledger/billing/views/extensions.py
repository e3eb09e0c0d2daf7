"""What apps above billing add to its staff pages, registered from their AppConfig.ready():
billing never imports them. payments adds each invoice's payment state to the invoice list and
page, and renders the invoice PDF with the payments received."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from clientledger.accounts.models import Agency
from clientledger.billing.models import Invoice


@dataclass(frozen=True)
class PageExtension:
    """Extra template context for one kind's list page (from the page's documents) and
    document page (from the document), and the panels the document page includes in its side
    column (templates rendered with the page's context)."""

    list_context: Callable[[Agency, Sequence[Any]], dict[str, Any]]
    detail_context: Callable[[Any], dict[str, Any]]
    detail_panels: tuple[str, ...] = ()


_page_extensions: dict[str, list[PageExtension]] = {}
_invoice_current_pdf: list[Callable[[Invoice], bytes]] = []


def page_extension_register(kind: str, extension: PageExtension) -> None:
    _page_extensions.setdefault(kind, []).append(extension)


def list_extra_context(kind: str, agency: Agency, documents: Sequence[Any]) -> dict[str, Any]:
    context: dict[str, Any] = {}
    if documents:
        for extension in _page_extensions.get(kind, []):
            context |= extension.list_context(agency, documents)
    return context


def detail_extra_context(kind: str, document: Any) -> dict[str, Any]:
    """The extensions' context, with the templates of their panels as `extra_panels`."""
    context: dict[str, Any] = {"extra_panels": []}
    for extension in _page_extensions.get(kind, []):
        context |= extension.detail_context(document)
        context["extra_panels"] += extension.detail_panels
    return context


def invoice_current_pdf_register(render: Callable[[Invoice], bytes]) -> None:
    """The invoice as it stands (with its payments): the staff page's second PDF."""
    _invoice_current_pdf[:] = [render]


def invoice_current_pdf(invoice: Invoice) -> bytes:
    if not _invoice_current_pdf:
        raise ImproperlyConfigured("No app registered the invoice's current PDF.")
    return _invoice_current_pdf[0](invoice)
