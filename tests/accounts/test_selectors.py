"""Reads behind the team and API token pages, each scoped to the agency it is given."""

from __future__ import annotations

import datetime as dt

import pytest

from clientledger.accounts.models import Invitation, Membership
from clientledger.accounts.roles import Role
from clientledger.accounts.selectors import api_token_list, invitation_pending_list, member_list
from clientledger.accounts.services import api_token_create, invitation_revoke, user_invite
from clientledger.core import clock

pytestmark = pytest.mark.django_db


def test_the_member_list_searches_names_and_emails_and_filters_by_role(
    owner: Membership, sales: Membership, viewer: Membership, outsider: Membership
) -> None:
    agency = owner.agency

    assert set(member_list(agency=agency)) == {owner, sales, viewer}
    assert list(member_list(agency=agency, search=sales.user.email.upper())) == [sales]
    assert list(member_list(agency=agency, role=Role.VIEWER)) == [viewer]
    # An unknown role is no filter rather than an empty page.
    assert set(member_list(agency=agency, role="pirate")) == {owner, sales, viewer}


def test_pending_invitations_leave_out_revoked_and_expired_ones(
    owner: Membership, outsider: Membership
) -> None:
    agency, actor = owner.agency, owner.user
    pending, _ = user_invite(agency=agency, actor=actor, email="new@example.com", role=Role.SALES)
    revoked, _ = user_invite(agency=agency, actor=actor, email="gone@example.com", role=Role.SALES)
    invitation_revoke(invitation=revoked, actor=actor)
    expired, _ = user_invite(agency=agency, actor=actor, email="late@example.com", role=Role.SALES)
    Invitation.objects.filter(pk=expired.pk).update(expires_at=clock.now() - dt.timedelta(1))
    user_invite(
        agency=outsider.agency, actor=outsider.user, email="other@example.com", role=Role.SALES
    )

    assert list(invitation_pending_list(agency=agency)) == [pending]


def test_the_token_list_shows_only_the_users_own_tokens(
    owner: Membership, sales: Membership
) -> None:
    mine, _ = api_token_create(user=sales.user, name="Mine")
    api_token_create(user=owner.user, name="The owner's")

    assert list(api_token_list(agency=sales.agency, user=sales.user)) == [mine]
