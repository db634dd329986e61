from __future__ import annotations

import datetime as dt

from django.utils import timezone

from accounts.models import User
from courses.models import Course
from tests.factories import CourseFactory, ParticipantFactory


def open_course(**kwargs: object) -> Course:
    """A course whose enrolment is open today and that has not started."""
    return CourseFactory(enrollment_deadline=timezone.localdate() + dt.timedelta(days=10), **kwargs)


def people(n: int, **profile: object) -> list[User]:
    """n participants whose profiles have the given fields, e.g. organisation_type="comune"."""
    return ParticipantFactory.create_batch(
        n, **{f"profile__{field}": value for field, value in profile.items()}
    )


def quota_course(**quotas: int) -> Course:
    """An open course whose seats are exactly its quotas."""
    return open_course(capacity=sum(quotas.values()), quotas=quotas)
