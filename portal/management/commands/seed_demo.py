"""Load the demo data. Idempotent: running it again creates nothing twice."""

from __future__ import annotations

import datetime as dt
import time

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from accounts.models import Profile, User
from courses.models import Course, CourseQuota, ScheduleItem, Session, Teacher
from portal import demo_data as D

SECRETARIAT_GROUP = "Segreteria"
SECRETARIAT_APPS = ("courses", "enrollment", "attendance", "questionnaire", "certificates")
DEFAULT_PASSWORD = "corsi-pa-demo"  # noqa: S105 - printed to the demo user on purpose


def _time(value: str) -> dt.time:
    return dt.time.fromisoformat(value)


def _next_weekday(day: dt.date, weekday: int) -> dt.date:
    return day + dt.timedelta(days=(weekday - day.weekday()) % 7)


class Command(BaseCommand):
    help = "Create the demo courses, the secretariat and some participants (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--participants", type=int, default=0, help="add N load-test participants"
        )
        parser.add_argument("--password", default=DEFAULT_PASSWORD, help="password of demo users")

    def handle(self, *args: object, participants: int, password: str, **options: object) -> None:
        started = time.monotonic()
        with transaction.atomic():
            teachers = self._teachers()
            self._c5092z(teachers)
            self._lab()
            group = self._secretariat_group()
            self._users(group, password)
            self._past_edition_attendance()
        self._past_edition_questionnaire()
        created = self._bulk_participants(participants, password) if participants else 0
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready in {time.monotonic() - started:.1f} s"
                + (f" ({created} new load-test participants)" if participants else "")
            )
        )
        self.stdout.write(
            f"Demo logins (password: {password}):\n"
            "  segreteria@example.org  (segreteria)\n"
            "  admin@example.org       (amministratore)\n"
            "  mario.rossi@example.org (partecipante, assistente sociale)\n"
            "  giulia.bianchi@example.org, luca.verdi@example.org, anna.neri@example.org"
        )

    def _teachers(self) -> dict[str, Teacher]:
        return {
            key: Teacher.objects.get_or_create(
                name=name, affiliation="SDA Bocconi", defaults={"title": title}
            )[0]
            for key, (name, title) in D.SEED_TEACHERS.items()
        }

    def _course(self, code: str, fields: dict, deadline: dt.date) -> tuple[Course, bool]:
        return Course.objects.get_or_create(
            code=code,
            defaults={
                **fields,
                "slug": slugify(f"{code.replace('/', '-')} {fields['title']}")[:120],
                "enrollment_deadline": deadline,
            },
        )

    def _programme(
        self, course: Course, dates: list[dt.date], teachers: dict[str, Teacher]
    ) -> None:
        for (title, items), day in zip(D.C5092Z_PROGRAMME, dates, strict=True):
            session = Session.objects.create(
                course=course, date=day, start=_time("09:00"), end=_time("13:00"), title=title
            )
            for start, end, contents, teacher_keys, note, is_break in items:
                item = ScheduleItem.objects.create(
                    session=session,
                    start=_time(start),
                    end=_time(end),
                    title=contents,
                    speaker_note=note,
                    is_break=is_break,
                )
                item.teachers.set([teachers[k] for k in teacher_keys])
        course.teachers.set(teachers.values())

    def _c5092z(self, teachers: dict[str, Teacher]) -> None:
        course, created = self._course("C5092Z/1", D.C5092Z, D.C5092Z_1_DEADLINE)
        if created:
            self._programme(course, D.C5092Z_1_DATES, teachers)
        # The second edition is dated from today so that enrolment can be tried now.
        first = _next_weekday(timezone.localdate() + dt.timedelta(days=45), 3)
        dates = [first, first + dt.timedelta(days=20), first + dt.timedelta(days=40)]
        course2, created = self._course("C5092Z/2", D.C5092Z, first - dt.timedelta(days=7))
        if created:
            self._programme(course2, dates, teachers)

    def _lab(self) -> None:
        first = _next_weekday(timezone.localdate() + dt.timedelta(days=30), 1)
        course, created = self._course("LAB-WC/1", D.LAB, first - dt.timedelta(days=10))
        if not created:
            return
        for organisation_type, seats in D.LAB_QUOTAS.items():
            CourseQuota.objects.create(
                course=course, organisation_type=organisation_type, seats=seats
            )
        for week, (title, start, end) in enumerate(D.LAB_PROGRAMME):
            session = Session.objects.create(
                course=course,
                date=first + dt.timedelta(weeks=2 * week),
                start=_time(start),
                end=_time(end),
                title=title,
            )
            ScheduleItem.objects.create(
                session=session, start=_time(start), end=_time(end), title=title
            )

    def _secretariat_group(self) -> Group:
        group, _created = Group.objects.get_or_create(name=SECRETARIAT_GROUP)
        perms = Permission.objects.filter(content_type__app_label__in=SECRETARIAT_APPS)
        view_people = Permission.objects.filter(
            content_type__app_label="accounts", codename__in=["view_user", "view_profile"]
        )
        group.permissions.add(*perms, *view_people)
        return group

    def _users(self, group: Group, password: str) -> None:
        staff, created = User.objects.get_or_create(
            email="segreteria@example.org",
            defaults={"first_name": "Segreteria", "last_name": "Formazione", "is_staff": True},
        )
        if created:
            staff.set_password(password)
            staff.save(update_fields=["password"])
        staff.groups.add(group)
        if not User.objects.filter(email="admin@example.org").exists():
            User.objects.create_superuser(
                "admin@example.org", password, first_name="Amministratore", last_name="Portale"
            )
        for index, (email, first, last, profession, org, org_type, role, ambito) in enumerate(
            D.PARTICIPANTS
        ):
            user, created = User.objects.get_or_create(
                email=email, defaults={"first_name": first, "last_name": last}
            )
            if created:
                user.set_password(password)
                user.save(update_fields=["password"])
            Profile.objects.get_or_create(
                user=user,
                defaults={
                    "codice_fiscale": D.demo_codice_fiscale(
                        90000 + index, female=first.endswith("a")
                    ),
                    "profession": profession,
                    "organisation": org,
                    "organisation_type": org_type,
                    "role": role,
                    "ambito": ambito,
                    "phone": "02 0000000",
                    "ordine_regionale": "Lombardia" if profession == "assistente_sociale" else "",
                    "numero_iscrizione": "A-1234" if profession == "assistente_sociale" else "",
                },
            )

    def _past_edition_attendance(self) -> None:
        """The demo participants attended C5092Z/1 (already held): one can get a certificate,
        one is 1 minute short of 80%, so every state of the certificate gate can be seen."""
        from attendance.models import Source
        from attendance.services import record_attendance
        from enrollment.models import Enrollment

        course = Course.objects.get(code="C5092Z/1")
        if Enrollment.objects.filter(course=course).exists():
            return
        sessions = list(course.sessions.order_by("date", "start"))
        staff = User.objects.get(email="segreteria@example.org")
        # minutes per session: 720 (100%), 600, 575 (one short of 576 = 80%), 480
        plan = {
            "mario.rossi@example.org": (240, 240, 240),
            "giulia.bianchi@example.org": (240, 240, 120),
            "luca.verdi@example.org": (240, 240, 95),
            "anna.neri@example.org": (240, 240, 0),
        }
        confirmed_at = timezone.make_aware(dt.datetime(2026, 3, 10, 10, 0))
        for email, minutes in plan.items():
            enrollment = Enrollment.objects.create(
                user=User.objects.get(email=email),
                course=course,
                status=Enrollment.Status.CONFIRMED,
                confirmed_at=confirmed_at,
            )
            for session, value in zip(sessions, minutes, strict=True):
                record_attendance(
                    enrollment=enrollment,
                    session=session,
                    minutes=value,
                    recorded_by=staff,
                    source=Source.ADMIN,
                    source_detail="seed_demo",
                )

    def _past_edition_questionnaire(self) -> None:
        """C5092Z/1 was held months ago, so by default its questionnaire has closed: keep it open
        in the demo, so that its participants can fill it in and get their certificates."""
        from questionnaire.services import get_or_create_questionnaire, update_questionnaire_window

        questionnaire = get_or_create_questionnaire(course=Course.objects.get(code="C5092Z/1"))
        if questionnaire.closes_at is None:
            update_questionnaire_window(
                questionnaire=questionnaire,
                opens_at=None,
                closes_at=timezone.now() + dt.timedelta(days=90),
            )

    def _bulk_participants(self, count: int, password: str) -> int:
        """Add participant-1 … participant-N quickly: one hash, bulk inserts."""
        emails = [f"participant-{i}@example.org" for i in range(1, count + 1)]
        existing = set(User.objects.filter(email__in=emails).values_list("email", flat=True))
        hashed = make_password(password)
        org_types = ["comune", "terzo_settore", "azienda_speciale", "comune", "ats_asst"]
        professions = ["assistente_sociale", "funzionario", "dirigente", "educatore_professionale"]
        new = [
            User(email=e, password=hashed, first_name="Partecipante", last_name=f"N. {i}")
            for i, e in enumerate(emails, start=1)
            if e not in existing
        ]
        with transaction.atomic():
            User.objects.bulk_create(new, batch_size=500)
            users = User.objects.filter(email__in=[u.email for u in new]).values_list("id", "email")
            profiles = []
            for user_id, email in users:
                i = int(email.split("-")[1].split("@")[0])
                profiles.append(
                    Profile(
                        user_id=user_id,
                        codice_fiscale=D.demo_codice_fiscale(i),
                        profession=professions[i % len(professions)],
                        organisation=f"Ente demo {i % 50}",
                        organisation_type=org_types[i % len(org_types)],
                        role="Funzionario",
                    )
                )
            Profile.objects.bulk_create(profiles, batch_size=500)
        return len(new)
