"""Sign-in, settings and team pages."""

from django.urls import path

from clientledger.accounts import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("invite/<str:token>/", views.invitation_accept_view, name="accept"),
    path("settings/", views.agency_settings, name="agency_settings"),
    path("settings/number-preview/", views.number_preview, name="number_preview"),
    path("team/", views.member_list, name="member_list"),
    path("team/invite/", views.member_invite, name="member_invite"),
    path("team/<int:pk>/role/", views.member_change_role, name="member_change_role"),
    path("team/<int:pk>/deactivate/", views.member_deactivate, name="member_deactivate"),
    path(
        "team/invitations/<int:pk>/revoke/",
        views.invitation_revoke_view,
        name="invitation_revoke",
    ),
    path("tokens/", views.token_list, name="token_list"),
    path("tokens/new/", views.token_create, name="token_create"),
    path("tokens/<int:pk>/revoke/", views.token_revoke, name="token_revoke"),
]
