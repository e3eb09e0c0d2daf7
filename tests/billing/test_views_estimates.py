"""The staff pages of estimates: creating, editing lines and details, sending, converting,
revoking links, deleting; who may do what; and the messages when a service says no."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from clientledger.accounts.models import Membership
from clientledger.billing.models import Estimate, EstimateStatus, Invoice, PortalLink
from clientledger.billing.services.estimates import estimate_approve, estimate_decline
from clientledger.catalog.models import TaxRate
from clientledger.crm.models import Client, Deal
from clientledger.notifications.models import EmailMessage
from clientledger.notifications.services import email_render
from tests.factories import ClientFactory, ContactFactory, DealFactory, DealLineFactory

pytestmark = pytest.mark.django_db

Login = Callable[[Membership], HttpClient]

ESTIMATE_WRITES = [
    ("billing:estimate_edit", "get"),
    ("billing:estimate_lines", "get"),
    ("billing:estimate_lines_totals", "post"),
    ("billing:estimate_delete", "post"),
    ("billing:estimate_send", "get"),
    ("billing:estimate_send", "post"),
    ("billing:estimate_convert", "post"),
    ("billing:estimate_links_revoke", "post"),
]


def url(name: str, document: Estimate | Invoice | Deal) -> str:
    key = "deal_pk" if name.endswith("_from_deal") else "pk"
    return reverse(name, kwargs={key: document.pk})


def page(response: Any) -> str:
    return response.content.decode()


def line_rows(*lines: dict[str, str]) -> dict[str, Any]:
    """The line editor's POST data."""
    blank = {
        "service": "",
        "description": "",
        "quantity": "1",
        "unit": "hour",
        "unit_price": "",
        "discount_kind": "",
        "discount_value": "",
        "tax_1": "",
        "tax_2": "",
        "recurrence": "one_off",
    }
    data: dict[str, Any] = {"row": [str(key) for key in range(len(lines))]}
    for key, line in enumerate(lines):
        for name, value in {**blank, **line}.items():
            data[f"line-{key}-{name}"] = value
    return data


@pytest.fixture
def priced_deal(deal: Deal, vat: TaxRate) -> Deal:
    DealLineFactory(deal=deal, description="Discovery workshop", tax_1=vat)
    DealLineFactory(deal=deal, description="Hosting", quantity=Decimal(1), unit_price=Decimal(50))
    return deal


@pytest.fixture
def billing_contact(buyer: Client) -> Any:
    return ContactFactory(
        client=buyer, name="Bill Payer", email="bill@acme.example", is_billing_contact=True
    )


# --- reading -----------------------------------------------------------------------------


def test_a_viewer_sees_the_list_and_the_estimate_as_a_document(
    login: Login, viewer: Membership, draft_estimate: Callable[..., Estimate]
) -> None:
    estimate = draft_estimate(notes="Two design rounds included.")
    http = login(viewer)
    listing = page(http.get(reverse("billing:estimate_list")))
    assert "Acme Corp" in listing and "$1,190.00" in listing and "Draft" in listing
    detail = page(http.get(url("billing:estimate_detail", estimate)))
    assert "Bill to" in detail and "Design work" in detail
    assert "VAT 19%" in detail and "$190.00" in detail and "$1,190.00" in detail
    assert "Two design rounds included." in detail
    # A viewer gets no edit controls.
    assert url("billing:estimate_send", estimate) not in detail
    assert url("billing:estimate_lines", estimate) not in detail


def test_the_estimate_pdf_downloads_as_an_attachment(
    login: Login, viewer: Membership, draft_estimate: Callable[..., Estimate]
) -> None:
    estimate = draft_estimate()
    response = login(viewer).get(url("billing:estimate_pdf", estimate))
    assert response["Content-Type"] == "application/pdf"
    assert (
        response["Content-Disposition"]
        == f'attachment; filename="draft-estimate-{estimate.pk}.pdf"'
    )
    assert response.content.startswith(b"%PDF")


@pytest.mark.parametrize(("name", "method"), ESTIMATE_WRITES)
def test_a_viewer_is_refused_every_estimate_write(
    login: Login,
    viewer: Membership,
    draft_estimate: Callable[..., Estimate],
    name: str,
    method: str,
) -> None:
    estimate = draft_estimate()
    response = getattr(login(viewer), method)(url(name, estimate))
    assert response.status_code == 403
    assert Estimate.objects.get(pk=estimate.pk).status == EstimateStatus.DRAFT


def test_a_viewer_cannot_create_an_estimate(
    login: Login, viewer: Membership, buyer: Client, priced_deal: Deal
) -> None:
    http = login(viewer)
    assert http.post(reverse("billing:estimate_create"), {"client": buyer.pk}).status_code == 403
    assert http.post(url("billing:estimate_create_from_deal", priced_deal)).status_code == 403
    assert not Estimate.objects.exists()


@pytest.mark.parametrize(
    "name",
    [
        "billing:estimate_detail",
        "billing:estimate_pdf",
        "billing:estimate_edit",
        "billing:estimate_send",
    ],
)
def test_another_agencys_estimate_is_not_found(
    login: Login, outsider: Membership, draft_estimate: Callable[..., Estimate], name: str
) -> None:
    assert login(outsider).get(url(name, draft_estimate())).status_code == 404


def test_another_agencys_deal_cannot_become_an_estimate(
    login: Login, outsider: Membership, priced_deal: Deal
) -> None:
    response = login(outsider).post(url("billing:estimate_create_from_deal", priced_deal))
    assert response.status_code == 404
    assert not Estimate.objects.exists()


# --- creating ----------------------------------------------------------------------------


def test_an_estimate_made_from_a_deal_copies_its_lines(
    login: Login, sales: Membership, priced_deal: Deal
) -> None:
    response = login(sales).post(url("billing:estimate_create_from_deal", priced_deal))
    estimate = Estimate.objects.get()
    assert response["Location"] == url("billing:estimate_detail", estimate)
    assert (estimate.client, estimate.deal, estimate.created_by) == (
        priced_deal.client,
        priced_deal,
        sales.user,
    )
    assert [line.description for line in estimate.lines.all()] == [
        "Discovery workshop",
        "Hosting",
    ]
    # 1,000 + 19 % VAT, plus 50 without tax.
    assert estimate.total_minor == 124_000


def test_the_deal_page_offers_new_documents_and_lists_them(
    login: Login, owner: Membership, priced_deal: Deal
) -> None:
    http = login(owner)
    http.post(url("billing:estimate_create_from_deal", priced_deal))
    detail = page(http.get(url("crm:deal_detail", priced_deal)))
    assert url("billing:estimate_create_from_deal", priced_deal) in detail
    assert url("billing:invoice_create_from_deal", priced_deal) in detail
    assert url("billing:estimate_detail", Estimate.objects.get()) in detail


def test_an_estimate_for_a_client_opens_the_line_editor(
    login: Login, sales: Membership, buyer: Client, deal: Deal
) -> None:
    response = login(sales).post(
        reverse("billing:estimate_create"), {"client": buyer.pk, "deal": deal.pk}
    )
    estimate = Estimate.objects.get()
    assert response["Location"] == url("billing:estimate_lines", estimate)
    assert (estimate.client, estimate.deal, estimate.lines.count()) == (buyer, deal, 0)


def test_the_deal_must_be_one_of_the_clients_deals(
    login: Login, sales: Membership, buyer: Client, agency: Any
) -> None:
    other_deal = DealFactory(client=ClientFactory(agency=agency))
    response = login(sales).post(
        reverse("billing:estimate_create"), {"client": buyer.pk, "deal": other_deal.pk}
    )
    assert "Choose a deal of this client." in page(response)
    assert not Estimate.objects.exists()


def test_the_deal_choices_follow_the_chosen_client(
    login: Login, sales: Membership, buyer: Client, deal: Deal, agency: Any
) -> None:
    other = DealFactory(client=ClientFactory(agency=agency), title="Someone else's deal")
    form = page(login(sales).get(reverse("billing:estimate_create"), {"client": buyer.pk}))
    assert "Website relaunch" in form and other.title not in form


# --- lines and details -------------------------------------------------------------------


def test_saving_the_lines_of_a_draft_updates_its_totals(
    login: Login, sales: Membership, draft_estimate: Callable[..., Estimate], vat: TaxRate
) -> None:
    estimate = draft_estimate()
    http = login(sales)
    editor = page(http.get(url("billing:estimate_lines", estimate)))
    assert "Design work" in editor and url("billing:estimate_lines_totals", estimate) in editor
    response = http.post(
        url("billing:estimate_lines", estimate),
        line_rows(
            {"description": "Strategy", "quantity": "2", "unit_price": "500", "tax_1": str(vat.pk)}
        ),
    )
    assert response["Location"] == url("billing:estimate_detail", estimate)
    estimate.refresh_from_db()
    assert [line.description for line in estimate.lines.all()] == ["Strategy"]
    assert estimate.total_minor == 119_000


def test_a_bad_line_shows_its_error_and_saves_nothing(
    login: Login, sales: Membership, draft_estimate: Callable[..., Estimate]
) -> None:
    estimate = draft_estimate()
    response = login(sales).post(
        url("billing:estimate_lines", estimate),
        line_rows({"description": "Strategy", "quantity": "0", "unit_price": "500"}),
    )
    assert "The quantity must be greater than zero." in page(response)
    assert [line.description for line in estimate.lines.all()] == ["Design work"]


def test_a_line_total_above_the_storable_range_is_shown_on_its_row_and_saves_nothing(
    login: Login, sales: Membership, draft_estimate: Callable[..., Estimate]
) -> None:
    estimate = draft_estimate()
    response = login(sales).post(
        url("billing:estimate_lines", estimate),
        line_rows({"description": "Huge", "quantity": "9999999999", "unit_price": "9999999999"}),
    )
    assert response.status_code == 200
    assert response.context["editor"].rows[0].errors["unit_price"] == [
        "This line comes to $99,999,999,980,000,000,001.00; "
        "a line must stay below $1,000,000,000,000.00."
    ]
    assert [line.description for line in estimate.lines.all()] == ["Design work"]


def test_the_live_totals_price_the_posted_rows(
    login: Login, sales: Membership, draft_estimate: Callable[..., Estimate], vat: TaxRate
) -> None:
    estimate = draft_estimate()
    response = login(sales).post(
        url("billing:estimate_lines_totals", estimate),
        line_rows(
            {"description": "Strategy", "quantity": "3", "unit_price": "100", "tax_1": str(vat.pk)}
        ),
    )
    assert "$357.00" in page(response)
    assert estimate.lines.get().description == "Design work"


def test_editing_the_details_of_a_draft(
    login: Login, sales: Membership, draft_estimate: Callable[..., Estimate], deal: Deal
) -> None:
    estimate = draft_estimate()
    response = login(sales).post(
        url("billing:estimate_edit", estimate),
        {
            "deal": deal.pk,
            "notes": "Kick-off in May.",
            "terms": "50 % upfront.",
            "valid_until": "2027-01-31",
        },
    )
    assert response["Location"] == url("billing:estimate_detail", estimate)
    estimate.refresh_from_db()
    assert (estimate.deal, estimate.notes, estimate.terms, str(estimate.valid_until)) == (
        deal,
        "Kick-off in May.",
        "50 % upfront.",
        "2027-01-31",
    )


def test_a_sent_estimate_cannot_be_edited(
    login: Login,
    sales: Membership,
    sent_estimate: Callable[..., Estimate],
) -> None:
    estimate = sent_estimate(notes="As sent.")
    http = login(sales)
    detail = page(http.get(url("billing:estimate_detail", estimate)))
    assert url("billing:estimate_lines", estimate) not in detail
    assert url("billing:estimate_edit", estimate) not in detail
    for name in ("billing:estimate_lines", "billing:estimate_edit"):
        response = http.get(url(name, estimate), follow=True)
        assert "This estimate is sent and can no longer be changed." in page(response)
    http.post(url("billing:estimate_edit", estimate), {"notes": "Changed."})
    http.post(
        url("billing:estimate_lines", estimate), line_rows({"description": "X", "unit_price": "1"})
    )
    estimate.refresh_from_db()
    assert estimate.notes == "As sent." and estimate.lines.get().description == "Design work"


def test_deleting_a_draft_estimate(
    login: Login, sales: Membership, draft_estimate: Callable[..., Estimate]
) -> None:
    estimate = draft_estimate()
    http = login(sales)
    assert "This cannot be undone." in page(http.get(url("billing:estimate_delete", estimate)))
    response = http.post(url("billing:estimate_delete", estimate))
    assert response["Location"] == reverse("billing:estimate_list")
    assert not Estimate.objects.exists()


def test_a_sent_estimate_cannot_be_deleted(
    login: Login, sales: Membership, sent_estimate: Callable[..., Estimate]
) -> None:
    estimate = sent_estimate()
    response = login(sales).post(url("billing:estimate_delete", estimate), follow=True)
    assert "This estimate is sent and can no longer be changed." in page(response)
    assert Estimate.objects.filter(pk=estimate.pk).exists()


# --- sending -----------------------------------------------------------------------------


def test_the_send_form_suggests_the_billing_contact_and_email(
    login: Login,
    sales: Membership,
    draft_estimate: Callable[..., Estimate],
    billing_contact: Any,
    buyer: Client,
) -> None:
    ContactFactory(client=buyer, name="No Email", email="")
    ContactFactory(client=buyer, name="Pat Other", email="pat@acme.example")
    form = page(login(sales).get(url("billing:estimate_send", draft_estimate())))
    assert 'value="bill@acme.example" class="form-check-input" id="id_recipients_0" checked' in form
    assert "Pat Other &lt;pat@acme.example&gt;" in form
    assert f"Billing email &lt;{buyer.billing_email}&gt;" in form
    assert "No Email" not in form


def test_sending_an_estimate_numbers_it_and_queues_the_email(
    login: Login,
    sales: Membership,
    draft_estimate: Callable[..., Estimate],
    billing_contact: Any,
) -> None:
    estimate = draft_estimate()
    response = login(sales).post(
        url("billing:estimate_send", estimate),
        {"recipients": ["bill@acme.example"], "message": "Here is our <b>quote</b>."},
        follow=True,
    )
    estimate.refresh_from_db()
    assert estimate.status == EstimateStatus.SENT and estimate.number.startswith("EST-")
    assert f"{estimate.number} sent to bill@acme.example." in page(response)
    email = EmailMessage.objects.get()
    assert email.to == ["bill@acme.example"]
    assert PortalLink.objects.filter(estimate=estimate, revoked_at=None).count() == 1
    # The send is on the estimate's history.
    assert "estimate sent" in page(response)
    # The page shows the client's link, the same one the email carries; the message is escaped.
    link = re.search(r'value="(http[^"]+/p/[\w-]+/)"', page(response))
    assert link and link.group(1) in email_render(email).text
    assert "Here is our &lt;b&gt;quote&lt;/b&gt;." in email_render(email).html


def test_sending_without_recipients_shows_an_error_and_changes_nothing(
    login: Login, sales: Membership, draft_estimate: Callable[..., Estimate], billing_contact: Any
) -> None:
    estimate = draft_estimate()
    response = login(sales).post(url("billing:estimate_send", estimate), {})
    assert response.status_code == 200
    assert "Choose at least one recipient." in page(response)
    estimate.refresh_from_db()
    assert (estimate.status, estimate.number) == (EstimateStatus.DRAFT, "")
    assert not EmailMessage.objects.exists()


def test_sending_an_empty_estimate_is_refused_with_the_reason(
    login: Login, sales: Membership, draft_estimate: Callable[..., Estimate], billing_contact: Any
) -> None:
    estimate = draft_estimate(lines=[])
    response = login(sales).post(
        url("billing:estimate_send", estimate), {"recipients": ["bill@acme.example"]}
    )
    assert "Add at least one line before sending this estimate." in page(response)
    estimate.refresh_from_db()
    assert (estimate.status, estimate.number) == (EstimateStatus.DRAFT, "")


def test_a_client_without_any_email_is_explained_on_the_send_page(
    login: Login, sales: Membership, draft_estimate: Callable[..., Estimate], buyer: Client
) -> None:
    buyer.billing_email = ""
    buyer.save()
    form = page(login(sales).get(url("billing:estimate_send", draft_estimate())))
    assert "Acme Corp has no email address yet" in form


def test_revoking_the_client_links_of_a_sent_estimate(
    login: Login, sales: Membership, sent_estimate: Callable[..., Estimate]
) -> None:
    estimate = sent_estimate()
    response = login(sales).post(url("billing:estimate_links_revoke", estimate), follow=True)
    assert "1 client link revoked" in page(response)
    assert not PortalLink.objects.filter(estimate=estimate, revoked_at=None).exists()


# --- the client's answer and conversion --------------------------------------------------


def test_the_detail_shows_the_clients_approval(
    login: Login, viewer: Membership, sent_estimate: Callable[..., Estimate]
) -> None:
    estimate = estimate_approve(
        estimate=sent_estimate(), name="Ada Lovelace", ip="203.0.113.9", user_agent="Firefox"
    )
    detail = page(login(viewer).get(url("billing:estimate_detail", estimate)))
    assert "Approved by the client" in detail
    assert "Ada Lovelace" in detail and "203.0.113.9" in detail
    assert "estimate approved" in detail


def test_converting_an_approved_estimate_once(
    login: Login, sales: Membership, sent_estimate: Callable[..., Estimate]
) -> None:
    estimate = estimate_approve(estimate=sent_estimate(), name="", ip=None, user_agent="")
    http = login(sales)
    first = http.post(url("billing:estimate_convert", estimate))
    invoice = Invoice.objects.get()
    assert first["Location"] == url("billing:invoice_detail", invoice)
    assert (invoice.estimate, invoice.total_minor) == (estimate, estimate.total_minor)
    second = http.post(url("billing:estimate_convert", estimate), follow=True)
    assert f"{estimate.number} was already converted into" in page(second)
    assert second.redirect_chain[-1][0] == url("billing:invoice_detail", invoice)
    assert Invoice.objects.count() == 1
    # The estimate and the invoice link to each other.
    assert url("billing:invoice_detail", invoice) in page(
        http.get(url("billing:estimate_detail", estimate))
    )
    assert url("billing:estimate_detail", estimate) in page(
        http.get(url("billing:invoice_detail", invoice))
    )


def test_a_declined_estimate_cannot_be_converted(
    login: Login, sales: Membership, sent_estimate: Callable[..., Estimate]
) -> None:
    estimate = estimate_decline(estimate=sent_estimate(), reason="Too expensive")
    response = login(sales).post(url("billing:estimate_convert", estimate), follow=True)
    assert "cannot become converted" in page(response)
    assert "Too expensive" in page(response)
    assert not Invoice.objects.exists()
