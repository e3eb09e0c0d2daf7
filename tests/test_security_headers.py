"""Every response carries a strict Content-Security-Policy, and what a signed-in member sees is
kept by no cache. The templates give the policy nothing to block: no inline script, handler
or style attribute, and <style> blocks only with the response's nonce."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import settings
from django.http import HttpResponseBase
from django.test import Client as HttpClient
from django.urls import reverse

from clientledger.accounts.models import Membership
from clientledger.accounts.services import api_token_create
from clientledger.billing.models import Invoice
from clientledger.billing.services.portal_links import portal_link_create
from tests.factories import ClientFactory
from tests.payments.conftest import issue_invoice

TEMPLATES = sorted(
    path
    for path in (Path(settings.BASE_DIR) / "clientledger").rglob("*.html")
    # Email clients drop <style> blocks and external CSS: emails are styled inline.
    if "email" not in path.parts
)
NONCED_STYLE = '<style nonce="{{ request.csp_nonce }}">'


def policy(response: HttpResponseBase) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives = (part.split() for part in header.split(";") if part.strip())
    return {name: values for name, *values in directives}


def assert_strict(response: HttpResponseBase) -> None:
    directives = policy(response)
    assert directives["default-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["base-uri"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert "script-src" not in directives  # default-src 'self': script files of this site only
    everything = " ".join(response["Content-Security-Policy"].split())
    assert "'unsafe-inline'" not in everything and "'unsafe-eval'" not in everything


@pytest.fixture
def linked_invoice(owner: Membership) -> tuple[Invoice, str]:
    """An issued invoice of the owner's agency and a portal token for it."""
    invoice = issue_invoice(ClientFactory(agency=owner.agency), "100.00")
    _, token = portal_link_create(document=invoice, actor=None)
    return invoice, token


@pytest.mark.django_db
def test_every_kind_of_page_sends_a_strict_content_security_policy(
    owner: Membership,
    login: Callable[[Membership], HttpClient],
    linked_invoice: tuple[Invoice, str],
) -> None:
    invoice, token = linked_invoice
    _, key = api_token_create(user=owner.user, name="probe")
    staff = login(owner)

    responses = [
        HttpClient().get(reverse("accounts:login")),
        staff.get(reverse("home")),
        staff.get(reverse("billing:invoice_detail", args=[invoice.pk])),
        HttpClient().get(reverse("portal:document", args=[token])),
        HttpClient().get("/api/v1/clients", HTTP_AUTHORIZATION=f"Bearer {key}"),
        HttpClient().get("/no-such-page/"),
    ]

    for response in responses:
        assert_strict(response)


@pytest.mark.django_db
def test_the_brand_colour_style_carries_the_nonce_of_its_own_response(
    owner: Membership,
    login: Callable[[Membership], HttpClient],
    linked_invoice: tuple[Invoice, str],
) -> None:
    invoice, token = linked_invoice
    pages = [
        login(owner).get(reverse("billing:invoice_detail", args=[invoice.pk])),
        HttpClient().get(reverse("portal:document", args=[token])),
    ]

    for response in pages:
        nonces = re.findall(r"<style nonce=\"([^\"]+)\">", response.content.decode())
        style_src = policy(response)["style-src"]
        assert nonces, "the page sets the agency's brand colour"
        assert {f"'nonce-{nonce}'" for nonce in nonces} <= set(style_src)
        assert "<style>" not in response.content.decode()


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda path: path.name)
def test_no_template_has_inline_code_the_policy_would_block(template: Path) -> None:
    source = template.read_text()

    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", source) == []
    assert re.findall(r"\son[a-z]+\s*=", source) == []
    assert re.findall(r"\sstyle\s*=", source) == []
    assert "javascript:" not in source
    assert source.count("<style") == source.count(NONCED_STYLE)


@pytest.mark.django_db
def test_signed_in_pages_partials_and_api_answers_are_stored_by_no_cache(
    owner: Membership, login: Callable[[Membership], HttpClient]
) -> None:
    _, key = api_token_create(user=owner.user, name="probe")
    staff = login(owner)

    responses = [
        staff.get(reverse("home")),
        staff.get(reverse("crm:client_list"), HTTP_HX_REQUEST="true"),
        HttpClient().get("/api/v1/clients", HTTP_AUTHORIZATION=f"Bearer {key}"),
    ]

    for response in responses:
        assert response.status_code == 200
        assert "no-store" in response["Cache-Control"]
        assert "private" in response["Cache-Control"]
