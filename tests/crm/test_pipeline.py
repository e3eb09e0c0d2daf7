"""The pipeline board: columns, values, moving deals with and without JavaScript."""

from __future__ import annotations

import re
from collections.abc import Callable

from django.test import Client as HttpClient
from django.urls import reverse

from clientledger.accounts.models import Agency, Membership
from clientledger.core.models import AuditEvent
from clientledger.crm.models import Client, Deal, DealLine, DealStage
from tests.factories import ClientFactory, DealFactory, DealLineFactory

Login = Callable[[Membership], HttpClient]


def test_each_stage_column_shows_its_count_and_value_per_currency(
    viewer: Membership, login: Login, agency: Agency, deal_line: DealLine
) -> None:
    euro_deal = DealFactory(client=ClientFactory(agency=agency, currency="EUR"))
    DealLineFactory(deal=euro_deal, quantity=2, unit_price=50)
    response = login(viewer).get(reverse("crm:pipeline"))
    lead = response.context["board"].columns[0]
    assert (lead.stage, len(lead.deals)) == ("lead", 2)
    assert {currency: str(amount) for currency, amount in lead.totals.items()} == {
        "USD": "1000.00",
        "EUR": "100.00",
    }
    page = response.content.decode()
    assert "$1,000.00" in page and "€100.00" in page
    assert "Website relaunch" in page


def test_the_board_filters_by_owner_and_search(
    viewer: Membership, sales: Membership, login: Login, acme: Client
) -> None:
    DealFactory(client=acme, title="Owned by sales", owner=sales.user)
    DealFactory(client=acme, title="Unassigned")
    http = login(viewer)
    owned = http.get(reverse("crm:pipeline"), {"owner": sales.user.pk}).content.decode()
    assert "Owned by sales" in owned and "Unassigned" not in owned
    searched = http.get(reverse("crm:pipeline"), {"q": "unassig"}).content.decode()
    assert "Unassigned" in searched and "Owned by sales" not in searched


def test_sales_moves_a_deal_without_javascript_and_the_move_is_audited(
    sales: Membership, login: Login, deal: Deal
) -> None:
    response = login(sales).post(
        reverse("crm:deal_move", args=[deal.pk]),
        {"stage": "won", "next": f"{reverse('crm:pipeline')}?q=web"},
    )
    assert response["Location"] == f"{reverse('crm:pipeline')}?q=web"
    deal.refresh_from_db()
    assert deal.stage == DealStage.WON
    event = AuditEvent.objects.get(verb="deal.stage_changed", subject_id=deal.pk)
    assert (event.actor, event.data) == (sales.user, {"from": "lead", "to": "won"})


def test_a_drag_and_drop_move_answers_with_the_redrawn_board(
    sales: Membership, login: Login, deal: Deal
) -> None:
    response = login(sales).post(
        f"{reverse('crm:deal_move', args=[deal.pk])}?q=website",
        {"stage": "proposal"},
        headers={"HX-Request": "true"},
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert page.lstrip().startswith('<div id="pipeline-board"')
    proposal = page.split('data-stage="proposal"')[1].split('data-stage="won"')[0]
    assert "Website relaunch" in proposal
    deal.refresh_from_db()
    assert deal.stage == DealStage.PROPOSAL


def test_moving_to_an_unknown_stage_changes_nothing(
    sales: Membership, login: Login, deal: Deal
) -> None:
    http = login(sales)
    url = reverse("crm:deal_move", args=[deal.pk])
    response = http.post(url, {"stage": "bogus"}, follow=True)
    assert "“bogus” is not a pipeline stage." in response.content.decode()
    htmx = http.post(url, {"stage": "bogus"}, headers={"HX-Request": "true"})
    assert htmx.status_code == 400
    deal.refresh_from_db()
    assert deal.stage == DealStage.LEAD
    assert not AuditEvent.objects.filter(verb="deal.stage_changed").exists()


def test_a_move_never_redirects_off_site(sales: Membership, login: Login, deal: Deal) -> None:
    response = login(sales).post(
        reverse("crm:deal_move", args=[deal.pk]),
        {"stage": "won", "next": "https://evil.example/"},
    )
    assert response["Location"] == reverse("crm:pipeline")


def test_cards_offer_a_stage_form_and_drag_and_drop_to_editors_only(
    viewer: Membership, sales: Membership, login: Login, deal: Deal
) -> None:
    move_url = reverse("crm:deal_move", args=[deal.pk])
    for_sales = login(sales).get(reverse("crm:pipeline")).content.decode()
    assert f'action="{move_url}?' in for_sales and 'draggable="true"' in for_sales
    assert "js/pipeline.js" in for_sales
    for_viewer = login(viewer).get(reverse("crm:pipeline")).content.decode()
    assert move_url not in for_viewer and 'draggable="true"' not in for_viewer


def test_an_empty_pipeline_invites_to_create_a_deal(owner_client: HttpClient) -> None:
    page = owner_client.get(reverse("crm:pipeline")).content.decode()
    assert "Your pipeline is empty" in page
    assert reverse("crm:deal_create") in page


def test_a_card_offers_the_other_stages_in_one_compact_menu_not_a_dropdown_and_button(
    sales: Membership, login: Login, deal: Deal
) -> None:
    page = login(sales).get(reverse("crm:pipeline")).content.decode()

    card = page.split("data-deal-card", 1)[1].split("</article>", 1)[0]
    assert '<select name="stage"' not in card and ">Move</button>" not in card
    menu = card.split('<details class="cl-move-menu', 1)[1].split("</details>", 1)[0]
    assert (
        '<summary class="btn btn-sm btn-ghost-secondary" aria-label="Move Website relaunch' in menu
    )
    offered = re.findall(r'<button type="submit" name="stage" value="(\w+)"', menu)
    assert offered == ["qualified", "proposal", "won", "lost"]
