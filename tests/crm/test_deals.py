"""Deal pages: create, edit, list filters, delete."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

from django.test import Client as HttpClient
from django.urls import reverse

from clientledger.accounts.models import Agency, Membership
from clientledger.billing.services.drafts import invoice_create_from_deal
from clientledger.billing.services.invoices import invoice_issue
from clientledger.core import clock
from clientledger.core.models import AuditEvent
from clientledger.crm.models import Client, Deal, DealLine, DealStage
from tests.factories import ClientFactory, DealFactory, DealLineFactory

Login = Callable[[Membership], HttpClient]


def test_sales_creates_a_deal_and_goes_on_to_its_lines(
    sales: Membership, login: Login, acme: Client
) -> None:
    response = login(sales).post(
        reverse("crm:deal_create"),
        {
            "title": "Brand refresh",
            "client": acme.pk,
            "owner": sales.user.pk,
            "stage": "qualified",
            "expected_close_date": "2030-05-01",
        },
    )
    deal = Deal.objects.get(title="Brand refresh")
    assert response["Location"] == reverse("crm:deal_lines", args=[deal.pk])
    assert (deal.client, deal.owner, deal.stage) == (acme, sales.user, "qualified")
    assert str(deal.expected_close_date) == "2030-05-01"
    assert AuditEvent.objects.filter(verb="deal.created", client=acme).exists()


def test_the_new_deal_form_preselects_the_client_and_the_current_user(
    sales: Membership, login: Login, acme: Client
) -> None:
    form = login(sales).get(reverse("crm:deal_create"), {"client": acme.pk}).context["form"]
    assert form["client"].value() == acme.pk
    assert form["owner"].value() == sales.user.pk


def test_the_owner_select_offers_only_members_of_the_agency(
    owner_client: HttpClient, owner: Membership, sales: Membership, outsider: Membership
) -> None:
    form = owner_client.get(reverse("crm:deal_create")).context["form"]
    assert set(form.fields["owner"].queryset) == {owner.user, sales.user}


def test_the_client_select_offers_only_the_agencys_clients(
    owner_client: HttpClient, acme: Client, outsider: Membership
) -> None:
    ClientFactory(agency=outsider.agency, name="Rival client")
    form = owner_client.get(reverse("crm:deal_create")).context["form"]
    assert list(form.fields["client"].queryset) == [acme]


def test_a_deal_needs_a_title_and_a_valid_date(owner_client: HttpClient, acme: Client) -> None:
    response = owner_client.post(
        reverse("crm:deal_create"),
        {"title": "", "client": acme.pk, "stage": "lead", "expected_close_date": "soon"},
    )
    page = response.content.decode()
    assert "Enter the deal&#x27;s title." in page
    assert "Enter the expected close date as YYYY-MM-DD." in page
    assert not Deal.objects.exists()


def test_editing_a_deal_is_audited(owner_client: HttpClient, deal: Deal) -> None:
    response = owner_client.post(
        reverse("crm:deal_edit", args=[deal.pk]),
        {"title": "Website relaunch v2", "client": deal.client_id, "stage": "proposal"},
        follow=True,
    )
    deal.refresh_from_db()
    assert (deal.title, deal.stage) == ("Website relaunch v2", "proposal")
    page = response.content.decode()
    assert "updated deal “Website relaunch v2”" in page
    assert "Lead" in page and "Proposal" in page


def test_a_deal_with_lines_cannot_move_to_a_client_in_another_currency(
    owner_client: HttpClient, agency: Agency, deal_line: DealLine
) -> None:
    euro_client = ClientFactory(agency=agency, currency="EUR")
    deal = deal_line.deal
    response = owner_client.post(
        reverse("crm:deal_edit", args=[deal.pk]),
        {"title": deal.title, "client": euro_client.pk, "stage": deal.stage},
    )
    assert "bills in another currency" in response.content.decode()
    deal.refresh_from_db()
    assert deal.client_id != euro_client.pk


def test_the_deal_list_filters_by_stage_owner_and_search(
    viewer: Membership, sales: Membership, login: Login, acme: Client
) -> None:
    DealFactory(client=acme, title="Logo design", stage=DealStage.WON, owner=sales.user)
    DealFactory(client=acme, title="Ad campaign", stage=DealStage.LEAD)
    http = login(viewer)
    url = reverse("crm:deal_list")
    won = http.get(url, {"stage": "won"}).content.decode()
    assert "Logo design" in won and "Ad campaign" not in won
    owned = http.get(url, {"owner": sales.user.pk}).content.decode()
    assert "Logo design" in owned and "Ad campaign" not in owned
    searched = http.get(url, {"q": "campaign"}).content.decode()
    assert "Ad campaign" in searched and "Logo design" not in searched


def test_the_deal_list_shows_each_deals_value(viewer: Membership, login: Login, deal: Deal) -> None:
    DealLineFactory(deal=deal)  # 10 x 100.00
    page = login(viewer).get(reverse("crm:deal_list")).content.decode()
    assert "$1,000.00" in page


def test_the_deal_page_shows_lines_totals_timeline_and_documents(
    viewer: Membership, login: Login, deal_line: DealLine
) -> None:
    page = login(viewer).get(reverse("crm:deal_detail", args=[deal_line.deal_id])).content
    text = page.decode()
    assert "Discovery workshop" in text and "$1,000.00" in text
    assert "No estimates or invoices yet" in text
    assert "Activity" in text


def test_the_owner_deletes_a_deal(owner_client: HttpClient, deal: Deal) -> None:
    response = owner_client.post(reverse("crm:deal_delete", args=[deal.pk]))
    assert response["Location"] == reverse("crm:deal_list")
    assert not Deal.objects.exists()
    assert AuditEvent.objects.filter(verb="deal.deleted").exists()


def test_a_close_date_outside_the_date_window_is_refused_inline(
    owner_client: HttpClient, acme: Client
) -> None:
    response = owner_client.post(
        reverse("crm:deal_create"),
        {
            "title": "Website",
            "client": acme.pk,
            "stage": "lead",
            "expected_close_date": "0201-05-01",
        },
    )
    assert response.context["form"].errors == {
        "expected_close_date": [f"Enter a date from 2000 to {clock.now().year + 10}."]
    }
    assert not Deal.objects.exists()


def test_the_deal_page_shows_what_its_invoices_still_owe_and_what_is_overdue(
    owner_client: HttpClient, deal: Deal
) -> None:
    DealLineFactory(deal=deal)
    invoice = invoice_create_from_deal(deal=deal, actor=None)
    today = clock.agency_today(deal.agency)
    invoice_issue(
        invoice=invoice,
        actor=None,
        issue_date=today - dt.timedelta(days=40),
        due_date=today - dt.timedelta(days=10),
    )

    response = owner_client.get(reverse("crm:deal_detail", args=[deal.pk]))

    documents = response.context["overview"].documents
    assert (documents.outstanding, documents.overdue) == (Decimal("1000.00"), Decimal("1000.00"))
    page = response.content.decode()
    assert "Outstanding" in page
    assert "1 open invoice past due" in page
