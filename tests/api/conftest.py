"""An API client per persona: a Django test client sending that member's bearer token."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client as HttpClient

from clientledger.accounts.models import Membership
from clientledger.accounts.services import api_token_create
from tests.http import ClientResponse

API = "/api/v1"


class ApiClient:
    """JSON requests to /api/v1 with `Authorization: Bearer <key>` (or no header). Each answer
    is the test client's response, typed with its `json()`."""

    def __init__(self, key: str | None) -> None:
        self.http = HttpClient()
        self.headers = {"Authorization": f"Bearer {key}"} if key else {}

    def request(self, method: str, path: str, body: Any = None, **query: Any) -> ClientResponse:
        if method == "get":
            return self.http.get(API + path, query, headers=self.headers)
        send = {
            "post": self.http.post,
            "patch": self.http.patch,
            "put": self.http.put,
            "delete": self.http.delete,
        }[method]
        data = json.dumps(body) if body is not None else None
        return send(API + path, data, content_type="application/json", headers=self.headers)

    def get(self, path: str, **query: Any) -> ClientResponse:
        return self.request("get", path, **query)

    def post(self, path: str, body: Any = None) -> ClientResponse:
        return self.request("post", path, body)

    def patch(self, path: str, body: Any) -> ClientResponse:
        return self.request("patch", path, body)

    def put(self, path: str, body: Any) -> ClientResponse:
        return self.request("put", path, body)

    def delete(self, path: str) -> ClientResponse:
        return self.request("delete", path)


@pytest.fixture
def api_as() -> Callable[[Membership], ApiClient]:
    def make(membership: Membership) -> ApiClient:
        _token, key = api_token_create(user=membership.user, name="tests")
        return ApiClient(key)

    return make


@pytest.fixture
def owner_api(owner: Membership, api_as: Callable[[Membership], ApiClient]) -> ApiClient:
    return api_as(owner)


def errors(response: ClientResponse) -> dict[str, str]:
    """A 422 body as {field: message}."""
    assert response.status_code == 422, response.content
    return {error["field"]: error["message"] for error in response.json()["detail"]}
