"""Sign-in, password, agency settings, team and API token pages."""

from __future__ import annotations

import copy
from typing import Any

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.messages.views import SuccessMessageMixin
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.views.decorators.http import require_POST

from clientledger.accounts import selectors
from clientledger.accounts.forms import (
    ASSIGNABLE_ROLES,
    NUMBER_FORMAT_FIELDS,
    AcceptInvitationForm,
    AgencySettingsForm,
    ApiTokenForm,
    EmailLoginForm,
    InviteForm,
    RoleForm,
    number_preview_text,
)
from clientledger.accounts.models import Membership
from clientledger.accounts.roles import Perm, Role
from clientledger.accounts.services import (
    INVITATION_LIFETIME,
    agency_update,
    api_token_create,
    api_token_revoke,
    invitation_accept,
    invitation_by_token,
    invitation_revoke,
    membership_change_role,
    membership_deactivate,
    user_invite,
)
from clientledger.core.forms import save_valid_form
from clientledger.core.http import object_or_404
from clientledger.core.pagination import keyset_page_or_first
from clientledger.core.permissions import AgencyRequest, require_perm

# The new key is parked in the session between the POST and the page that shows it once.
NEW_TOKEN_SESSION_KEY = "accounts.new_api_token"


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = EmailLoginForm
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = super().post(request, *args, **kwargs)
        messages.info(request, "You have been signed out.")
        return response


class PasswordChangeView(SuccessMessageMixin, auth_views.PasswordChangeView):
    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("home")
    success_message = "Your password has been changed."


@require_perm(Perm.AGENCY_SETTINGS)
def agency_settings(request: AgencyRequest) -> HttpResponse:
    agency = request.agency
    # The form validates a copy: agency_update must see the old values to audit the change.
    form = AgencySettingsForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
        instance=copy.copy(agency),
    )
    saved = save_valid_form(
        form, lambda _: agency_update(agency=agency, actor=request.user, **form.service_data())
    )
    if saved is not None:
        messages.success(request, "Agency settings saved.")
        return redirect("accounts:agency_settings")
    return render(
        request,
        "accounts/agency_settings.html",
        {"form": form, "previews": form.number_previews()},
        status=400 if form.is_bound else 200,
    )


@require_perm(Perm.AGENCY_SETTINGS)
def number_preview(request: AgencyRequest) -> HttpResponse:
    """The live preview under a number format field (HTMX sends the field as typed)."""
    number_format = next(
        (request.GET[name] for name in NUMBER_FORMAT_FIELDS if name in request.GET), ""
    )
    timezone = request.agency.timezone
    return render(
        request,
        "accounts/agency_settings.html#number-preview",
        {"preview": number_preview_text(number_format, timezone=timezone)},
    )


def _team_page(
    request: AgencyRequest,
    *,
    invite_form: InviteForm | None = None,
    row_errors: dict[int, list[str]] | None = None,
    status: int = 200,
) -> HttpResponse:
    search = request.GET.get("q", "").strip()
    role = request.GET.get("role", "")
    members = selectors.member_list(agency=request.agency, search=search, role=role)
    page = keyset_page_or_first(
        members,
        ordering=selectors.MEMBER_ORDERING,
        after=request.GET.get("after"),
        before=request.GET.get("before"),
    )
    return render(
        request,
        "accounts/member_list.html",
        {
            "page": page,
            "invitations": selectors.invitation_pending_list(agency=request.agency),
            "invite_form": invite_form or InviteForm(),
            "invitation_days": INVITATION_LIFETIME.days,
            "row_errors": row_errors or {},
            "roles": Role.choices,
            "assignable_roles": ASSIGNABLE_ROLES,
            "search": search,
            "role_filter": role,
        },
        status=status,
    )


def _agency_membership(request: AgencyRequest, pk: int) -> Membership:
    return object_or_404(selectors.membership_get, agency=request.agency, pk=pk)


@require_perm(Perm.VIEW)
def member_list(request: AgencyRequest) -> HttpResponse:
    return _team_page(request)


@require_POST
@require_perm(Perm.MEMBERS_MANAGE)
def member_invite(request: AgencyRequest) -> HttpResponse:
    form = InviteForm(request.POST)
    invited = save_valid_form(
        form,
        lambda data: user_invite(
            agency=request.agency, actor=request.user, email=data["email"], role=data["role"]
        ),
    )
    if invited is not None:
        invitation, _ = invited
        messages.success(request, f"Invitation sent to {invitation.email}.")
        return redirect("accounts:member_list")
    return _team_page(request, invite_form=form, status=400)


@require_POST
@require_perm(Perm.MEMBERS_MANAGE)
def member_change_role(request: AgencyRequest, pk: int) -> HttpResponse:
    membership = _agency_membership(request, pk)
    form = RoleForm(request.POST)
    if not form.is_valid():
        return _team_page(
            request,
            row_errors={membership.pk: [str(error) for error in form.errors["role"]]},
            status=400,
        )
    try:
        membership_change_role(
            membership=membership, actor=request.user, role=form.cleaned_data["role"]
        )
    except ValidationError as exc:
        return _team_page(request, row_errors={membership.pk: exc.messages}, status=400)
    messages.success(request, f"{membership.user} is now {membership.get_role_display().lower()}.")
    return redirect("accounts:member_list")


@require_POST
@require_perm(Perm.MEMBERS_MANAGE)
def member_deactivate(request: AgencyRequest, pk: int) -> HttpResponse:
    membership = _agency_membership(request, pk)
    try:
        membership_deactivate(membership=membership, actor=request.user)
    except ValidationError as exc:
        return _team_page(request, row_errors={membership.pk: exc.messages}, status=400)
    messages.success(request, f"{membership.user} has been deactivated and signed out.")
    return redirect("accounts:member_list")


@require_POST
@require_perm(Perm.MEMBERS_MANAGE)
def invitation_revoke_view(request: AgencyRequest, pk: int) -> HttpResponse:
    invitation = object_or_404(selectors.invitation_revocable_get, agency=request.agency, pk=pk)
    invitation_revoke(invitation=invitation, actor=request.user)
    messages.success(request, f"The invitation for {invitation.email} has been revoked.")
    return redirect("accounts:member_list")


def invitation_accept_view(request: HttpRequest, token: str) -> HttpResponse:
    invitation = invitation_by_token(token)
    if invitation is None:
        return render(request, "accounts/invitation_invalid.html", status=404)
    if selectors.invitation_email_has_account(invitation):
        return render(
            request,
            "accounts/invitation_accept.html",
            {"invitation": invitation, "has_account": True},
            status=409,
        )
    form = AcceptInvitationForm(request.POST if request.method == "POST" else None)
    user = save_valid_form(
        form,
        lambda data: invitation_accept(
            token=token, full_name=data["full_name"], password=data["password1"]
        ),
        password="password1",
    )
    if user is not None:
        # The password was just set, not checked: sign in with the backend that checks them.
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, f"Welcome to {invitation.agency}, {user.full_name}.")
        return redirect("home")
    return render(
        request,
        "accounts/invitation_accept.html",
        {"invitation": invitation, "form": form},
        status=400 if form.is_bound else 200,
    )


def _token_page(
    request: AgencyRequest, *, form: ApiTokenForm, new_key: str | None = None, status: int = 200
) -> HttpResponse:
    return render(
        request,
        "accounts/token_list.html",
        {
            "tokens": selectors.api_token_list(agency=request.agency, user=request.user),
            "form": form,
            "new_key": new_key,
        },
        status=status,
    )


@require_perm(Perm.API_TOKENS)
def token_list(request: AgencyRequest) -> HttpResponse:
    return _token_page(
        request, form=ApiTokenForm(), new_key=request.session.pop(NEW_TOKEN_SESSION_KEY, None)
    )


@require_POST
@require_perm(Perm.API_TOKENS)
def token_create(request: AgencyRequest) -> HttpResponse:
    form = ApiTokenForm(request.POST)
    if not form.is_valid():
        return _token_page(request, form=form, status=400)
    token, key = api_token_create(user=request.user, name=form.cleaned_data["name"])
    request.session[NEW_TOKEN_SESSION_KEY] = key
    messages.success(request, f"Token “{token.name}” created. Copy it now: it is shown once.")
    return redirect("accounts:token_list")


@require_POST
@require_perm(Perm.API_TOKENS)
def token_revoke(request: AgencyRequest, pk: int) -> HttpResponse:
    token = object_or_404(
        selectors.api_token_active_get, agency=request.agency, user=request.user, pk=pk
    )
    api_token_revoke(token=token, actor=request.user)
    messages.success(request, f"Token “{token.name}” revoked; it no longer works.")
    return redirect("accounts:token_list")
