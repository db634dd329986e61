from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from certificates.services import issue_course_certificates
from courses.models import Course


class Command(BaseCommand):
    help = (
        "Issue, synchronously, the certificates due in a course; print how many were issued and "
        "what each remaining participant is missing. Safe to run again: nothing is issued twice."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("course_code", help="The course code, e.g. C5092Z/1")

    def handle(self, *args: Any, course_code: str, **options: Any) -> None:
        course = Course.objects.filter(code__iexact=course_code.strip()).first()
        if course is None:
            raise CommandError(_("Nessun corso con codice %(code)s.") % {"code": course_code})
        result = issue_course_certificates(course=course)
        self.stdout.write(f"{course.code} – {course.title}")
        self.stdout.write(
            self.style.SUCCESS(_("Attestati emessi: %(n)d") % {"n": len(result.issued)})
        )
        for certificate in result.issued:
            self.stdout.write(f"  {certificate.serial}  {certificate.holder_name}")
        self.stdout.write(_("Già emessi in precedenza: %(n)d") % {"n": result.already_issued})
        self.stdout.write(_("Senza i requisiti: %(n)d") % {"n": len(result.not_eligible)})
        for row in result.not_eligible:
            user = row.enrollment.user
            who = f"{user.last_name} {user.first_name}".strip() or user.email
            self.stdout.write(f"  {who} <{user.email}>: {'; '.join(row.eligibility.missing)}")
        for row, message in result.failed:
            user = row.enrollment.user
            self.stdout.write(self.style.ERROR(f"  {user.email}: {message}"))
        if result.failed:
            raise CommandError(
                _("Attestati non emessi per errore: %(n)d") % {"n": len(result.failed)}
            )
