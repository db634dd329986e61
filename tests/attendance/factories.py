from __future__ import annotations

import factory
from django.utils import timezone

from attendance.models import Attendance, Source
from tests.factories import EnrollmentFactory, SessionFactory


class AttendanceFactory(factory.django.DjangoModelFactory):
    """A stored row, bypassing the service: only for tests of reads."""

    class Meta:
        model = Attendance

    session = factory.SubFactory(SessionFactory)
    enrollment = factory.SubFactory(
        EnrollmentFactory, course=factory.SelfAttribute("..session.course")
    )
    minutes = factory.LazyAttribute(lambda o: o.session.minutes)
    source = Source.REGISTER
    recorded_at = factory.LazyFunction(timezone.now)
