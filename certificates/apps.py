from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CertificatesConfig(AppConfig):
    name = "certificates"
    verbose_name = _("Attestati")

    def ready(self) -> None:
        # The system checks, and the receiver that issues a certificate when a questionnaire
        # is completed (it also registers the Celery tasks in every process).
        from certificates import checks, receivers  # noqa: F401
