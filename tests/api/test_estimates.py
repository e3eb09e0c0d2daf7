"""Estimates through the API: drafts, sending, conversion, PDF, lists, roles and bad input."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from pytest_django import Settings

from clientledger.accounts.models import Agency, Membership
from clientledger.billing.models import Estimate, EstimateLine, EstimateStatus, Invoice
from clientledger.billing.selectors import portal_link_resolve
from clientledger.billing.services.drafts import estimate_create
from clientledger.billing.services.estimates import estimate_approve, estimate_decline
from clientledger.billing.services.portal_links import portal_link_revoke
from clientledger.billing.services.sending import estimate_send
from clientledger.catalog.models import TaxRate
from clientledger.core import clock
from clientledger.crm.models import Client, Deal
from clientledger.lines.data import LineData
from clientledger.notifications.models import EmailMessage
from clientledger.notifications.services import email_render
from tests.api.conftest import ApiClient, errors
from tests.factories import (
    ClientFactory,
    ContactFactory,
    DealFactory,
    DealLineFactory,
    TaxRateFactory,
    unchecked_api_token,
)

pytestmark = pytest.mark.django_db

RECIPIENTS = ["ap@client.example"]


@pytest.fixture(autouse=True)
def media_root(settings: Settings, tmp_path: Path) -> None:
    """PDFs stored by these tests go to a folder of the test."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def buyer(agency: Agency) -> Client:
    return ClientFactory(agency=agency, name="Acme Corp", currency="USD")


@pytest.fixture
def vat(agency: Agency) -> TaxRate:
    return TaxRateFactory(agency=agency, name="VAT", percent=Decimal(19))


@pytest.fixture
def draft(buyer: Client, vat: TaxRate) -> Callable[..., Estimate]:
    """A draft estimate of `buyer`: 10 h at 100.00 plus 19 % VAT (1,190.00) by default."""

    def make(client: Client | None = None, **fields: Any) -> Estimate:
        return estimate_create(
            agency=buyer.agency,
            actor=None,
            client=client or buyer,
            lines=[
                LineData(
                    description="Design", quantity=Decimal(10), unit_price=Decimal(100), taxes=[vat]
                )
            ],
            **fields,
        )

    return make


def line(**overrides: Any) -> dict[str, Any]:
    return {"description": "Design", "quantity": "10", "unit_price": "100"} | overrides


def snapshot(estimate: Estimate) -> tuple[Any, ...]:
    """Everything an edit could change, to prove that a refused one changed nothing."""
    estimate.refresh_from_db()
    lines = list(estimate.lines.values_list("description", "quantity", "unit_price"))
    return (estimate.status, estimate.number, estimate.notes, estimate.total_minor, lines)


# --- drafts -------------------------------------------------------------------------------


def test_an_estimate_is_created_with_lines_taxes_and_totals(
    owner_api: ApiClient, buyer: Client, vat: TaxRate
) -> None:
    deal = DealFactory(client=buyer, title="Website")

    response = owner_api.post(
        "/estimates",
        {
            "client_id": buyer.pk,
            "deal_id": deal.pk,
            "notes": "Thanks!",
            "valid_until": "2030-01-31",
            "lines": [
                line(tax_rate_ids=[vat.pk], discount_kind="percent", discount_value="10"),
                line(description="Hosting", quantity="1", unit_price="30.5", unit="month"),
            ],
        },
    )

    assert response.status_code == 201, response.content
    body = response.json()
    estimate = Estimate.objects.get(pk=body["id"])
    first_line = estimate.lines.first()
    assert first_line is not None
    assert body | {"created_at": "", "updated_at": ""} == {
        "id": estimate.pk,
        "number": None,
        "status": "draft",
        "currency": "USD",
        "client": {"id": buyer.pk, "name": "Acme Corp"},
        "deal": {"id": deal.pk, "title": "Website"},
        "invoice": None,
        "notes": "Thanks!",
        "terms": "",
        "valid_until": "2030-01-31",
        "issue_date": None,
        "due_date": None,
        "lines": [
            {
                "id": first_line.pk,
                "position": 0,
                "service_id": None,
                "description": "Design",
                "quantity": "10",
                "unit": "hour",
                "unit_price": "100.00",
                "discount_kind": "percent",
                "discount_value": "10",
                "tax_rate_ids": [vat.pk],
                "net": "900.00",
                "tax": "171.00",
                "total": "1071.00",
            },
            body["lines"][1],
        ],
        "subtotal": "930.50",
        "discount_total": "100.00",
        "tax_total": "171.00",
        "total": "1101.50",
        "amount_paid": "0.00",
        "balance_due": "1101.50",
        "tax_breakdown": [
            {
                "name": "VAT",
                "percent": "19",
                "is_inclusive": False,
                "base": "900.00",
                "amount": "171.00",
            }
        ],
        "portal_url": None,
        "pdf_url": f"/api/v1/estimates/{estimate.pk}/pdf",
        "sent_at": None,
        "viewed_at": None,
        "approved_at": None,
        "declined_at": None,
        "decline_reason": "",
        "converted_at": None,
        "created_at": "",
        "updated_at": "",
    }
    assert (body["lines"][1]["unit"], body["lines"][1]["total"]) == ("month", "30.50")
    assert owner_api.get(f"/estimates/{estimate.pk}").json() == body


def test_an_estimate_from_a_deal_copies_its_client_and_lines_but_not_internal_notes(
    owner_api: ApiClient, buyer: Client, vat: TaxRate
) -> None:
    deal = DealFactory(client=buyer, notes="As discussed")
    DealLineFactory(deal=deal, description="Strategy", quantity=Decimal(2), tax_1=vat)
    DealLineFactory(deal=deal, description="Build", quantity=Decimal(5))

    response = owner_api.post("/estimates", {"from_deal_id": deal.pk})

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["client"]["id"], body["deal"]["id"], body["notes"]) == (
        buyer.pk,
        deal.pk,
        "",
    )
    assert [(li["description"], li["quantity"], li["tax_rate_ids"]) for li in body["lines"]] == [
        ("Strategy", "2", [vat.pk]),
        ("Build", "5", []),
    ]
    assert body["total"] == "738.00"


def test_from_deal_id_comes_alone_and_names_the_extra_fields(
    owner_api: ApiClient, buyer: Client
) -> None:
    deal = DealFactory(client=buyer)

    found = errors(
        owner_api.post("/estimates", {"from_deal_id": deal.pk, "client_id": buyer.pk, "notes": ""})
    )

    assert set(found) == {"client_id", "notes"}
    assert not Estimate.objects.exists()


def test_a_draft_estimate_is_updated_and_its_lines_replaced(
    owner_api: ApiClient, buyer: Client, draft: Callable[..., Estimate]
) -> None:
    estimate = draft(deal=DealFactory(client=buyer))

    patched = owner_api.patch(
        f"/estimates/{estimate.pk}",
        {"notes": "New notes", "terms": "Net 30", "valid_until": "2030-06-30", "deal_id": None},
    )
    replaced = owner_api.put(
        f"/estimates/{estimate.pk}/lines", {"lines": [line(quantity="2", unit_price="50")]}
    )

    assert patched.status_code == 200, patched.content
    assert (patched.json()["notes"], patched.json()["valid_until"], patched.json()["deal"]) == (
        "New notes",
        "2030-06-30",
        None,
    )
    assert replaced.status_code == 200, replaced.content
    assert [li["total"] for li in replaced.json()["lines"]] == ["100.00"]
    assert replaced.json()["total"] == "100.00"
    estimate.refresh_from_db()
    assert (estimate.terms, estimate.total_minor) == ("Net 30", 10000)


def test_a_draft_estimate_is_deleted(owner_api: ApiClient, draft: Callable[..., Estimate]) -> None:
    estimate = draft()

    assert owner_api.delete(f"/estimates/{estimate.pk}").status_code == 204
    assert not Estimate.objects.filter(pk=estimate.pk).exists()
    assert not EstimateLine.objects.filter(estimate_id=estimate.pk).exists()


# --- sending and conversion ---------------------------------------------------------------


def test_sending_numbers_the_estimate_and_queues_the_email_with_its_pdf(
    sales: Membership, api_as: Callable[[Membership], ApiClient], draft: Callable[..., Estimate]
) -> None:
    estimate = draft()

    response = api_as(sales).post(
        f"/estimates/{estimate.pk}/send",
        {"recipients": ["AP@client.example", "boss@client.example"], "message": "Here it is"},
    )

    assert response.status_code == 200, response.content
    body = response.json()
    today = clock.local_today(estimate.agency.timezone)
    assert body["status"] == "sent"
    assert body["number"] == f"EST-{today.year}-00001"
    assert body["issue_date"] == today.isoformat()
    assert body["sent_at"] is not None
    email = EmailMessage.objects.get()
    assert email.to == ["ap@client.example", "boss@client.example"]
    assert (email.attach_document_type, email.attach_document_id) == (
        "billing.estimate",
        estimate.pk,
    )
    assert "Here it is" in email_render(email).text
    # The API shows the very link the email carries, and that link opens this estimate.
    assert body["portal_url"] and body["portal_url"] in email_render(email).text
    token = body["portal_url"].rstrip("/").rsplit("/", 1)[1]
    link = portal_link_resolve(token)
    assert link is not None
    assert link.estimate_id == estimate.pk


def test_a_revoked_link_is_no_longer_shown(
    owner_api: ApiClient, draft: Callable[..., Estimate]
) -> None:
    estimate = estimate_send(estimate=draft(), actor=None, recipients=RECIPIENTS)
    assert owner_api.get(f"/estimates/{estimate.pk}").json()["portal_url"]
    portal_link_revoke(document=estimate, actor=None)
    assert owner_api.get(f"/estimates/{estimate.pk}").json()["portal_url"] is None


def test_a_sent_estimate_refuses_every_edit_and_nothing_changes(
    owner_api: ApiClient, draft: Callable[..., Estimate]
) -> None:
    estimate = estimate_send(estimate=draft(), actor=None, recipients=RECIPIENTS)
    before = snapshot(estimate)
    message = "This estimate is sent and can no longer be changed."

    answers = [
        owner_api.patch(f"/estimates/{estimate.pk}", {"notes": "Sneaky"}),
        owner_api.put(f"/estimates/{estimate.pk}/lines", {"lines": [line(unit_price="1")]}),
        owner_api.delete(f"/estimates/{estimate.pk}"),
    ]

    assert [(a.status_code, a.json()) for a in answers] == [(409, {"detail": message})] * 3
    assert snapshot(estimate) == before


def test_an_approved_estimate_converts_once_into_an_invoice(
    sales: Membership, api_as: Callable[[Membership], ApiClient], draft: Callable[..., Estimate]
) -> None:
    estimate = estimate_send(
        estimate=draft(notes="Bring snacks"), actor=None, recipients=RECIPIENTS
    )
    estimate_approve(estimate=estimate, name="Ann", ip="203.0.113.9", user_agent="test")
    api = api_as(sales)

    converted = api.post(f"/estimates/{estimate.pk}/convert")
    again = api.post(f"/estimates/{estimate.pk}/convert")

    assert converted.status_code == 201, converted.content
    invoice = converted.json()
    assert (invoice["status"], invoice["number"], invoice["notes"]) == (
        "draft",
        None,
        "Bring snacks",
    )
    assert invoice["estimate"] == {"id": estimate.pk, "number": estimate.number}
    assert (invoice["total"], [li["description"] for li in invoice["lines"]]) == (
        "1190.00",
        ["Design"],
    )
    assert invoice["pdf_url"] == f"/api/v1/invoices/{invoice['id']}/pdf"
    shown = api.get(f"/estimates/{estimate.pk}").json()
    assert (shown["status"], shown["invoice"]) == (
        "converted",
        {"id": invoice["id"], "number": None},
    )
    assert again.status_code == 409
    assert again.json() == {"detail": "A converted estimate cannot become converted."}
    assert Invoice.objects.count() == 1


@pytest.mark.parametrize("state", ["draft", "declined"])
def test_an_estimate_that_is_not_approved_cannot_be_converted(
    owner_api: ApiClient, draft: Callable[..., Estimate], state: str
) -> None:
    estimate = draft()
    if state == "declined":
        estimate = estimate_send(estimate=estimate, actor=None, recipients=RECIPIENTS)
        estimate_decline(estimate=estimate, reason="Too expensive")

    response = owner_api.post(f"/estimates/{estimate.pk}/convert")

    assert response.status_code == 409
    assert response.json() == {"detail": f"A {state} estimate cannot become converted."}
    assert not Invoice.objects.exists()
    estimate.refresh_from_db()
    assert estimate.status == state


def test_an_estimate_is_sent_to_valid_recipients_only(
    owner_api: ApiClient, draft: Callable[..., Estimate]
) -> None:
    estimate = draft()

    no_one = errors(owner_api.post(f"/estimates/{estimate.pk}/send", {"recipients": []}))
    bad = errors(owner_api.post(f"/estimates/{estimate.pk}/send", {"recipients": ["not-mail"]}))

    assert no_one == {"recipients": "Choose at least one recipient."}
    assert set(bad) == {"recipients[0]"}
    assert not EmailMessage.objects.exists()
    estimate.refresh_from_db()
    assert (estimate.status, estimate.number) == ("draft", "")


def test_an_estimate_sent_without_recipients_goes_to_the_clients_billing_addresses(
    owner_api: ApiClient, buyer: Client, draft: Callable[..., Estimate]
) -> None:
    buyer.billing_email = "ap@acme.example"
    buyer.save()
    ContactFactory(client=buyer, name="Bill", email="bill@acme.example", is_billing_contact=True)
    ContactFactory(client=buyer, name="Ceo", email="ceo@acme.example")
    estimate = draft()

    response = owner_api.post(f"/estimates/{estimate.pk}/send", {"message": "Here it is"})

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "sent"
    assert EmailMessage.objects.get().to == ["bill@acme.example", "ap@acme.example"]


def test_the_pdf_of_an_estimate_is_downloaded(
    owner_api: ApiClient, draft: Callable[..., Estimate]
) -> None:
    estimate = draft()

    response = owner_api.get(f"/estimates/{estimate.pk}/pdf")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert f'filename="draft-estimate-{estimate.pk}.pdf"' in response["Content-Disposition"]
    assert response.content.startswith(b"%PDF")


# --- lists --------------------------------------------------------------------------------


def test_estimates_are_filtered_by_status_client_deal_and_search(
    owner_api: ApiClient, agency: Agency, buyer: Client, draft: Callable[..., Estimate]
) -> None:
    deal = DealFactory(client=buyer)
    with_deal = draft(deal=deal)
    sent = estimate_send(estimate=draft(), actor=None, recipients=RECIPIENTS)
    globex = draft(client=ClientFactory(agency=agency, name="Globex"))

    def ids(**query: Any) -> set[int]:
        response = owner_api.get("/estimates", **query)
        assert response.status_code == 200, response.content
        return {item["id"] for item in response.json()["items"]}

    assert ids() == {with_deal.pk, sent.pk, globex.pk}
    assert ids(status="sent") == {sent.pk}
    assert ids(client_id=buyer.pk) == {with_deal.pk, sent.pk}
    assert ids(deal_id=deal.pk) == {with_deal.pk}
    assert ids(q="globex") == {globex.pk}
    # The number matches from its start, in any case.
    assert ids(q=sent.number.lower()[:-1]) == {sent.pk}
    assert "status" in errors(owner_api.get("/estimates", status="paid"))


def test_the_estimate_list_walks_forwards_and_backwards_with_cursors(
    owner_api: ApiClient, draft: Callable[..., Estimate]
) -> None:
    newest_first = [draft().pk for _ in range(5)][::-1]

    first = owner_api.get("/estimates", limit=2).json()
    second = owner_api.get("/estimates", limit=2, after=first["next_cursor"]).json()
    back = owner_api.get("/estimates", limit=2, before=second["previous_cursor"]).json()

    assert [item["id"] for item in first["items"]] == newest_first[:2]
    assert [item["id"] for item in second["items"]] == newest_first[2:4]
    assert back["items"] == first["items"]
    assert "after" in errors(owner_api.get("/estimates", after="forged"))


def add_estimates(agency: Agency, client: Client, vat: TaxRate, count: int) -> None:
    deal = Deal.objects.create(agency=agency, client=client, title=f"Deal {count}")
    created = clock.now() - dt.timedelta(days=1)
    estimates = Estimate.objects.bulk_create(
        Estimate(agency=agency, client=client, deal=deal, currency="USD", created_at=created)
        for _ in range(count)
    )
    EstimateLine.objects.bulk_create(
        EstimateLine(
            agency=agency,
            estimate=estimate,
            position=position,
            description="Work",
            quantity=Decimal(1),
            unit_price=Decimal(10),
            tax_1=vat,
        )
        for estimate in estimates
        for position in range(2)
    )


def test_the_estimate_list_costs_the_same_queries_for_10_and_1000_estimates(
    owner_api: ApiClient, agency: Agency, buyer: Client, vat: TaxRate
) -> None:
    def query_count() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = owner_api.get("/estimates", limit=200)
        assert response.status_code == 200, response.content
        assert response.json()["items"]
        return len(captured)

    add_estimates(agency, buyer, vat, 10)
    query_count()  # the first call records the token's use
    few = query_count()

    add_estimates(agency, buyer, vat, 990)

    assert query_count() == few
    assert few <= 4


# --- roles, tenancy and bad input ---------------------------------------------------------


def test_a_viewer_token_neither_reads_nor_writes_estimates(
    viewer: Membership,
    buyer: Client,
    draft: Callable[..., Estimate],
) -> None:
    """The role table bars viewers from API tokens, so one left from before is refused."""
    estimate = draft()
    api = ApiClient(unchecked_api_token(viewer)[1])

    assert api.get(f"/estimates/{estimate.pk}").status_code == 401
    assert api.get(f"/estimates/{estimate.pk}/pdf").status_code == 401
    refused = [
        api.post("/estimates", {"client_id": buyer.pk}),
        api.patch(f"/estimates/{estimate.pk}", {"notes": "x"}),
        api.put(f"/estimates/{estimate.pk}/lines", {"lines": [line()]}),
        api.post(f"/estimates/{estimate.pk}/send", {"recipients": RECIPIENTS}),
        api.post(f"/estimates/{estimate.pk}/convert"),
        api.delete(f"/estimates/{estimate.pk}"),
    ]
    assert [response.status_code for response in refused] == [401] * 6
    assert Estimate.objects.get().status == "draft"
    assert not EmailMessage.objects.exists()


def test_sales_creates_and_edits_estimates(
    sales: Membership, api_as: Callable[[Membership], ApiClient], buyer: Client
) -> None:
    api = api_as(sales)

    created = api.post("/estimates", {"client_id": buyer.pk, "lines": [line()]})
    edited = api.patch(f"/estimates/{created.json()['id']}", {"notes": "Hi"})

    assert (created.status_code, edited.status_code) == (201, 200)
    assert Estimate.objects.get().created_by == sales.user


def test_another_agencys_estimate_is_not_found(
    outsider: Membership, api_as: Callable[[Membership], ApiClient], draft: Callable[..., Estimate]
) -> None:
    estimate = draft()
    api = api_as(outsider)

    answers = [
        api.get(f"/estimates/{estimate.pk}"),
        api.get(f"/estimates/{estimate.pk}/pdf"),
        api.patch(f"/estimates/{estimate.pk}", {"notes": "x"}),
        api.put(f"/estimates/{estimate.pk}/lines", {"lines": [line()]}),
        api.post(f"/estimates/{estimate.pk}/send", {"recipients": RECIPIENTS}),
        api.post(f"/estimates/{estimate.pk}/convert"),
        api.delete(f"/estimates/{estimate.pk}"),
    ]

    assert [response.status_code for response in answers] == [404] * 7
    assert api.get("/estimates").json()["items"] == []
    assert snapshot(estimate)[:3] == ("draft", "", "")


def test_an_estimate_cannot_use_another_agencys_client_or_deal(
    owner_api: ApiClient, buyer: Client, outsider: Membership
) -> None:
    theirs = DealFactory(client__agency=outsider.agency)
    other_client_deal = DealFactory(client__agency=buyer.agency)

    assert errors(owner_api.post("/estimates", {"client_id": theirs.client_id})) == {
        "client_id": "Choose a client of your agency."
    }
    assert errors(owner_api.post("/estimates", {"from_deal_id": theirs.pk})) == {
        "from_deal_id": "Choose a deal of your agency."
    }
    assert errors(
        owner_api.post("/estimates", {"client_id": buyer.pk, "deal_id": other_client_deal.pk})
    ) == {"deal_id": "Choose a deal of this client."}
    assert errors(owner_api.post("/estimates", {})) == {
        "client_id": "Choose a client, or send from_deal_id."
    }
    assert not Estimate.objects.exists()


@pytest.mark.parametrize(
    ("bad_line", "field"),
    [
        ({"description": "  "}, "lines[1].description"),
        ({"quantity": "0"}, "lines[1].quantity"),
        ({"quantity": "-2"}, "lines[1].quantity"),
        ({"unit_price": "-1"}, "lines[1].unit_price"),
        ({"tax_rate_ids": [2**40]}, "lines[1].tax_rate_ids"),
        ({"discount_kind": "percent", "discount_value": "101"}, "lines[1].discount_value"),
    ],
)
def test_a_bad_line_is_refused_by_name_and_nothing_changes(
    owner_api: ApiClient,
    buyer: Client,
    draft: Callable[..., Estimate],
    bad_line: dict[str, Any],
    field: str,
) -> None:
    estimate = draft()
    before = snapshot(estimate)
    lines = [line(), line(**bad_line)]

    replaced = owner_api.put(f"/estimates/{estimate.pk}/lines", {"lines": lines})
    created = owner_api.post("/estimates", {"client_id": buyer.pk, "lines": lines})

    assert field in errors(replaced)
    assert field in errors(created)
    assert snapshot(estimate) == before
    assert Estimate.objects.count() == 1


def test_another_agencys_tax_rate_is_an_unknown_tax_rate(
    owner_api: ApiClient, draft: Callable[..., Estimate], outsider: Membership
) -> None:
    estimate = draft()
    foreign = TaxRateFactory(agency=outsider.agency)

    response = owner_api.put(
        f"/estimates/{estimate.pk}/lines", {"lines": [line(tax_rate_ids=[foreign.pk])]}
    )

    assert errors(response) == {"lines[0].tax_rate_ids": "Choose tax rates of your agency."}
    assert estimate.lines.get().tax_1_id is not None


def test_an_estimate_cannot_be_sent_with_a_validity_date_in_the_past(
    owner_api: ApiClient, draft: Callable[..., Estimate]
) -> None:
    estimate = draft(valid_until=dt.date(2000, 1, 1))

    response = owner_api.post(f"/estimates/{estimate.pk}/send", {"recipients": RECIPIENTS})

    assert errors(response) == {"valid_until": "The validity date is in the past."}
    estimate.refresh_from_db()
    assert (estimate.status, estimate.number) == (EstimateStatus.DRAFT, "")
    assert not EmailMessage.objects.exists()


def test_a_validity_date_outside_the_date_window_is_refused(
    owner_api: ApiClient, buyer: Client, draft: Callable[..., Estimate]
) -> None:
    estimate = draft()
    expected = {"valid_until": f"Enter a date from 2000 to {clock.now().year + 10}."}

    created = owner_api.post("/estimates", {"client_id": buyer.pk, "valid_until": "3000-01-01"})
    patched = owner_api.patch(f"/estimates/{estimate.pk}", {"valid_until": "0001-01-01"})

    assert errors(created) == expected
    assert errors(patched) == expected
    assert Estimate.objects.get().valid_until is None
