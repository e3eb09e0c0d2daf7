"""A team member opening a client's link previews it: the page shows what the client sees,
but nobody signed in to the document's agency approves, declines or pays for the client."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from clientledger.accounts.models import Agency, Membership
from clientledger.accounts.roles import Role
from clientledger.billing.models import Estimate, EstimateStatus
from clientledger.billing.services.portal_links import portal_link_create
from clientledger.core.models import AuditEvent
from tests.factories import ClientFactory, MembershipFactory
from tests.payments.conftest import issue_invoice
from tests.payments.stripe_fake import FakeStripe, fake_stripe
from tests.portal.conftest import SentEstimate

pytestmark = pytest.mark.django_db
__all__ = ["fake_stripe"]

PREVIEW_ONLY = "Only your client can"
REFUSED = "You are signed in to"


@pytest.fixture
def colleague(
    member_of: Callable[[Agency, str], Membership], login: Callable[[Membership], HttpClient]
) -> Callable[[Agency, str], HttpClient]:
    def sign_in(agency: Agency, role: str) -> HttpClient:
        return login(member_of(agency, role))

    return sign_in


def test_a_preview_shows_the_answer_buttons_disabled(
    sent_estimate: SentEstimate, colleague: Callable[[Agency, str], HttpClient]
) -> None:
    estimate, token = sent_estimate()

    html = (
        colleague(estimate.agency, Role.VIEWER)
        .get(reverse("portal:document", args=[token]))
        .content.decode()
    )

    assert PREVIEW_ONLY in html
    assert reverse("portal:approve", args=[token]) not in html
    assert reverse("portal:decline", args=[token]) not in html
    assert "Approve estimate" in html and "disabled" in html


@pytest.mark.parametrize("role", [Role.VIEWER, Role.OWNER])
@pytest.mark.parametrize("answer", ["approve", "decline"])
def test_a_team_member_cannot_answer_an_estimate_as_the_client(
    sent_estimate: SentEstimate,
    colleague: Callable[[Agency, str], HttpClient],
    answer: str,
    role: str,
) -> None:
    estimate, token = sent_estimate()

    response = colleague(estimate.agency, role).post(
        reverse(f"portal:{answer}", args=[token]), {"name": "Not the client", "reason": "No"}
    )

    assert response.status_code == 403
    assert REFUSED in response.content.decode()
    assert Estimate.objects.get(pk=estimate.pk).status == EstimateStatus.SENT
    assert not AuditEvent.objects.filter(verb=f"estimate.{answer}d").exists()


def test_a_member_of_another_agency_answers_like_any_client(
    sent_estimate: SentEstimate, colleague: Callable[[Agency, str], HttpClient]
) -> None:
    estimate, token = sent_estimate()
    elsewhere = MembershipFactory(role=Role.OWNER).agency

    response = colleague(elsewhere, Role.SALES).post(
        reverse("portal:approve", args=[token]), {"name": "Client who uses ClientLedger too"}
    )

    assert response.status_code == 302
    assert Estimate.objects.get(pk=estimate.pk).status == EstimateStatus.APPROVED


def test_a_team_member_cannot_pay_for_the_client(
    fake_stripe: FakeStripe, colleague: Callable[[Agency, str], HttpClient]
) -> None:
    invoice = issue_invoice(ClientFactory(), "100.00")
    _, token = portal_link_create(document=invoice, actor=None)
    http = colleague(invoice.agency, Role.FINANCE)

    html = http.get(reverse("portal:document", args=[token])).content.decode()
    response = http.post(reverse("portal:pay", args=[token]), {"method": "card"})

    assert reverse("portal:pay", args=[token]) not in html
    assert response.status_code == 403
    assert REFUSED in response.content.decode()
    assert fake_stripe.requests == []
