from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from certificates.services import record_missing_seals


class Command(BaseCommand):
    help = (
        "Record which seal signed each certificate issued before seals were recorded, read from "
        "its signed file, so it keeps verifying after the seal expires or is replaced. Run once "
        "after upgrading; safe to run again."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        linked = record_missing_seals()
        self.stdout.write(_("Attestati collegati al proprio sigillo: %(n)d") % {"n": linked})
