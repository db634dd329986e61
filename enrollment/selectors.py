from __future__ import annotations

import datetime as dt
import enum
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import (
    Count,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    prefetch_related_objects,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import OrganisationType, Profile, User
from courses.models import Course, CourseQuota
from courses.selectors import course_has_started, get_course_schedule
from enrollment.models import Enrollment, EnrollmentChange
from enrollment.rules import (
    cancellation_problem,
    deadline_problem,
    eligibility_problem,
    has_check_in_code,
    quota_key_for,
    reenrollment_problem,
    seat_is_free,
)


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
        Enrollment.objects.holding_seats()
        .filter(course_id__in=ids)
        .values_list("course_id", "quota_key")
        .annotate(n=Count("id"))
        .order_by()
    )
    for course_id, quota_key, n in rows:
        taken[course_id][quota_key] = n
    # Reuses quotas the caller prefetched (the course page); one query for all otherwise.
    prefetch_related_objects(courses, "quotas")
    quotas: dict[int, list[CourseQuota]] = {
        course.pk: sorted(course.quotas.all(), key=lambda q: q.organisation_type)
        for course in courses
    }
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


class CourseState(enum.Enum):
    OPEN = "open"
    FULL = "full"
    CLOSED = "closed"
    ENDED = "ended"


@dataclass(frozen=True)
class CourseStatus:
    """Where a course stands for someone who would enrol, ready for templates."""

    state: CourseState
    availability: Availability

    @property
    def is_open(self) -> bool:
        return self.state is CourseState.OPEN

    @property
    def is_full(self) -> bool:
        return self.state is CourseState.FULL

    @property
    def is_closed(self) -> bool:
        return self.state is CourseState.CLOSED

    @property
    def is_ended(self) -> bool:
        return self.state is CourseState.ENDED

    @property
    def seats_left(self) -> int:
        return self.availability.left


def get_course_state(
    course: Course, availability: Availability, now: dt.datetime | None = None
) -> CourseState:
    """Ended after its last session; closed after the deadline or once started; else full/open.
    Uses prefetched sessions when present."""
    now = now or timezone.now()
    schedule = get_course_schedule(course)
    if schedule.has_ended(now):
        return CourseState.ENDED
    if not course.is_enrollment_open(now) or schedule.has_started(now):
        return CourseState.CLOSED
    return CourseState.FULL if availability.is_full else CourseState.OPEN


def get_course_status_map(courses: Iterable[Course]) -> dict[int, CourseStatus]:
    """The state of many courses (catalogue), with seats counted in two queries in all."""
    courses = list(courses)
    availability = get_availability_map(courses)
    now = timezone.now()
    return {
        c.pk: CourseStatus(get_course_state(c, availability[c.pk], now), availability[c.pk])
        for c in courses
    }


def list_user_enrollments(user_id: int) -> QuerySet[Enrollment]:
    return (
        Enrollment.objects.filter(user_id=user_id)
        .select_related("course")
        .prefetch_related("course__sessions")
        .order_by("-created_at")
    )


def _ahead_in_line(course_id: object, quota_key: object, waitlisted_at: object, pk: object) -> Q:
    """People waiting for the same course and quota who arrived before this enrolment."""
    return Q(course_id=course_id, quota_key=quota_key, status=Enrollment.Status.WAITLISTED) & (
        Q(waitlisted_at__lt=waitlisted_at) | Q(waitlisted_at=waitlisted_at, id__lt=pk)
    )


@dataclass(frozen=True)
class MyEnrollmentRow:
    enrollment: Enrollment
    waitlist_position: int | None
    can_cancel: bool
    has_check_in_code: bool = False


def _waitlist_positions(enrollment_ids: list[int]) -> dict[int, int]:
    """Place in line of each of these waiting enrolments, in one query however many."""
    ahead = (
        Enrollment.objects.filter(
            _ahead_in_line(
                OuterRef("course_id"),
                OuterRef("quota_key"),
                OuterRef("waitlisted_at"),
                OuterRef("pk"),
            )
        )
        .order_by()
        .values("course_id")
        .annotate(n=Count("id"))
        .values("n")
    )
    rows = (
        Enrollment.objects.filter(pk__in=enrollment_ids)
        .annotate(ahead=Coalesce(Subquery(ahead, output_field=IntegerField()), 0))
        .values_list("pk", "ahead")
    )
    return {pk: n + 1 for pk, n in rows}


def list_my_enrollment_rows(user_id: int) -> list[MyEnrollmentRow]:
    """A participant's enrolments with their place in line and whether they may cancel; the
    places in line are counted in one query, however many lines the person is in."""
    enrollments = list(list_user_enrollments(user_id))
    waiting = [e.pk for e in enrollments if e.status == Enrollment.Status.WAITLISTED]
    positions = _waitlist_positions(waiting) if waiting else {}
    rows = []
    for e in enrollments:
        schedule = get_course_schedule(e.course)
        rows.append(
            MyEnrollmentRow(
                enrollment=e,
                waitlist_position=positions.get(e.pk),
                can_cancel=cancellation_problem(e, course_started=schedule.has_started()) is None,
                has_check_in_code=has_check_in_code(
                    e, meets_in_person=schedule.meets_in_person, ended=schedule.has_ended()
                ),
            )
        )
    return rows


def list_enrollment_history(enrollment: Enrollment) -> QuerySet[EnrollmentChange]:
    """Every recorded change of an enrolment's state, newest first, with who did it."""
    return (
        EnrollmentChange.objects.filter(enrollment=enrollment)
        .select_related("actor")
        .order_by("-changed_at", "-id")
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


@dataclass(frozen=True)
class EnrollmentPanel:
    """What the course page says to this visitor about enrolling."""

    availability: Availability
    enrollment: Enrollment | None
    waitlist_position: int | None
    can_enroll: bool
    joins_waitlist: bool
    reason: str | None
    needs_login: bool
    needs_profile: bool
    course_started: bool
    status: CourseStatus | None = None
    awaiting_approval: bool = False


def get_waitlist_position(enrollment: Enrollment) -> int | None:
    """1 for the first person in line for this enrolment's quota."""
    if enrollment.status != Enrollment.Status.WAITLISTED:
        return None
    ahead = Enrollment.objects.filter(
        _ahead_in_line(
            enrollment.course_id, enrollment.quota_key, enrollment.waitlisted_at, enrollment.pk
        )
    )
    return ahead.count() + 1


def get_user_enrollment(course: Course, user: User | AnonymousUser) -> Enrollment | None:
    """The visitor's enrolment in the course, in any state (None for anonymous visitors)."""
    if not user.is_authenticated:
        return None
    return Enrollment.objects.filter(course=course, user=user).first()


_NOT_LOADED: Any = object()


def get_enrollment_panel(
    course: Course,
    user: User | AnonymousUser,
    *,
    enrollment: Enrollment | None = _NOT_LOADED,
    profile: Profile | None = _NOT_LOADED,
) -> EnrollmentPanel:
    """The course page's enrolment box; pass the visitor's rows if the page already loaded them."""
    availability = get_availability(course)
    state = get_course_state(course, availability)
    if enrollment is _NOT_LOADED:
        enrollment = get_user_enrollment(course, user)
    if profile is _NOT_LOADED:
        profile = Profile.objects.filter(user=user).first() if user.is_authenticated else None
    active = enrollment is not None and enrollment.is_active
    started = course_has_started(course)
    reason = deadline_problem(course)
    if not reason and started:
        reason = str(_("Il corso è già iniziato: le iscrizioni sono chiuse."))
    needs_profile = bool(user.is_authenticated and (profile is None or not profile.is_complete))
    if not reason and user.is_authenticated and not needs_profile:
        reason = eligibility_problem(profile, course)
    if not reason:
        # The same check the enrolment service makes (an active row is shown, not refused).
        reason = None if active else reenrollment_problem(enrollment)
    # The same predicate the enrolment service applies under the lock.
    key = quota_key_for(profile, course) if profile is not None and not needs_profile else ""
    taken_in_quota = next((q.taken for q in availability.quotas if q.organisation_type == key), 0)
    free = seat_is_free(
        capacity=availability.capacity,
        quotas={q.organisation_type: q.seats for q in availability.quotas},
        taken_total=availability.taken,
        taken_in_quota=taken_in_quota,
        quota_key=key,
    )
    return EnrollmentPanel(
        availability=availability,
        enrollment=enrollment if active else None,
        waitlist_position=get_waitlist_position(enrollment) if active and enrollment else None,
        can_enroll=not active and not reason,
        joins_waitlist=not free,
        reason=None if active else reason,
        needs_login=not user.is_authenticated,
        needs_profile=needs_profile,
        course_started=started,
        status=CourseStatus(state, availability),
        awaiting_approval=bool(enrollment and enrollment.is_awaiting_approval),
    )


def list_course_enrollments(
    course: Course, *, status: str = "", quota: str = "", search: str = ""
) -> QuerySet[Enrollment]:
    """A course's enrolments for the secretariat, filtered, with people loaded in one query."""
    qs = Enrollment.objects.filter(course=course).select_related("user", "user__profile")
    if status:
        qs = qs.filter(status=status)
    if quota:
        qs = qs.filter(quota_key=quota)
    for word in search.split():
        qs = qs.filter(
            Q(user__email__icontains=word)
            | Q(user__first_name__icontains=word)
            | Q(user__last_name__icontains=word)
            | Q(user__profile__codice_fiscale__iexact=word)
            | Q(user__profile__organisation__icontains=word)
        )
    return qs.order_by("status", "waitlisted_at", "created_at", "id")


def list_courses_for_secretariat() -> QuerySet[Course]:
    """Every course with its enrolment counts by state, newest first."""

    def count(status: str) -> Count:
        return Count("enrollments", filter=Q(enrollments__status=status))

    return Course.objects.annotate(
        n_confirmed=count(Enrollment.Status.CONFIRMED),
        n_requested=count(Enrollment.Status.REQUESTED),
        n_waitlisted=count(Enrollment.Status.WAITLISTED),
    ).order_by("-enrollment_deadline", "code")
