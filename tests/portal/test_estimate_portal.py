"""A client answers an estimate through its link: view, approve, decline."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.db import connection
from django.test import Client as HttpClient
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pytest_django import Settings

from clientledger.accounts.models import Agency, Membership
from clientledger.accounts.roles import Role
from clientledger.billing.models import Estimate, EstimateStatus, Invoice
from clientledger.billing.selectors import portal_link_resolve
from clientledger.billing.services.estimates import estimates_expire_due
from clientledger.core import clock
from clientledger.core.models import AuditEvent
from clientledger.portal import ratelimit
from clientledger.portal.services import LAST_VIEW_PRECISION
from tests.factories import AgencyFactory
from tests.portal.conftest import SentEstimate, deal_with_lines

pytestmark = pytest.mark.django_db


def page(token: str) -> str:
    return reverse("portal:document", args=[token])


def approve_url(token: str) -> str:
    return reverse("portal:approve", args=[token])


def decline_url(token: str) -> str:
    return reverse("portal:decline", args=[token])


def test_the_estimate_page_looks_like_the_document(sent_estimate: SentEstimate) -> None:
    estimate, token = sent_estimate(lines=2)

    response = HttpClient().get(page(token))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Northwind Studio" in html
    assert estimate.number in html
    assert estimate.client.name in html
    assert "Design sprint 1" in html and "Design sprint 2" in html
    assert "$2,000.00" in html
    assert "Approve estimate" in html and "Decline estimate" in html


def test_the_first_view_sets_viewed_at_once(sent_estimate: SentEstimate) -> None:
    estimate, token = sent_estimate()
    http = HttpClient()

    http.get(page(token))
    first_view = Estimate.objects.get(pk=estimate.pk).viewed_at
    http.get(page(token))

    assert first_view is not None
    assert Estimate.objects.get(pk=estimate.pk).viewed_at == first_view
    assert AuditEvent.objects.filter(verb="estimate.viewed", subject_id=estimate.pk).count() == 1


def test_the_links_last_view_is_written_on_the_first_view_then_at_most_every_interval(
    sent_estimate: SentEstimate, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, token = sent_estimate()
    start = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)

    def view_at(moment: dt.datetime) -> tuple[int, dt.datetime | None]:
        monkeypatch.setattr(clock, "now", lambda: moment)
        with CaptureQueriesContext(connection) as captured:
            assert HttpClient().get(page(token)).status_code == 200
        writes = [q for q in captured if q["sql"].startswith('UPDATE "billing_portallink"')]
        link = portal_link_resolve(token)
        assert link is not None
        return len(writes), link.last_viewed_at

    assert view_at(start) == (1, start)
    assert view_at(start + dt.timedelta(minutes=5)) == (0, start)
    assert view_at(start + LAST_VIEW_PRECISION - dt.timedelta(seconds=1)) == (0, start)
    later = start + LAST_VIEW_PRECISION
    assert view_at(later) == (1, later)


def test_a_team_member_previewing_the_link_does_not_count_as_the_clients_view(
    sent_estimate: SentEstimate,
    member_of: Callable[[Agency, str], Membership],
    login: Callable[[Membership], HttpClient],
) -> None:
    estimate, token = sent_estimate()
    colleague = login(member_of(estimate.agency, Role.SALES))

    response = colleague.get(page(token))

    assert "You are previewing the page your client sees" in response.content.decode()
    assert Estimate.objects.get(pk=estimate.pk).viewed_at is None


def test_approving_records_the_name_time_address_and_browser(sent_estimate: SentEstimate) -> None:
    estimate, token = sent_estimate()
    http = HttpClient(HTTP_USER_AGENT="Mozilla/5.0 (Portal test)", REMOTE_ADDR="198.51.100.7")

    response = http.post(approve_url(token), {"name": "Ada Lovelace"}, follow=True)

    estimate.refresh_from_db()
    assert estimate.status == EstimateStatus.APPROVED
    assert estimate.approved_name == "Ada Lovelace"
    assert estimate.approved_ip == "198.51.100.7"
    assert estimate.approved_user_agent == "Mozilla/5.0 (Portal test)"
    assert estimate.approved_at is not None
    html = response.content.decode()
    assert response.redirect_chain == [(page(token), 302)]
    assert "Thank you! The estimate is approved." in html
    assert "Approve estimate" not in html


def test_approving_needs_no_name(sent_estimate: SentEstimate) -> None:
    estimate, token = sent_estimate()

    HttpClient().post(approve_url(token))

    estimate.refresh_from_db()
    assert (estimate.status, estimate.approved_name) == (EstimateStatus.APPROVED, "")


def test_a_forwarded_address_is_ignored_unless_behind_a_proxy(sent_estimate: SentEstimate) -> None:
    estimate, token = sent_estimate()

    HttpClient().post(approve_url(token), HTTP_X_FORWARDED_FOR="203.0.113.9")

    estimate.refresh_from_db()
    assert estimate.approved_ip == "127.0.0.1"


def test_behind_a_proxy_the_address_it_appended_is_recorded(
    sent_estimate: SentEstimate, settings: Settings
) -> None:
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    estimate, token = sent_estimate()

    # The first entry is whatever the browser claimed; the proxy appended the last one.
    HttpClient().post(approve_url(token), HTTP_X_FORWARDED_FOR="10.9.9.9, 203.0.113.9")

    estimate.refresh_from_db()
    assert estimate.approved_ip == "203.0.113.9"


def test_approving_twice_shows_a_message_and_changes_nothing(sent_estimate: SentEstimate) -> None:
    estimate, token = sent_estimate()
    http = HttpClient()
    http.post(approve_url(token), {"name": "Ada"})
    first = Estimate.objects.get(pk=estimate.pk)

    response = http.post(approve_url(token), {"name": "Mallory"}, follow=True)

    again = Estimate.objects.get(pk=estimate.pk)
    assert (again.approved_name, again.approved_at) == ("Ada", first.approved_at)
    assert response.status_code == 200
    assert "cannot become approved" in response.content.decode()


def test_a_hundred_approvals_with_one_token_approve_once(
    sent_estimate: SentEstimate, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ratelimit, "POSTS_PER_TOKEN", ratelimit.Limit("token-post", 1000, 60))
    agency = AgencyFactory(auto_convert_approved_estimates=True)
    estimate, token = sent_estimate(deal_with_lines(agency))
    http = HttpClient()

    statuses = {http.post(approve_url(token), {"name": f"Try {n}"}).status_code for n in range(100)}

    assert statuses == {302}
    assert AuditEvent.objects.filter(verb="estimate.approved", subject_id=estimate.pk).count() == 1
    assert Invoice.objects.filter(estimate=estimate).count() == 1
    assert Estimate.objects.get(pk=estimate.pk).approved_name == "Try 0"


def test_an_auto_converted_estimate_just_shows_approved(sent_estimate: SentEstimate) -> None:
    estimate, token = sent_estimate(
        deal_with_lines(AgencyFactory(auto_convert_approved_estimates=True))
    )

    response = HttpClient().post(approve_url(token), follow=True)

    assert Estimate.objects.get(pk=estimate.pk).status == EstimateStatus.CONVERTED
    html = response.content.decode()
    assert "Approved on" in html and "Approve estimate" not in html


def test_a_name_longer_than_the_record_allows_is_refused(sent_estimate: SentEstimate) -> None:
    estimate, token = sent_estimate()

    response = HttpClient().post(approve_url(token), {"name": "A" * 151})

    assert response.status_code == 400
    assert "at most 150 characters" in response.content.decode()
    assert Estimate.objects.get(pk=estimate.pk).status == EstimateStatus.SENT


def test_declining_records_the_reason(sent_estimate: SentEstimate) -> None:
    estimate, token = sent_estimate()

    response = HttpClient().post(decline_url(token), {"reason": "Over budget"}, follow=True)

    estimate.refresh_from_db()
    assert (estimate.status, estimate.decline_reason) == (EstimateStatus.DECLINED, "Over budget")
    html = response.content.decode()
    assert "The estimate is declined." in html
    assert "This estimate was declined on" in html and "Approve estimate" not in html


def test_a_decline_reason_over_2000_characters_is_refused_and_changes_nothing(
    sent_estimate: SentEstimate,
) -> None:
    estimate, token = sent_estimate()

    response = HttpClient().post(decline_url(token), {"reason": "x" * 2001})

    assert response.status_code == 400
    assert "at most 2000 characters" in response.content.decode()
    assert Estimate.objects.get(pk=estimate.pk).status == EstimateStatus.SENT


def test_a_declined_estimate_cannot_be_approved(sent_estimate: SentEstimate) -> None:
    estimate, token = sent_estimate()
    http = HttpClient()
    http.post(decline_url(token))

    response = http.post(approve_url(token), follow=True)

    assert Estimate.objects.get(pk=estimate.pk).status == EstimateStatus.DECLINED
    assert "cannot become approved" in response.content.decode()


def test_an_expired_estimate_shows_its_state_and_refuses_approval(
    sent_estimate: SentEstimate,
) -> None:
    estimate, token = sent_estimate()
    estimates_expire_due(as_of=clock.now() + dt.timedelta(days=45))
    http = HttpClient()

    html = http.get(page(token)).content.decode()
    response = http.post(approve_url(token), follow=True)

    assert "can no longer be approved" in html and "Approve estimate" not in html
    assert Estimate.objects.get(pk=estimate.pk).status == EstimateStatus.EXPIRED
    assert "cannot become approved" in response.content.decode()


def test_an_estimate_past_its_date_is_expired_before_the_sweep_runs(
    sent_estimate: SentEstimate,
) -> None:
    estimate, token = sent_estimate()
    yesterday = clock.local_today(estimate.agency.timezone) - dt.timedelta(days=1)
    Estimate.objects.filter(pk=estimate.pk).update(valid_until=yesterday)
    http = HttpClient()

    html = http.get(page(token)).content.decode()
    response = http.post(approve_url(token), follow=True)

    assert "Expired" in html and "Approve estimate" not in html
    assert Estimate.objects.get(pk=estimate.pk).status == EstimateStatus.SENT
    assert "This estimate has expired" in response.content.decode()


def test_the_forms_need_the_csrf_token_the_page_sets(sent_estimate: SentEstimate) -> None:
    estimate, token = sent_estimate()
    http = HttpClient(enforce_csrf_checks=True)

    refused = http.post(approve_url(token))
    http.get(page(token))
    accepted = http.post(
        approve_url(token), {"csrfmiddlewaretoken": http.cookies["csrftoken"].value}
    )

    assert (refused.status_code, accepted.status_code) == (403, 302)
    assert Estimate.objects.get(pk=estimate.pk).status == EstimateStatus.APPROVED
