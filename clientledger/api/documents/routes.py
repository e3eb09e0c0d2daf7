"""The endpoints every document kind has, generated per kind from its `ApiDocumentKind`: list,
create, get, update, delete, replace lines, send and PDF. Each generated endpoint carries the
kind's own path parameter and schemas in its signature, so the OpenAPI schema is typed per
kind, and the operation ids the hand-written endpoints had."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, cast

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpResponse
from ninja import Query

from clientledger.accounts.models import Agency
from clientledger.accounts.roles import Perm
from clientledger.api.access import agency_client, agency_deal, require
from clientledger.api.documents.inputs import DocumentFields, DocumentIn, SendIn
from clientledger.api.documents.kinds import ApiDocumentKind
from clientledger.api.documents.outputs import DocumentOut, LineRow, line_columns
from clientledger.api.inputs import RowId
from clientledger.api.lines import LinesIn, api_line_errors, lines_data
from clientledger.api.outputs import responses
from clientledger.api.pagination import Page, paginate
from clientledger.api.service_errors import api_field_names, state_conflicts
from clientledger.billing.documents.build import document_pdf, pdf_filename
from clientledger.billing.models import BillingDocument
from clientledger.billing.portal_tokens import with_live_portal_nonce
from clientledger.billing.selectors import (
    DOCUMENT_ORDERING,
    document_recipients,
    suggested_recipients,
)
from clientledger.billing.services import drafts
from clientledger.core.permissions import AgencyRequest
from clientledger.crm.models import Deal

DOCUMENT_FIELD_NAMES = {"client": "client_id", "deal": "deal_id"}
PDF_RESPONSE = {
    "responses": {
        200: {
            "description": "The PDF. Drafts are previews; sent and issued documents are "
            "rendered once and always return the same file.",
            "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
        }
    }
}
CREATE_DESCRIPTION = (
    "Send `client_id` with optional `deal_id`, texts and `lines`, or `from_deal_id` alone: "
    "the deal's client and service lines carry over (its internal notes do not). The result "
    "is a draft."
)
LINES_DESCRIPTION = "All lines are replaced at once: every line is valid, or nothing changes."


def operation_id(name: str) -> str:
    """The id an endpoint had when each kind's were written by hand; clients generated from
    the schema keep their method names."""
    return f"clientledger_api_documents_{name}"


@contextmanager
def service_errors() -> Iterator[None]:
    """Service errors under the API's field names; refused state changes as 409."""
    with api_field_names(DOCUMENT_FIELD_NAMES), api_line_errors(), state_conflicts():
        yield


def endpoint(
    api: ApiDocumentKind[Any], view: Callable[..., Any], *, with_id: bool = True, **typed: Any
) -> Callable[..., Any]:
    """`view(request, api, [document_id], **typed)` as an endpoint whose signature names the
    kind's path parameter (`estimate_id`) and the kind's schemas, which django-ninja reads."""

    def call(request: AgencyRequest, **values: Any) -> Any:
        if with_id:
            values["document_id"] = values.pop(api.id_name)
        return view(request, api, **values)

    parameters = [inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    names = {api.id_name: RowId} if with_id else {}
    parameters += [
        inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation)
        for name, annotation in (names | typed).items()
    ]
    call.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    call.__name__ = view.__name__
    call.__doc__ = view.__doc__
    return call


def document(api: ApiDocumentKind[Any], request: AgencyRequest, perm: str, pk: int) -> Any:
    return api.kind.get(agency=require(request, perm), pk=pk)


def document_out(api: ApiDocumentKind[Any], agency: Agency, pk: int) -> DocumentOut:
    """The document as the list shows it, read by the list's own query (raises
    DoesNotExist): also after a service changed it."""
    one = _rows(api, api.kind.rows(agency=agency, filters=api.unfiltered).filter(pk=pk))
    rendered = _rendered(api, list(one))
    if not rendered:
        raise api.kind.model.DoesNotExist
    return rendered[0]


def _rows(api: ApiDocumentKind[Any], documents: QuerySet[Any]) -> QuerySet[Any, dict[str, Any]]:
    """The documents as the API shows them: the kind's columns as plain rows, each with its
    newest live client link's nonce, read in the same query."""
    return with_live_portal_nonce(documents).values(*api.columns)


def _rendered(api: ApiDocumentKind[Any], rows: list[dict[str, Any]]) -> list[DocumentOut]:
    """`rows` of one kind rendered with their lines, which one query reads as plain rows."""
    if not rows:
        return []
    relation = api.kind.model._meta.get_field("lines")
    lines_model, owner = relation.related_model, relation.field.attname
    lines: dict[int, list[LineRow]] = {row["id"]: [] for row in rows}
    line_rows = lines_model._default_manager.filter(**{f"{owner}__in": list(lines)}).values_list(
        owner, *line_columns(lines_model)
    )
    for document_id, *line in line_rows:
        lines[document_id].append(LineRow(*line))
    return [api.render(row, lines[row["id"]]) for row in rows]


def _source_deal(agency: Agency, payload: DocumentIn) -> Deal | None:
    """The deal named by `from_deal_id`, which comes alone: the deal gives everything else."""
    data = payload.model_dump(exclude_unset=True)
    from_deal_id = data.pop("from_deal_id", None)
    if from_deal_id is None:
        return None
    if data:
        raise ValidationError(
            {name: "Leave this out when creating from a deal (from_deal_id)." for name in data}
        )
    return agency_deal(agency=agency, pk=from_deal_id, field="from_deal_id")


def _draft_fields(agency: Agency, payload: DocumentIn) -> dict[str, Any]:
    """A new draft's client, deal and lines as rows of the agency (or a 422), and its texts."""
    if payload.client_id is None:
        raise ValidationError({"client_id": "Choose a client, or send from_deal_id."})
    texts = payload.model_dump(
        exclude_unset=True, exclude={"client_id", "deal_id", "from_deal_id", "lines"}
    )
    deal_id = payload.deal_id
    return texts | {
        "client": agency_client(agency=agency, pk=payload.client_id),
        "deal": agency_deal(agency=agency, pk=deal_id) if deal_id is not None else None,
        "lines": lines_data(agency=agency, lines=payload.lines),
    }


def _patch_fields(agency: Agency, payload: DocumentFields) -> dict[str, Any]:
    data = payload.model_dump(exclude_unset=True)
    if "deal_id" in data:
        deal_id = data.pop("deal_id")
        data["deal"] = agency_deal(agency=agency, pk=deal_id) if deal_id is not None else None
    return data


def _recipients(document: BillingDocument, payload: SendIn) -> list[str]:
    """The addresses sent, else those the app suggests: billing contacts and billing email."""
    if payload.recipients is not None:
        return payload.recipients
    client = document.client
    suggested = suggested_recipients(document_recipients(client=client))
    if not suggested:
        raise ValidationError(
            {
                "recipients": f"{client.name} has no billing contact or billing email; name the "
                "recipients."
            }
        )
    return suggested


# --- the shared endpoints ---------------------------------------------------------------


def list_documents(request: AgencyRequest, api: ApiDocumentKind[Any], params: Any) -> Page[Any]:
    agency = require(request, Perm.VIEW)
    rows = api.kind.rows(agency=agency, filters=api.filters(params))
    return paginate(
        _rows(api, rows),
        ordering=DOCUMENT_ORDERING,
        params=params,
        item=api.out,
        render=lambda page: _rendered(api, page),
    )


def create_document(
    request: AgencyRequest, api: ApiDocumentKind[Any], payload: DocumentIn
) -> tuple[int, DocumentOut]:
    agency = require(request, api.kind.edit_perm)
    deal = _source_deal(agency, payload)
    model = api.kind.model
    with service_errors():
        if deal is not None:
            created = drafts.document_create_from_deal(model, deal=deal, actor=request.user)
        else:
            fields = _draft_fields(agency, payload)
            created = drafts.document_create(model, agency=agency, actor=request.user, **fields)
    return 201, document_out(api, agency, created.pk)


def get_document(request: AgencyRequest, api: ApiDocumentKind[Any], document_id: int) -> Any:
    return document_out(api, require(request, Perm.VIEW), document_id)


def update_document(
    request: AgencyRequest, api: ApiDocumentKind[Any], document_id: int, payload: DocumentFields
) -> DocumentOut:
    draft = document(api, request, api.kind.edit_perm, document_id)
    data = _patch_fields(draft.agency, payload)
    with service_errors():
        drafts.document_update(document=draft, actor=request.user, **data)
    return document_out(api, draft.agency, document_id)


def delete_document(
    request: AgencyRequest, api: ApiDocumentKind[Any], document_id: int
) -> tuple[int, None]:
    draft = document(api, request, api.kind.edit_perm, document_id)
    with service_errors():
        drafts.document_delete(document=draft, actor=request.user)
    return 204, None


def replace_lines(
    request: AgencyRequest, api: ApiDocumentKind[Any], document_id: int, payload: LinesIn
) -> DocumentOut:
    draft = document(api, request, api.kind.edit_perm, document_id)
    lines = lines_data(agency=draft.agency, lines=payload.lines)
    with service_errors():
        drafts.document_lines_replace(document=draft, actor=request.user, lines=lines)
    return document_out(api, draft.agency, document_id)


def send_document(
    request: AgencyRequest, api: ApiDocumentKind[Any], document_id: int, payload: SendIn
) -> DocumentOut:
    sent = document(api, request, api.kind.edit_perm, document_id)
    with service_errors():
        api.kind.send(
            sent,
            actor=request.user,
            recipients=_recipients(sent, payload),
            message=payload.message,
        )
    return document_out(api, sent.agency, document_id)


def pdf_document(request: AgencyRequest, api: ApiDocumentKind[Any], document_id: int) -> Any:
    printed = document(api, request, Perm.VIEW, document_id)
    response = HttpResponse(document_pdf(printed), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{pdf_filename(printed)}"'
    return response


def document_routes(api: ApiDocumentKind[Any]) -> None:
    """Register the shared endpoints on the kind's router, typed with the kind's schemas."""
    name, holder, out = api.kind.name, api.kind.holder, api.out
    # "credit note" in summaries, "credit_notes" in operation ids.
    label, plural = api.kind.label, api.kind.plural_label
    plurals = plural.replace(" ", "_")
    one = f"/{{{api.id_name}}}"
    page: Any = Page[out]  # type: ignore[valid-type]
    params = {"params": cast(Any, Query)[api.params]}
    # (method, path, view, its typed parameters, answer, summary, operation, more options)
    shared: list[tuple[str, str, Callable[..., Any], dict, dict[int, Any], str, str, dict]] = [
        ("GET", "", list_documents, params, {200: page}, f"List {plural}", f"list_{plurals}", {}),
        ("POST", "", create_document, {"payload": api.create_in}, {201: out}, f"Create {holder}",
         f"create_{name}", {"description": CREATE_DESCRIPTION}),
        ("GET", one, get_document, {}, {200: out}, f"Get {holder}", f"get_{name}", {}),
        ("PATCH", one, update_document, {"payload": api.patch_in}, {200: out},
         f"Update a draft {label}", f"update_{name}", {}),
        ("DELETE", one, delete_document, {}, {204: None}, f"Delete a draft {label}",
         f"delete_{name}", {}),
        ("PUT", f"{one}/lines", replace_lines, {"payload": LinesIn}, {200: out},
         f"Replace a draft {label}'s lines", f"replace_{name}_lines",
         {"description": LINES_DESCRIPTION}),
        ("POST", f"{one}/send", send_document, {"payload": SendIn}, {200: out},
         api.send_summary, f"send_{name}", {"description": api.send_description}),
        ("GET", f"{one}/pdf", pdf_document, {}, {200: None}, f"Download {holder} as PDF",
         f"{name}_pdf", {"url_name": f"{name}_pdf", "openapi_extra": PDF_RESPONSE}),
    ]  # fmt: skip
    for method, path, view, typed, answer, summary, operation, options in shared:
        if view.__name__ in api.own_endpoints:
            continue
        api.router.add_api_operation(
            path,
            [method],
            endpoint(api, view, with_id=path != "", **typed),
            response=responses(answer),
            summary=summary,
            operation_id=operation_id(operation),
            **options,
        )
