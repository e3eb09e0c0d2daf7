"""Who a portal link lets in, what it shows, and how hard it can be hammered."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pytest_django import Settings

from clientledger.billing.models import Estimate, EstimateStatus
from clientledger.billing.services.drafts import estimate_create_from_deal
from clientledger.billing.services.portal_links import portal_link_create, portal_link_revoke
from clientledger.core import clock
from clientledger.portal import ratelimit
from tests.factories import AgencyFactory, ClientFactory
from tests.portal.conftest import IssuedInvoice, SentEstimate, deal_with_lines

pytestmark = pytest.mark.django_db

XSS = '<script>alert("owned")</script>'
ESCAPED_XSS = "&lt;script&gt;alert(&quot;owned&quot;)&lt;/script&gt;"


@pytest.mark.parametrize("name", ["document", "approve", "decline", "pdf"])
def test_an_unknown_token_is_a_plain_404_on_every_portal_url(db: None, name: str) -> None:
    url = reverse(f"portal:{name}", args=["x" * 43])
    response = HttpClient().post(url) if name in ("approve", "decline") else HttpClient().get(url)

    assert response.status_code == 404


def test_a_revoked_token_is_a_404(sent_estimate: SentEstimate) -> None:
    estimate, token = sent_estimate()
    portal_link_revoke(document=estimate, actor=None)

    assert HttpClient().get(reverse("portal:document", args=[token])).status_code == 404
    assert HttpClient().post(reverse("portal:approve", args=[token])).status_code == 404
    assert Estimate.objects.get(pk=estimate.pk).status == EstimateStatus.SENT


def test_a_draft_is_never_shown(db: None) -> None:
    draft = estimate_create_from_deal(deal=deal_with_lines(), actor=None)
    _, token = portal_link_create(document=draft, actor=None)

    for name in ("document", "pdf"):
        assert HttpClient().get(reverse(f"portal:{name}", args=[token])).status_code == 404
    assert HttpClient().post(reverse("portal:approve", args=[token])).status_code == 404
    assert Estimate.objects.get(pk=draft.pk).status == EstimateStatus.DRAFT


def test_a_token_opens_its_own_document_and_no_other(
    sent_estimate: SentEstimate, issued_invoice: IssuedInvoice
) -> None:
    agency = AgencyFactory()
    ours, our_token = sent_estimate(deal_with_lines(agency))
    theirs, _ = sent_estimate(deal_with_lines(agency))
    invoice, invoice_token = issued_invoice(deal_with_lines(agency))
    http = HttpClient()

    ours_html = http.get(reverse("portal:document", args=[our_token])).content.decode()
    invoice_html = http.get(reverse("portal:document", args=[invoice_token])).content.decode()
    http.post(reverse("portal:approve", args=[our_token]))

    assert ours.number in ours_html and theirs.number not in ours_html
    assert invoice.number in invoice_html and ours.number not in invoice_html
    assert Estimate.objects.get(pk=theirs.pk).status == EstimateStatus.SENT
    assert Estimate.objects.get(pk=ours.pk).status == EstimateStatus.APPROVED


def test_an_invoice_token_cannot_approve_or_decline_anything(issued_invoice: IssuedInvoice) -> None:
    _, token = issued_invoice()

    assert HttpClient().post(reverse("portal:approve", args=[token])).status_code == 404
    assert HttpClient().post(reverse("portal:decline", args=[token])).status_code == 404


def test_answers_must_be_posted(sent_estimate: SentEstimate) -> None:
    estimate, token = sent_estimate()

    assert HttpClient().get(reverse("portal:approve", args=[token])).status_code == 405
    assert Estimate.objects.get(pk=estimate.pk).status == EstimateStatus.SENT


def test_html_in_client_names_notes_and_lines_is_escaped(sent_estimate: SentEstimate) -> None:
    agency = AgencyFactory(name=f"Studio {XSS}")
    client = ClientFactory(agency=agency, name=f"Client {XSS}", address_line1=XSS)
    deal = deal_with_lines(agency, client=client)
    deal.lines.update(description=f"Line {XSS}")
    estimate, token = sent_estimate(deal)
    Estimate.objects.filter(pk=estimate.pk).update(notes=f"Notes {XSS}")

    html = HttpClient().get(reverse("portal:document", args=[token])).content.decode()

    assert "<script>" not in html
    assert f"Client {ESCAPED_XSS}" in html
    assert f"Notes {ESCAPED_XSS}" in html
    assert f"Line {ESCAPED_XSS}" in html
    assert f"Studio {ESCAPED_XSS}" in html


def test_a_tampered_brand_colour_cannot_inject_css(sent_estimate: SentEstimate) -> None:
    estimate, token = sent_estimate()
    snapshot = {**estimate.seller_snapshot, "brand_color": "red;}body{display:none"}
    Estimate.objects.filter(pk=estimate.pk).update(seller_snapshot=snapshot)

    html = HttpClient().get(reverse("portal:document", args=[token])).content.decode()

    assert "display:none" not in html
    assert "--cl-brand: #1F6FEB;" in html


@pytest.mark.parametrize("name", ["document", "pdf"])
def test_portal_responses_keep_the_token_out_of_indexes_referrers_and_caches(
    sent_estimate: SentEstimate, name: str
) -> None:
    _, token = sent_estimate()

    response = HttpClient().get(reverse(f"portal:{name}", args=[token]))

    assert response.status_code == 200
    assert response["X-Robots-Tag"] == "noindex"
    assert response["Referrer-Policy"] == "strict-origin"
    assert "no-store" in response["Cache-Control"]


def test_the_document_page_runs_the_same_queries_for_2_and_40_lines(
    sent_estimate: SentEstimate, issued_invoice: IssuedInvoice
) -> None:
    def queries(token: str) -> int:
        http = HttpClient()
        http.get(reverse("portal:document", args=[token]))  # the first view writes viewed_at
        with CaptureQueriesContext(connection) as captured:
            assert http.get(reverse("portal:document", args=[token])).status_code == 200
        return len(captured)

    short_estimate, long_estimate = sent_estimate(lines=2)[1], sent_estimate(lines=40)[1]
    short_invoice, long_invoice = issued_invoice(lines=2)[1], issued_invoice(lines=40)[1]

    assert queries(short_estimate) == queries(long_estimate) <= 4
    # An invoice also reads its payment state (pending, disputed) and the payments received.
    assert queries(short_invoice) == queries(long_invoice) <= 6


def fixed_time(monkeypatch: pytest.MonkeyPatch, seconds_into_minute: int) -> None:
    moment = dt.datetime(2026, 3, 2, 9, 30, seconds_into_minute, tzinfo=dt.UTC)
    monkeypatch.setattr(clock, "now", lambda: moment)


def test_an_office_behind_one_address_is_not_refused_for_reading_its_links(
    sent_estimate: SentEstimate, issued_invoice: IssuedInvoice, monkeypatch: pytest.MonkeyPatch
) -> None:
    urls = [reverse("portal:document", args=[sent_estimate()[1]])]
    urls.append(reverse("portal:document", args=[issued_invoice()[1]]))
    fixed_time(monkeypatch, 15)
    office = HttpClient(REMOTE_ADDR="203.0.113.50")

    statuses = [office.get(urls[n % 2]).status_code for n in range(150)]

    assert set(statuses) == {200}


def test_a_link_hammered_past_its_own_limit_gets_429_and_other_links_do_not(
    sent_estimate: SentEstimate, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ratelimit, "REQUESTS_PER_TOKEN", ratelimit.Limit("token", 5, 60))
    hammered = reverse("portal:document", args=[sent_estimate()[1]])
    other = reverse("portal:document", args=[sent_estimate()[1]])
    fixed_time(monkeypatch, 15)

    statuses = [
        HttpClient(REMOTE_ADDR=f"198.51.100.{n}").get(hammered).status_code for n in range(5)
    ]
    limited = HttpClient(REMOTE_ADDR="198.51.100.99").get(hammered)

    assert set(statuses) == {200}
    assert (limited.status_code, limited["Retry-After"]) == (429, "45")
    assert "Too many requests" in limited.content.decode()
    assert HttpClient(REMOTE_ADDR="198.51.100.99").get(other).status_code == 200


def test_guessing_links_blocks_the_address_for_ten_minutes_even_for_a_live_link(
    sent_estimate: SentEstimate, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, token = sent_estimate()
    fixed_time(monkeypatch, 0)
    guesser = HttpClient(REMOTE_ADDR="203.0.113.66")

    statuses = [
        guesser.get(reverse("portal:document", args=[f"guess-{n}"])).status_code
        for n in range(ratelimit.GUESSES_PER_CLIENT.requests)
    ]
    blocked = guesser.get(reverse("portal:document", args=[token]))
    elsewhere = HttpClient(REMOTE_ADDR="198.51.100.20").get(
        reverse("portal:document", args=[token])
    )

    assert set(statuses) == {404}
    # A 200 among 429s would tell the guesser its guess was right.
    assert (blocked.status_code, blocked["Retry-After"]) == (429, "600")
    assert elsewhere.status_code == 200


def test_with_per_process_counters_each_worker_grants_its_share(
    sent_estimate: SentEstimate, monkeypatch: pytest.MonkeyPatch, settings: Settings
) -> None:
    settings.WEB_CONCURRENCY = 2
    monkeypatch.setattr(ratelimit, "REQUESTS_PER_TOKEN", ratelimit.Limit("token", 6, 60))
    url = reverse("portal:document", args=[sent_estimate()[1]])
    fixed_time(monkeypatch, 15)

    statuses = [HttpClient().get(url).status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]


def test_more_than_10_posts_a_minute_to_one_token_get_429(
    sent_estimate: SentEstimate, monkeypatch: pytest.MonkeyPatch
) -> None:
    estimate, token = sent_estimate()
    fixed_time(monkeypatch, 30)
    url = reverse("portal:decline", args=[token])

    # From ten addresses: the token's own limit applies whoever sends.
    statuses = [
        HttpClient(REMOTE_ADDR=f"198.51.100.{n}").post(url, {"reason": "x" * 2001}).status_code
        for n in range(10)
    ]
    limited = HttpClient(REMOTE_ADDR="198.51.100.99").post(url, {"reason": "No"})

    assert set(statuses) == {400}
    assert (limited.status_code, limited["Retry-After"]) == (429, "30")
    assert Estimate.objects.get(pk=estimate.pk).status == EstimateStatus.SENT


def test_the_limit_opens_again_in_the_next_minute(
    sent_estimate: SentEstimate, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, token = sent_estimate()
    monkeypatch.setattr(ratelimit, "REQUESTS_PER_TOKEN", ratelimit.Limit("token", 1, 60))
    url = reverse("portal:document", args=[token])
    http = HttpClient()

    fixed_time(monkeypatch, 58)
    first, second = http.get(url).status_code, http.get(url).status_code
    monkeypatch.setattr(clock, "now", lambda: dt.datetime(2026, 3, 2, 9, 31, 1, tzinfo=dt.UTC))

    assert (first, second, http.get(url).status_code) == (200, 429, 200)
