"""API v1: bearer-token auth, JSON errors, one router module per resource."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError
from ninja.security import HttpBearer

from clientledger.accounts.services import api_token_authenticate


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        api_token = api_token_authenticate(token)
        if api_token is None:
            return None
        request.user = api_token.user
        request.membership = api_token.user.membership  # type: ignore[attr-defined]
        request.agency = request.membership.agency  # type: ignore[attr-defined]
        return api_token


api = NinjaAPI(
    title="ClientLedger API",
    version="1",
    description="Clients, contacts, deals, services and tax rates. Money is a decimal string.",
    auth=BearerToken(),
    urls_namespace="api",
)


def _validation_payload(exc: ValidationError) -> dict[str, Any]:
    if hasattr(exc, "error_dict"):
        return {
            "detail": [
                {"field": name, "message": " ".join(messages)}
                for name, messages in exc.message_dict.items()
            ]
        }
    return {"detail": [{"field": "__all__", "message": " ".join(exc.messages)}]}


@api.exception_handler(ValidationError)
def on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return api.create_response(request, _validation_payload(exc), status=422)


@api.exception_handler(ObjectDoesNotExist)
def on_not_found(request: HttpRequest, exc: ObjectDoesNotExist) -> HttpResponse:
    return api.create_response(request, {"detail": "Not found."}, status=404)


@api.exception_handler(PermissionDenied)
def on_forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return api.create_response(request, {"detail": str(exc) or "Forbidden."}, status=403)


@api.exception_handler(AuthenticationError)
def on_unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return api.create_response(
        request, {"detail": "Send a valid API token as 'Authorization: Bearer <token>'."},
        status=401,
    )
