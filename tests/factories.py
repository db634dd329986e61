from __future__ import annotations

import datetime as dt

import factory
from django.contrib.auth.models import Group, Permission
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Profile, User
from courses.models import Course, CourseQuota, ScheduleItem, Session, Teacher
from enrollment.models import Enrollment
from portal.demo_data import demo_codice_fiscale

PASSWORD = "a-Strong-password-42"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.org")
    first_name = factory.Sequence(lambda n: f"Nome{n}")
    last_name = factory.Sequence(lambda n: f"Cognome{n}")
    password = factory.django.Password(PASSWORD)


class ProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Profile

    user = factory.SubFactory(UserFactory)
    codice_fiscale = factory.Sequence(lambda n: demo_codice_fiscale(n + 1))
    profession = "assistente_sociale"
    organisation = "Comune di Milano"
    organisation_type = "comune"
    role = "Funzionario"


class ParticipantFactory(UserFactory):
    profile = factory.RelatedFactory(ProfileFactory, factory_related_name="user")


class SecretariatFactory(UserFactory):
    is_staff = True

    @factory.post_generation
    def group(self, create: bool, extracted: object, **kwargs: object) -> None:
        if not create:
            return
        group, _ = Group.objects.get_or_create(name="Segreteria")
        group.permissions.add(
            *Permission.objects.filter(
                content_type__app_label__in=[
                    "courses",
                    "enrollment",
                    "attendance",
                    "questionnaire",
                    "certificates",
                ]
            )
        )
        self.groups.add(group)


class TOTPDeviceFactory(factory.django.DjangoModelFactory):
    """A confirmed authenticator app, the second factor of a secretariat account."""

    class Meta:
        model = TOTPDevice

    user = factory.SubFactory(SecretariatFactory)
    name = "App"
    confirmed = True


class TeacherFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Teacher

    name = factory.Sequence(lambda n: f"Docente {n}")


class CourseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Course
        skip_postgeneration_save = True

    code = factory.Sequence(lambda n: f"T{n:04d}/1")
    slug = factory.Sequence(lambda n: f"corso-{n}")
    title = factory.Sequence(lambda n: f"Corso di prova {n}")
    venue = "Viale Piceno 60, Milano"
    capacity = 20
    enrollment_deadline = factory.LazyFunction(lambda: timezone.localdate() + dt.timedelta(days=30))

    @factory.post_generation
    def sessions(self, create: bool, extracted: int | None, **kwargs: object) -> None:
        """Three 4-hour sessions after the deadline, unless told how many (0 for none)."""
        if not create:
            return
        count = 3 if extracted is None else extracted
        first = self.enrollment_deadline + dt.timedelta(days=7)
        for i in range(count):
            SessionFactory(course=self, date=first + dt.timedelta(days=7 * i))

    @factory.post_generation
    def quotas(self, create: bool, extracted: dict[str, int] | None, **kwargs: object) -> None:
        """Seats reserved by organisation type, e.g. quotas={"comune": 2}; none by default."""
        if not create or not extracted:
            return
        for organisation_type, seats in extracted.items():
            CourseQuotaFactory(course=self, organisation_type=organisation_type, seats=seats)


class SessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Session

    course = factory.SubFactory(CourseFactory, sessions=0)
    date = factory.LazyFunction(lambda: timezone.localdate() + dt.timedelta(days=40))
    start = dt.time(9, 0)
    # Derived from start so a factory never breaks session_starts_before_end.
    end = factory.LazyAttribute(
        lambda o: (dt.datetime.combine(o.date, o.start) + dt.timedelta(hours=4)).time()
    )


class CourseQuotaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CourseQuota

    course = factory.SubFactory(CourseFactory, sessions=0)
    organisation_type = "comune"
    seats = 1


class ScheduleItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ScheduleItem

    session = factory.SubFactory(SessionFactory)
    start = dt.time(9, 0)
    end = dt.time(10, 0)
    title = "Introduzione"


class EnrollmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Enrollment

    user = factory.SubFactory(ParticipantFactory)
    course = factory.SubFactory(CourseFactory)
    status = Enrollment.Status.CONFIRMED
    confirmed_at = factory.LazyFunction(timezone.now)
