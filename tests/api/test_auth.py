"""Bearer tokens, the JSON error for a missing one, and the public schema and docs."""

from __future__ import annotations

import pytest
from django.test import Client as HttpClient

from clientledger.accounts.models import Membership
from clientledger.accounts.services import api_token_create, api_token_revoke, membership_deactivate
from tests.api.conftest import API, ApiClient

pytestmark = pytest.mark.django_db


def assert_unauthorized(api: ApiClient) -> None:
    response = api.get("/clients")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert "Bearer" in response.json()["detail"]
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_request_without_a_token_is_unauthorized(owner: Membership) -> None:
    assert_unauthorized(ApiClient(None))


def test_a_wrong_token_is_unauthorized(owner: Membership) -> None:
    assert_unauthorized(ApiClient("cl_not-a-real-token"))


def test_a_token_without_the_prefix_is_unauthorized(owner: Membership) -> None:
    assert_unauthorized(ApiClient("something-else"))


def test_a_revoked_token_is_unauthorized(owner: Membership) -> None:
    token, key = api_token_create(user=owner.user, name="laptop")
    assert ApiClient(key).get("/clients").status_code == 200

    api_token_revoke(token=token, actor=owner.user)

    assert_unauthorized(ApiClient(key))


def test_the_token_of_a_deactivated_member_is_unauthorized(
    owner: Membership, sales: Membership
) -> None:
    _token, key = api_token_create(user=sales.user, name="script")
    membership_deactivate(membership=sales, actor=owner.user)

    assert_unauthorized(ApiClient(key))


def test_a_session_login_does_not_open_the_api(owner: Membership) -> None:
    http = HttpClient()
    http.force_login(owner.user)

    assert http.get(f"{API}/clients").status_code == 401


def test_the_openapi_schema_loads_without_a_token_and_lists_every_resource() -> None:
    response = HttpClient().get(f"{API}/openapi.json")

    assert response.status_code == 200
    schema = response.json()
    assert set(schema["paths"]) >= {
        f"{API}/clients",
        f"{API}/clients/{{client_id}}",
        f"{API}/clients/{{client_id}}/contacts",
        f"{API}/clients/{{client_id}}/contacts/{{contact_id}}",
        f"{API}/deals",
        f"{API}/deals/{{deal_id}}",
        f"{API}/deals/{{deal_id}}/lines",
        f"{API}/deals/{{deal_id}}/move",
        f"{API}/services",
        f"{API}/services/{{service_id}}",
        f"{API}/services/{{service_id}}/archive",
        f"{API}/services/{{service_id}}/restore",
        f"{API}/tax-rates",
        f"{API}/tax-rates/{{tax_rate_id}}",
        f"{API}/tax-rates/{{tax_rate_id}}/archive",
        f"{API}/tax-rates/{{tax_rate_id}}/restore",
    }
    assert schema["components"]["securitySchemes"]["BearerToken"]["scheme"] == "bearer"


def test_the_schema_documents_money_as_decimal_strings() -> None:
    schemas = HttpClient().get(f"{API}/openapi.json").json()["components"]["schemas"]

    # A deal whose lines cannot be priced has no total (issue 8, item 1): a string or null.
    total = schemas["DealOut"]["properties"]["total"]
    assert {option["type"] for option in total["anyOf"]} == {"string", "null"}
    price = schemas["LineIn"]["properties"]["unit_price"]
    assert {option["type"] for option in price["anyOf"]} == {"string", "integer"}


def test_the_interactive_docs_open_without_a_token() -> None:
    response = HttpClient().get(f"{API}/docs")

    assert response.status_code == 200
    assert b"openapi.json" in response.content
