"""The staff pages of every document kind, built from its declaration in `billing.kinds`:
the shared pages at the same paths for each kind, then the kind's own actions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpResponse
from django.urls import URLPattern, path
from django.views.decorators.http import require_http_methods

from clientledger.accounts.roles import Perm
from clientledger.billing.kinds import KINDS, DocumentKind
from clientledger.billing.views import documents
from clientledger.core.permissions import AgencyRequest, require_perm

GET, POST, FORM = ("GET",), ("POST",), ("GET", "POST")
EDIT = None  # the kind's edit permission

# (path under `<plural>/`, page name, view, methods, permission)
SHARED_PAGES: list[tuple[str, str, Callable[..., HttpResponse], tuple[str, ...], Perm | None]] = [
    ("", "list", documents.document_list, GET, Perm.VIEW),
    ("new/", "create", documents.document_create, FORM, EDIT),
    ("<int:pk>/", "detail", documents.document_detail, GET, Perm.VIEW),
    ("<int:pk>/edit/", "edit", documents.document_edit, FORM, EDIT),
    ("<int:pk>/lines/", "lines", documents.document_lines, FORM, EDIT),
    ("<int:pk>/lines/totals/", "lines_totals", documents.document_lines_totals, POST, EDIT),
    ("<int:pk>/delete/", "delete", documents.document_delete, FORM, EDIT),
    ("<int:pk>/send/", "send", documents.document_send, FORM, EDIT),
    ("<int:pk>/links/revoke/", "links_revoke", documents.document_links_revoke, POST, EDIT),
    ("<int:pk>/pdf/", "pdf", documents.document_pdf_download, GET, Perm.VIEW),
]


def _page(
    kind: DocumentKind[Any],
    name: str,
    view: Callable[..., HttpResponse],
    methods: tuple[str, ...],
    perm: Perm | None,
) -> Callable[..., HttpResponse]:
    """The view of one kind's page: methods and permission checked, then the shared view."""

    def page(request: AgencyRequest, **kwargs: Any) -> HttpResponse:
        return view(request, kind, **kwargs)

    page.__name__ = page.__qualname__ = f"{kind.name}_{name}"
    page.__doc__ = view.__doc__
    guarded = require_perm(perm or kind.edit_perm)(page)
    return require_http_methods(list(methods))(guarded)


def document_urlpatterns(kind: DocumentKind[Any]) -> list[URLPattern]:
    def route(route: str, name: str, *page: Any) -> URLPattern:
        return path(route, _page(kind, name, *page), name=f"{kind.name}_{name}")

    patterns = [
        route(f"{kind.plural}/{suffix}", name, view, methods, perm)
        for suffix, name, view, methods, perm in SHARED_PAGES
        if name not in kind.own_pages
    ]
    if "create_from_deal" not in kind.own_pages:
        patterns.append(
            route(
                f"deals/<int:deal_pk>/{kind.name}/",
                "create_from_deal",
                documents.document_create_from_deal,
                POST,
                EDIT,
            )
        )
    patterns += [
        route(
            f"{kind.plural}/<int:pk>/{action.segment}/",
            action.name,
            action.view,
            action.methods,
            action.perm,
        )
        for action in kind.actions
    ]
    return patterns


app_name = "billing"
urlpatterns = [pattern for kind in KINDS for pattern in document_urlpatterns(kind)]
