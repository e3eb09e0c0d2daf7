from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client as HttpClient
from django.urls import reverse

from clientledger.accounts.models import ApiToken, Membership
from clientledger.accounts.roles import Role
from clientledger.accounts.services import api_token_create, user_invite
from clientledger.core.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("persona", ["owner", "admin", "finance", "sales", "viewer"])
def test_every_member_sees_the_team_and_pending_invitations(
    persona: str,
    owner: Membership,
    request: pytest.FixtureRequest,
    login: Callable[[Membership], HttpClient],
) -> None:
    user_invite(agency=owner.agency, actor=owner.user, email="pending@example.com", role="sales")

    response = login(request.getfixturevalue(persona)).get(reverse("accounts:member_list"))

    assert response.status_code == 200
    assert owner in response.context["page"].items
    assert [i.email for i in response.context["invitations"]] == ["pending@example.com"]
    assert ('id="invite"' in response.content.decode()) == (persona == "owner")


def test_the_team_list_leaves_out_other_agencies(
    owner: Membership, outsider: Membership, login: Callable[[Membership], HttpClient]
) -> None:
    response = login(owner).get(reverse("accounts:member_list"))

    assert response.context["page"].items == [owner]


def test_the_team_can_be_searched_and_filtered_by_role(
    owner: Membership,
    sales: Membership,
    viewer: Membership,
    login: Callable[[Membership], HttpClient],
) -> None:
    http = login(owner)

    by_email = http.get(reverse("accounts:member_list"), {"q": sales.user.email.upper()})
    by_role = http.get(reverse("accounts:member_list"), {"role": Role.VIEWER})

    assert by_email.context["page"].items == [sales]
    assert by_role.context["page"].items == [viewer]


def test_the_owner_changes_a_members_role(
    owner: Membership, sales: Membership, login: Callable[[Membership], HttpClient]
) -> None:
    response = login(owner).post(
        reverse("accounts:member_change_role", args=[sales.pk]), {"role": Role.FINANCE}
    )

    assert response.status_code == 302
    sales.refresh_from_db()
    assert sales.role == Role.FINANCE
    assert AuditEvent.objects.filter(verb="member.role_changed", subject_id=sales.pk).exists()


def test_the_owners_role_cannot_be_changed(
    owner: Membership, login: Callable[[Membership], HttpClient]
) -> None:
    response = login(owner).post(
        reverse("accounts:member_change_role", args=[owner.pk]), {"role": Role.ADMIN}
    )

    assert response.status_code == 400
    assert response.context["row_errors"] == {
        owner.pk: ["The owner's role cannot be changed here."]
    }
    owner.refresh_from_db()
    assert owner.role == Role.OWNER


def test_nobody_can_be_promoted_to_owner(
    owner: Membership, admin: Membership, login: Callable[[Membership], HttpClient]
) -> None:
    response = login(owner).post(
        reverse("accounts:member_change_role", args=[admin.pk]), {"role": Role.OWNER}
    )

    assert response.status_code == 400
    assert admin.pk in response.context["row_errors"]
    admin.refresh_from_db()
    assert admin.role == Role.ADMIN


def test_an_admin_cannot_change_roles(
    admin: Membership, sales: Membership, login: Callable[[Membership], HttpClient]
) -> None:
    response = login(admin).post(
        reverse("accounts:member_change_role", args=[sales.pk]), {"role": Role.FINANCE}
    )

    assert response.status_code == 403
    sales.refresh_from_db()
    assert sales.role == Role.SALES


def test_the_owner_deactivates_a_member_and_their_tokens_stop(
    owner: Membership, sales: Membership, login: Callable[[Membership], HttpClient]
) -> None:
    api_token_create(user=sales.user, name="Zapier")

    response = login(owner).post(reverse("accounts:member_deactivate", args=[sales.pk]))

    assert response.status_code == 302
    sales.user.refresh_from_db()
    assert not sales.user.is_active
    assert not ApiToken.objects.filter(user=sales.user, revoked_at=None).exists()


def test_the_owner_cannot_be_deactivated(
    owner: Membership, login: Callable[[Membership], HttpClient]
) -> None:
    response = login(owner).post(reverse("accounts:member_deactivate", args=[owner.pk]))

    assert response.status_code == 400
    assert response.context["row_errors"] == {owner.pk: ["The owner cannot be deactivated."]}
    owner.user.refresh_from_db()
    assert owner.user.is_active


def test_an_admin_cannot_deactivate_anyone(
    admin: Membership, sales: Membership, login: Callable[[Membership], HttpClient]
) -> None:
    response = login(admin).post(reverse("accounts:member_deactivate", args=[sales.pk]))

    assert response.status_code == 403
    sales.user.refresh_from_db()
    assert sales.user.is_active


def test_another_agencys_member_is_not_found(
    owner: Membership, outsider: Membership, login: Callable[[Membership], HttpClient]
) -> None:
    http = login(owner)

    deactivate = http.post(reverse("accounts:member_deactivate", args=[outsider.pk]))
    change = http.post(
        reverse("accounts:member_change_role", args=[outsider.pk]), {"role": Role.VIEWER}
    )

    assert (deactivate.status_code, change.status_code) == (404, 404)
    outsider.user.refresh_from_db()
    assert outsider.user.is_active
