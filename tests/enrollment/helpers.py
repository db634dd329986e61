from __future__ import annotations

import datetime as dt

from django.utils import timezone

from courses.models import CourseQuota
from tests.factories import CourseFactory, ParticipantFactory


def open_course(**kwargs: object):
    """A course whose enrolment is open today and that has not started."""
    return CourseFactory(enrollment_deadline=timezone.localdate() + dt.timedelta(days=10), **kwargs)


def people(n: int, **profile: object) -> list:
    users = ParticipantFactory.create_batch(n)
    if profile:
        for user in users:
            for key, value in profile.items():
                setattr(user.profile, key, value)
            user.profile.save()
    return users


def quota_course(**quotas: int):
    course = open_course(capacity=sum(quotas.values()))
    for organisation_type, seats in quotas.items():
        CourseQuota.objects.create(course=course, organisation_type=organisation_type, seats=seats)
    return course
