from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CertificatesConfig(AppConfig):
    name = "certificates"
    verbose_name = _("Attestati")

    def ready(self) -> None:
        # Register the Celery tasks in every process, not only in workers: the questionnaire
        # sends "certificates.tasks.issue_certificate_if_eligible_task" by name, and only if
        # it finds it registered.
        from certificates import checks, tasks  # noqa: F401
