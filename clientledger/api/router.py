"""API v1: bearer-token auth, JSON errors, one router module per resource."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import (
    BadRequest,
    ObjectDoesNotExist,
    PermissionDenied,
    SuspiciousOperation,
    ValidationError,
)
from django.core.signals import got_request_exception
from django.db.models import ProtectedError, RestrictedError
from django.http import Http404, HttpRequest, HttpResponse
from django.http.multipartparser import MultiPartParserError
from django.utils.log import log_response
from ninja import NinjaAPI
from ninja.errors import AuthenticationError
from ninja.errors import ValidationError as RequestValidationError
from ninja.security import HttpBearer

from clientledger.accounts.models import ApiToken, Membership
from clientledger.accounts.services import api_token_authenticate
from clientledger.api import (
    catalog,
    clients,
    credit,
    deals,
    documents,
    invoice_payments,
    payments,
    reminders,
    reports,
    schedules,
    statements,
)
from clientledger.api.middleware import ErrorDetail
from clientledger.api.outputs import AnswerRenderer


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        api_token = api_token_authenticate(token)
        if api_token is None:
            return None
        # A token outlives neither its holder's seat nor a move to another agency.
        membership: Membership | None = getattr(api_token.user, "membership", None)
        if membership is None or membership.agency_id != api_token.agency_id:
            return None
        request.user = api_token.user
        request.membership = membership  # type: ignore[attr-defined]
        request.agency = membership.agency  # type: ignore[attr-defined]
        return api_token


api = NinjaAPI(
    title="ClientLedger API",
    version="1",
    description=(
        "Clients, contacts, deals, services, tax rates, estimates, invoices, credit notes, "
        "payments, client credit, reminders, recurring schedules (retainers) and the "
        "dashboard's reports of your agency.\n\n"
        "Authenticate with `Authorization: Bearer cl_...` (create a personal token in the "
        "app). Amounts, prices, quantities and percentages are decimal strings such as "
        '`"1250.00"`, never JSON numbers with a fraction. Every other value keeps its JSON '
        "type and is never converted: ids and counts are integers, flags are booleans, dates "
        'are `"YYYY-MM-DD"` strings. Lists are pages of `items` with '
        "`next_cursor`/`previous_cursor`, passed back as `?after=` or `?before=`. Errors are "
        '`{"detail": "..."}`, or for invalid input (422) '
        '`{"detail": [{"field": "lines[2].quantity", "message": "..."}]}`; every error, '
        "including an unexpected one (500), is JSON."
    ),
    auth=BearerToken(),
    renderer=AnswerRenderer(),
    urls_namespace="api",
)
api.add_router("/clients", clients.router)
api.add_router("/deals", deals.router)
api.add_router("/services", catalog.services_router)
api.add_router("/tax-rates", catalog.tax_rates_router)
api.add_router("/estimates", documents.estimates_router)
api.add_router("/invoices", documents.invoices_router)
api.add_router("/credit-notes", documents.credit_notes_router)
api.add_router("/invoices", invoice_payments.invoice_payments_router)
api.add_router("/payments", payments.payments_router)
api.add_router("/reminder-policies", reminders.policies_router)
api.add_router("/invoices", reminders.invoice_reminders_router)
api.add_router("/clients", statements.statements_router)
api.add_router("/clients", credit.credit_router)
api.add_router("/schedules", schedules.router)
api.add_router("/billing-runs", schedules.billing_runs_router)
api.add_router("/reports", reports.reports_router)


def _errors(detail: list[tuple[str, str]]) -> dict[str, Any]:
    return {"detail": [{"field": field, "message": message} for field, message in detail]}


def _location(loc: tuple[str | int, ...]) -> str:
    """`("body", "payload", "lines", 2, "quantity")` -> `"lines[2].quantity"`."""
    # Every handler names its body parameter "payload"; it is not part of the client's input.
    parts = loc[2:] if loc[:1] == ("body",) else loc[1:]
    field = ""
    for part in parts:
        if isinstance(part, int):
            field += f"[{part}]"
        else:
            field += f".{part}" if field else part
    return field or "__all__"


@api.exception_handler(RequestValidationError)
def on_invalid_request(request: HttpRequest, exc: RequestValidationError) -> HttpResponse:
    detail = []
    for error in exc.errors:
        field = _location(tuple(error["loc"]))
        message = ErrorDetail.NOT_AN_OBJECT if field == "__all__" else error["msg"]
        detail.append((field, message))
    return api.create_response(request, _errors(detail), status=422)


@api.exception_handler(ValidationError)
def on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    if hasattr(exc, "error_dict"):
        detail = [(field, " ".join(messages)) for field, messages in exc.message_dict.items()]
    else:
        detail = [("__all__", " ".join(exc.messages))]
    return api.create_response(request, _errors(detail), status=422)


@api.exception_handler(ObjectDoesNotExist)
@api.exception_handler(Http404)
def on_not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
    return api.create_response(request, {"detail": ErrorDetail.NOT_FOUND}, status=404)


@api.exception_handler(PermissionDenied)
def on_forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return api.create_response(request, {"detail": str(exc) or ErrorDetail.FORBIDDEN}, status=403)


@api.exception_handler(ProtectedError)
@api.exception_handler(RestrictedError)
def on_still_referenced(request: HttpRequest, exc: Exception) -> HttpResponse:
    return api.create_response(
        request,
        {"detail": ErrorDetail.STILL_REFERENCED},
        status=409,
    )


@api.exception_handler(AuthenticationError)
def on_unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = api.create_response(
        request,
        {"detail": ErrorDetail.UNAUTHENTICATED},
        status=401,
    )
    response["WWW-Authenticate"] = 'Bearer realm="api"'
    return response


# What Django itself would answer 400 or 500 for, answered (and logged) the way Django does,
# but as JSON and never with a traceback, whatever DEBUG says.


@api.exception_handler(SuspiciousOperation)
@api.exception_handler(BadRequest)
@api.exception_handler(MultiPartParserError)
def on_bad_request(request: HttpRequest, exc: Exception) -> HttpResponse:
    response = api.create_response(request, {"detail": ErrorDetail.BAD_REQUEST}, status=400)
    if isinstance(exc, SuspiciousOperation):
        # A too large body, too many fields: Django's security log is where these go.
        logger = logging.getLogger(f"django.security.{type(exc).__name__}")
        log_response(str(exc), request=request, response=response, exception=exc, logger=logger)
    else:
        log_response("Bad request: %s", request.path, request=request, response=response)
    return response


@api.exception_handler(Exception)
def on_unexpected_error(request: HttpRequest, exc: Exception) -> HttpResponse:
    got_request_exception.send(sender=None, request=request)
    response = api.create_response(request, {"detail": ErrorDetail.SERVER_ERROR}, status=500)
    log_response(
        "Internal Server Error: %s", request.path, request=request, response=response, exception=exc
    )
    return response
