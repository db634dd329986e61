from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Count, QuerySet

from accounts.models import OrganisationType
from courses.models import Course, CourseQuota
from enrollment.models import Enrollment

# Statuses that hold a seat. A request awaiting the secretariat holds one too, so the
# secretariat is never asked to approve more people than there are seats.
SEAT_HOLDING = (Enrollment.Status.CONFIRMED, Enrollment.Status.REQUESTED)


@dataclass(frozen=True)
class QuotaAvailability:
    organisation_type: str
    seats: int
    taken: int

    @property
    def label(self) -> str:
        return str(OrganisationType(self.organisation_type).label)

    @property
    def left(self) -> int:
        return max(self.seats - self.taken, 0)


@dataclass(frozen=True)
class Availability:
    capacity: int
    taken: int
    quotas: list[QuotaAvailability] = field(default_factory=list)

    @property
    def left(self) -> int:
        return max(self.capacity - self.taken, 0)

    @property
    def is_full(self) -> bool:
        return self.left == 0


def get_availability_map(courses: Iterable[Course]) -> dict[int, Availability]:
    """Seats taken and left for many courses, in two queries whatever their number."""
    courses = list(courses)
    ids = [c.pk for c in courses]
    taken: dict[int, dict[str, int]] = defaultdict(dict)
    rows = (
        Enrollment.objects.filter(course_id__in=ids, status__in=SEAT_HOLDING)
        .values_list("course_id", "quota_key")
        .annotate(n=Count("id"))
        .order_by()
    )
    for course_id, quota_key, n in rows:
        taken[course_id][quota_key] = n
    quotas: dict[int, list[CourseQuota]] = defaultdict(list)
    for quota in CourseQuota.objects.filter(course_id__in=ids).order_by("organisation_type"):
        quotas[quota.course_id].append(quota)
    result = {}
    for course in courses:
        per_quota = taken.get(course.pk, {})
        result[course.pk] = Availability(
            capacity=course.capacity,
            taken=sum(per_quota.values()),
            quotas=[
                QuotaAvailability(
                    q.organisation_type, q.seats, per_quota.get(q.organisation_type, 0)
                )
                for q in quotas.get(course.pk, [])
            ],
        )
    return result


def get_availability(course: Course) -> Availability:
    return get_availability_map([course])[course.pk]


def list_user_enrollments(user_id: int) -> QuerySet[Enrollment]:
    return (
        Enrollment.objects.filter(user_id=user_id).select_related("course").order_by("-created_at")
    )


def list_confirmed_enrollments(course: Course) -> QuerySet[Enrollment]:
    """Confirmed participants of a course, by surname, with user and profile loaded."""
    return (
        Enrollment.objects.filter(course=course, status=Enrollment.Status.CONFIRMED)
        .select_related("user", "user__profile")
        .order_by("user__last_name", "user__first_name", "user__email")
    )


def get_confirmed_enrollment(*, user_id: int, course: Course) -> Enrollment | None:
    return Enrollment.objects.filter(
        user_id=user_id, course=course, status=Enrollment.Status.CONFIRMED
    ).first()
