"""Writers for agency settings, members, invitations and API tokens."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from pathlib import Path
from typing import Any, Protocol

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse

from clientledger.accounts.audit_verbs import AgencyVerb, ApiTokenVerb, MemberVerb
from clientledger.accounts.models import Agency, ApiToken, Invitation, Membership, User
from clientledger.accounts.roles import Perm, Role, roles_allowing
from clientledger.core import clock
from clientledger.core.audit import audit_record
from clientledger.core.images import image_suffix
from clientledger.core.services import record_update
from clientledger.notifications.services import email_enqueue

logger = logging.getLogger(__name__)

INVITATION_LIFETIME = dt.timedelta(days=7)
LOGO_MAX_BYTES = 1024 * 1024
TOKEN_PREFIX = "cl_"


def secret_hash(secret: str) -> str:
    """Tokens are stored as SHA-256: they are random 256-bit values, so no salt is needed."""
    return hashlib.sha256(secret.encode()).hexdigest()


def agency_create(
    *, name: str, owner_email: str, owner_name: str, owner_password: str, **settings_data: Any
) -> Membership:
    """A new workspace with its owner."""
    agency = Agency(name=name, **settings_data)
    agency.full_clean(exclude=["logo"])
    owner = _new_user(email=owner_email, full_name=owner_name, password=owner_password)
    with transaction.atomic():
        agency.save()
        owner.save()
        membership = Membership.objects.create(agency=agency, user=owner, role=Role.OWNER)
        audit_record(agency=agency, actor=owner, verb=AgencyVerb.CREATED, subject=agency)
    return membership


def _new_user(*, email: str, full_name: str, password: str | None) -> User:
    """An unsaved, validated user; `password=None` leaves the hash to the caller."""
    email = email.strip().lower()
    errors: dict[str, str | list[str]] = {}
    try:
        validate_email(email)
    except ValidationError:
        errors["email"] = "Enter a valid email address."
    else:
        if User.objects.filter(email=email).exists():
            errors["email"] = "This person already has a ClientLedger account."
    if not full_name.strip():
        errors["full_name"] = "Enter a name."
    user = User(email=email, full_name=full_name.strip())
    if password is not None:
        try:
            validate_password(password, user)
        except ValidationError as exc:
            errors["password"] = exc.messages
        user.set_password(password)
    if errors:
        raise ValidationError(errors)
    return user


def membership_create(
    *, agency: Agency, actor: User, email: str, full_name: str, role: str, password_hash: str
) -> Membership:
    """Add a person directly with an already hashed password (seeding; people join by invite)."""
    if role not in Role.values or role == Role.OWNER:
        raise ValidationError({"role": f"“{role}” is not a role a member can be given."})
    user = _new_user(email=email, full_name=full_name, password=None)
    user.password = password_hash
    with transaction.atomic():
        user.save()
        membership = Membership.objects.create(agency=agency, user=user, role=role)
        audit_record(
            agency=agency,
            actor=actor,
            verb=MemberVerb.JOINED,
            subject=membership,
            data={"email": user.email, "role": role},
        )
    return membership


def logo_checked(upload: UploadedFile) -> UploadedFile:
    """An uploaded logo, renamed to the suffix of its real format (a PNG named logo.gif is
    stored as logo.png, or the PDF renderer would fail on it); anything else is refused."""
    if upload.size is not None and upload.size > LOGO_MAX_BYTES:
        raise ValidationError({"logo": "The logo must be at most 1 MB."})
    suffix = image_suffix(upload)
    if suffix is None:
        raise ValidationError({"logo": "Upload the logo as a PNG, JPEG, GIF or WebP image."})
    upload.name = f"{Path(upload.name or '').stem or 'logo'}{suffix}"
    return upload


class AgencySettingFollower(Protocol):
    def __call__(self, *, agency: Agency) -> None:
        """Store again what `agency`'s records keep derived from a setting just changed."""
        ...


# What apps above accounts store derived from the agency's settings, by setting: each deal's
# value follows the tax rounding (crm), the reporting rollups' days follow the time zone
# (billing). Each app registers here; they run in the transaction that changes the setting.
_SETTING_FOLLOWERS: dict[str, list[AgencySettingFollower]] = {}


def agency_setting_follower_register(setting: str, follower: AgencySettingFollower) -> None:
    followers = _SETTING_FOLLOWERS.setdefault(setting, [])
    if follower not in followers:
        followers.append(follower)


def agency_update(*, agency: Agency, actor: User, **data: Any) -> Agency:
    """Change the agency's settings; `logo` is an upload, or "" to remove it."""
    if isinstance(data.get("logo"), UploadedFile):
        data["logo"] = logo_checked(data["logo"])
    with transaction.atomic():
        changes = record_update(instance=agency, actor=actor, verb=AgencyVerb.UPDATED, data=data)
        for setting in changes:
            for follower in _SETTING_FOLLOWERS.get(setting, ()):
                follower(agency=agency)
    return agency


def user_invite(*, agency: Agency, actor: User, email: str, role: str) -> tuple[Invitation, str]:
    """Invite someone by email; returns the invitation and its one-time link token."""
    email = email.strip().lower()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise ValidationError({"email": "Enter a valid email address."}) from exc
    if role not in Role.values:
        raise ValidationError({"role": f"“{role}” is not a role."})
    if role == Role.OWNER:
        raise ValidationError({"role": "An agency has one owner; invite an admin instead."})
    # Only a member of this agency is named here: whether the address has an account in
    # another agency is no business of the inviter's (the invitation page tells its owner).
    if Membership.objects.filter(agency=agency, user__email=email).exists():
        raise ValidationError({"email": "This person already has a ClientLedger account."})
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        Invitation.objects.filter(agency=agency, email=email, accepted_at=None).update(
            revoked_at=clock.now()
        )
        invitation = Invitation.objects.create(
            agency=agency,
            email=email,
            role=role,
            token_hash=secret_hash(token),
            invited_by=actor,
            expires_at=clock.now() + INVITATION_LIFETIME,
        )
        audit_record(
            agency=agency,
            actor=actor,
            verb=MemberVerb.INVITED,
            subject=invitation,
            data={"email": email, "role": role},
        )
        email_enqueue(
            agency=agency,
            to=[email],
            subject=f"{actor} invited you to {agency} on ClientLedger",
            template="invitation",
            context={
                "inviter": actor,
                "role": Role(role).label,
                "link": settings.SITE_URL + reverse("accounts:accept", args=[token]),
                "expires_at": invitation.expires_at,
            },
        )
    return invitation, token


def invitation_by_token(token: str) -> Invitation | None:
    invitation = (
        Invitation.objects.select_related("agency").filter(token_hash=secret_hash(token)).first()
    )
    return invitation if invitation and invitation.is_pending else None


def invitation_accept(*, token: str, full_name: str, password: str) -> User:
    with transaction.atomic():
        invitation = (
            Invitation.objects.select_for_update().filter(token_hash=secret_hash(token)).first()
        )
        if invitation is None or not invitation.is_pending:
            raise ValidationError("This invitation is no longer valid. Ask for a new one.")
        user = _new_user(email=invitation.email, full_name=full_name, password=password)
        user.save()
        Membership.objects.create(agency=invitation.agency, user=user, role=invitation.role)
        invitation.accepted_at = clock.now()
        invitation.save(update_fields=["accepted_at"])
        audit_record(
            agency=invitation.agency,
            actor=user,
            verb=MemberVerb.JOINED,
            subject=invitation,
            data={"email": user.email, "role": invitation.role},
        )
    return user


def invitation_revoke(*, invitation: Invitation, actor: User) -> None:
    with transaction.atomic():
        invitation.revoked_at = clock.now()
        invitation.save(update_fields=["revoked_at"])
        audit_record(
            agency=invitation.agency,
            actor=actor,
            verb=MemberVerb.INVITATION_REVOKED,
            subject=invitation,
        )


def membership_change_role(*, membership: Membership, actor: User, role: str) -> Membership:
    if role not in Role.values:
        raise ValidationError({"role": f"“{role}” is not a role."})
    if membership.role == Role.OWNER or role == Role.OWNER:
        raise ValidationError({"role": "The owner's role cannot be changed here."})
    with transaction.atomic():
        record_update(
            instance=membership, actor=actor, verb=MemberVerb.ROLE_CHANGED, data={"role": role}
        )
        # A role the table bars from API tokens keeps none that work.
        if not membership.allows(Perm.API_TOKENS):
            live = ApiToken.objects.select_related("agency").filter(
                user_id=membership.user_id, revoked_at=None
            )
            for token in live.select_for_update():
                api_token_revoke(token=token, actor=actor)
    return membership


def membership_deactivate(*, membership: Membership, actor: User) -> None:
    if membership.role == Role.OWNER:
        raise ValidationError("The owner cannot be deactivated.")
    with transaction.atomic():
        User.objects.filter(pk=membership.user_id).update(is_active=False)
        ApiToken.objects.filter(user_id=membership.user_id, revoked_at=None).update(
            revoked_at=clock.now()
        )
        audit_record(
            agency=membership.agency, actor=actor, verb=MemberVerb.DEACTIVATED, subject=membership
        )


def login_lockout_record(*, email: str, ip_address: str | None, failures: int) -> None:
    """Audit that signing in as `email` from `ip_address` is paused (the member's agency sees
    it; an address without an account has no agency to tell)."""
    membership = (
        Membership.objects.select_related("agency", "user")
        .filter(user__email=email.strip().lower())
        .first()
    )
    if membership is None:
        logger.warning("Sign-in paused for an unknown email address from %s", ip_address)
        return
    audit_record(
        agency=membership.agency,
        actor=None,
        verb=MemberVerb.LOCKED_OUT,
        subject=membership,
        data={"ip_address": ip_address, "failures": failures},
    )


def api_tokens_allowed(membership: Membership) -> None:
    """The role table's Perm.API_TOKENS decides who holds API tokens: minting asks here (the
    token page and the `api-token` command), and `api_token_authenticate` filters on it."""
    if not membership.allows(Perm.API_TOKENS):
        allowed = ", ".join(Role(role).label.lower() for role in roles_allowing(Perm.API_TOKENS))
        raise PermissionDenied(
            f"The {membership.get_role_display().lower()} role cannot have API tokens; "
            f"only {allowed} members can."
        )


def api_token_create(*, user: User, name: str) -> tuple[ApiToken, str]:
    """A new bearer token; the returned key is shown once and only its hash is kept."""
    membership = Membership.objects.select_related("agency").get(user=user)
    api_tokens_allowed(membership)
    name = name.strip() or "API token"
    key = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(
            agency=membership.agency,
            user=user,
            name=name[:100],
            prefix=key[:10],
            key_hash=secret_hash(key),
        )
        audit_record(agency=membership.agency, actor=user, verb=ApiTokenVerb.CREATED, subject=token)
    return token, key


def api_token_revoke(*, token: ApiToken, actor: User) -> None:
    with transaction.atomic():
        token.revoked_at = clock.now()
        token.save(update_fields=["revoked_at"])
        audit_record(agency=token.agency, actor=actor, verb=ApiTokenVerb.REVOKED, subject=token)


def api_token_authenticate(key: str) -> ApiToken | None:
    """The live token for `key` with its user's membership, or None.

    One indexed lookup by the key's hash; the user and role are checked on the row it
    read (filters across the joins cost more to build than the rest of the lookup)."""
    if not key.startswith(TOKEN_PREFIX):
        return None
    try:
        token = ApiToken.objects.select_related("user__membership__agency").get(
            key_hash=secret_hash(key), revoked_at=None
        )
    except ApiToken.DoesNotExist:
        return None
    membership: Membership | None = getattr(token.user, "membership", None)
    # Tokens minted for a role the table bars from tokens (as the command once did).
    if (
        not token.user.is_active
        or membership is None
        or membership.role not in roles_allowing(Perm.API_TOKENS)
    ):
        return None
    now = clock.now()
    # Touch at most once a minute so API reads do not become writes.
    if token.last_used_at is None or now - token.last_used_at > dt.timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token
