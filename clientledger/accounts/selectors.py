"""Reads for the team and API token pages; every one takes the agency explicitly."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q, QuerySet

from clientledger.accounts.models import Agency, ApiToken, Invitation, Membership, User
from clientledger.accounts.roles import Role
from clientledger.core import clock

MEMBER_ORDERING = ("created_at", "id")


def member_list(*, agency: Agency, search: str = "", role: str = "") -> QuerySet[Membership]:
    """The agency's members with their users, matching `search` (name or email) and `role`."""
    members = Membership.objects.filter(agency=agency).select_related("user")
    if search:
        members = members.filter(
            Q(user__full_name__icontains=search) | Q(user__email__icontains=search)
        )
    if role in Role.values:
        members = members.filter(role=role)
    return members


def membership_get(*, agency: Agency, pk: int) -> Membership:
    return Membership.objects.select_related("user", "agency").get(agency=agency, pk=pk)


def invitation_revocable_get(*, agency: Agency, pk: int) -> Invitation:
    """An invitation neither accepted nor revoked yet (an expired one may still be revoked)."""
    return Invitation.objects.select_related("agency").get(
        agency=agency, pk=pk, accepted_at=None, revoked_at=None
    )


def invitation_pending_list(*, agency: Agency) -> QuerySet[Invitation]:
    """Invitations that can still be accepted: neither accepted, revoked nor expired."""
    return Invitation.objects.filter(
        agency=agency, accepted_at=None, revoked_at=None, expires_at__gt=clock.now()
    ).select_related("invited_by")


def api_token_list(*, agency: Agency, user: User) -> QuerySet[ApiToken]:
    """The tokens `user` created in `agency`, revoked ones included."""
    return ApiToken.objects.filter(agency=agency, user=user)


def api_token_active_get(*, agency: Agency, user: User, pk: int) -> ApiToken:
    """One of the tokens `user` created in `agency` that still works."""
    return ApiToken.objects.select_related("agency").get(
        agency=agency, user=user, pk=pk, revoked_at=None
    )


def member_emails(*, agency: Agency, roles: Iterable[str]) -> list[str]:
    """The addresses of the agency's active people in these roles, sorted."""
    return sorted(
        Membership.objects.filter(
            agency=agency, role__in=list(roles), user__is_active=True
        ).values_list("user__email", flat=True)
    )


def invitation_email_has_account(invitation: Invitation) -> bool:
    """Whether the invited address already signs in (one agency per person: it cannot join)."""
    return User.objects.filter(email=invitation.email).exists()
