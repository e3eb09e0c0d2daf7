"""Invoice states and history as staff read them: a partly paid invoice says "Partially
paid" (badge and filter), the sidebar shows the issue date rather than the moment of issuing,
and the timeline names payment amounts and the client who signed an approval."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from clientledger.accounts.models import Membership
from clientledger.billing.models import Estimate, Invoice
from clientledger.billing.selectors import InvoiceFilters, invoice_list
from clientledger.billing.services.estimates import estimate_approve
from clientledger.billing.services.invoices import invoice_issue
from clientledger.payments.models import Payment
from tests.billing.conftest import TODAY
from tests.portal.test_portal_pay import paid_by_transfer

pytestmark = pytest.mark.django_db

Login = Callable[[Membership], HttpClient]


@pytest.fixture(autouse=True)
def stopped_clock(frozen_now: Callable[[dt.datetime], None]) -> None:
    """Every test here runs on 2026-11-24 (Europe/Berlin)."""


@pytest.fixture
def invoices(draft_invoice: Callable[..., Invoice]) -> dict[str, Invoice]:
    """Three issued invoices of 1,190.00: untouched, paid in part, paid in full."""
    made = {
        name: invoice_issue(invoice=draft_invoice(), actor=None)
        for name in ("open", "part", "paid")
    }
    paid_by_transfer(made["part"], "190.00")
    paid_by_transfer(made["paid"], "1190.00")
    return made


def badge_of(html: str, number: str) -> str:
    row = re.search(rf"{number}.*?</tr>", html, re.S)
    assert row, number
    return row.group(0)


def test_a_partly_paid_invoice_is_badged_partially_paid_in_the_list(
    login: Login, viewer: Membership, invoices: dict[str, Invoice]
) -> None:
    html = login(viewer).get(reverse("billing:invoice_list")).content.decode()

    assert "Partially paid" in badge_of(html, invoices["part"].number)
    assert "Partially paid" not in badge_of(html, invoices["open"].number)
    assert "Partially paid" not in badge_of(html, invoices["paid"].number)


def test_the_list_filters_partly_paid_invoices(
    login: Login, viewer: Membership, invoices: dict[str, Invoice]
) -> None:
    response = login(viewer).get(reverse("billing:invoice_list"), {"status": "partially_paid"})

    assert [invoice.pk for invoice in response.context["page"]] == [invoices["part"].pk]
    assert '<option value="partially_paid" selected>Partially paid</option>' in (
        response.content.decode()
    )


def test_partly_paid_is_open_with_something_paid_or_credited_and_something_still_owed(
    invoices: dict[str, Invoice],
) -> None:
    found = invoice_list(
        agency=invoices["part"].agency, filters=InvoiceFilters(status="partially_paid"), today=TODAY
    )

    # `is_partially_paid` is annotated by invoice_list, which the model type does not know.
    assert [(invoice.pk, invoice.is_partially_paid) for invoice in found] == [  # type: ignore[attr-defined]
        (invoices["part"].pk, True)
    ]


def test_the_invoice_page_badges_a_partly_paid_invoice(
    login: Login, viewer: Membership, invoices: dict[str, Invoice]
) -> None:
    http = login(viewer)

    part = http.get(reverse("billing:invoice_detail", args=[invoices["part"].pk]))
    untouched = http.get(reverse("billing:invoice_detail", args=[invoices["open"].pk]))

    assert part.context["overview"].is_partially_paid
    assert "Partially paid" in part.content.decode()
    assert "Partially paid" not in untouched.content.decode()


def test_the_sidebar_shows_the_issue_date_not_when_it_was_issued(
    login: Login, viewer: Membership, draft_invoice: Callable[..., Invoice]
) -> None:
    invoice = invoice_issue(invoice=draft_invoice(), actor=None, issue_date=dt.date(2026, 10, 31))

    html = login(viewer).get(reverse("billing:invoice_detail", args=[invoice.pk])).content.decode()

    issued = re.search(r'Issued</div>\s*<div class="datagrid-content">([^<]*)</div>', html)
    assert issued and issued.group(1) == "Oct 31, 2026"


def test_the_client_timeline_names_payment_amounts_and_who_signed_an_approval(
    login: Login,
    viewer: Membership,
    invoices: dict[str, Invoice],
    sent_estimate: Callable[..., Estimate],
) -> None:
    estimate_approve(
        estimate=sent_estimate(), name="Ada Lovelace", ip="203.0.113.9", user_agent="Test/1.0"
    )
    client = invoices["part"].client

    html = login(viewer).get(reverse("crm:client_detail", args=[client.pk])).content.decode()

    part, paid = Payment.objects.order_by("pk")
    assert f"payment recorded “{part}”: $190.00" in html
    assert f"payment recorded “{paid}”: $1,190.00" in html
    assert "<strong>Ada Lovelace</strong> estimate approved" in html
