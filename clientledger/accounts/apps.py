from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "clientledger.accounts"
    label = "accounts"

    def ready(self) -> None:
        from axes.signals import user_locked_out
        from django.contrib.auth.signals import user_logged_in

        from clientledger.accounts.middleware import session_seen
        from clientledger.accounts.throttling import on_user_locked_out

        user_locked_out.connect(on_user_locked_out, dispatch_uid="accounts.login_locked_out")
        user_logged_in.connect(session_seen, dispatch_uid="accounts.session_seen")
