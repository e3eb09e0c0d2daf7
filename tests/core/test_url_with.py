"""`url_with` answers what `reverse` answers, for a list's many rows at a fraction of the cost."""

from __future__ import annotations

import pytest
from django.urls import reverse, set_script_prefix

from clientledger.core.http import url_with


@pytest.mark.parametrize("pk", [1, 42, 7919187349, 10**15])
def test_an_id_gives_the_url_reverse_gives(pk: int) -> None:
    assert url_with("api:invoice_pdf", "invoice_id", pk) == reverse(
        "api:invoice_pdf", kwargs={"invoice_id": pk}
    )


@pytest.mark.parametrize("token", ["abc_DEF-123", "x", "ü-token", "a b?c#d"])
def test_a_token_gives_the_url_reverse_gives_even_when_it_needs_quoting(token: str) -> None:
    assert url_with("portal:document", "token", token) == reverse(
        "portal:document", kwargs={"token": token}
    )


def test_the_url_follows_the_script_prefix_of_the_request() -> None:
    url_with("api:invoice_pdf", "invoice_id", 1)
    set_script_prefix("/ledger/")
    try:
        assert url_with("api:invoice_pdf", "invoice_id", 5).startswith("/ledger/api/v1/")
    finally:
        set_script_prefix("/")
    assert url_with("api:invoice_pdf", "invoice_id", 5).startswith("/api/v1/")
