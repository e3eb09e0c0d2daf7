"""Browsers ask for /favicon.ico on every site; pages name the icon too."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from django.test import Client as HttpClient
from django.urls import reverse
from PIL import Image

from clientledger.accounts.models import Membership


def test_favicon_ico_is_served_from_the_site_root(client: HttpClient) -> None:
    response = client.get("/favicon.ico")

    assert response.status_code == 200
    icon = Image.open(io.BytesIO(b"".join(response.streaming_content)))  # type: ignore[attr-defined]
    assert icon.format == "ICO"


ICON_LINK = '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">'


@pytest.mark.django_db
def test_staff_pages_link_the_icon(
    owner: Membership, login: Callable[[Membership], HttpClient]
) -> None:
    assert ICON_LINK in login(owner).get(reverse("home")).content.decode()
