from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Utenti e profili")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_login_failed

        from accounts.throttling import count_login_failure

        # Every failed authenticate() counts, whichever login page it came from.
        user_login_failed.connect(count_login_failure, dispatch_uid="accounts.login_failures")
