"""Enrolment: every rule about seats, the waiting list and state changes lives here."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.core import signing
from django.db import IntegrityError, transaction
from django.db.models import Count, Min, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Profile
from courses.models import Course
from enrollment.models import Enrollment, Notification
from enrollment.rules import deadline_problem, eligibility_problem, quota_key_for
from enrollment.selectors import SEAT_HOLDING, course_has_started
from portal.dispatch import enqueue_on_commit
from portal.pagecache import invalidate_public_pages

if TYPE_CHECKING:
    from accounts.models import User

Status = Enrollment.Status
Kind = Notification.Kind
ACTIVE = (Status.REQUESTED, Status.CONFIRMED, Status.WAITLISTED)
GIVE_BACK_SALT = "enrollment.give-back"


class EnrollmentError(Exception):
    """An enrolment change that the rules refuse, with a message for the user."""

    def __init__(self, message: object) -> None:
        super().__init__(str(message))
        self.message = str(message)


def _lock_course(course_id: int) -> Course:
    # Lock the course row so that seat counts and the waiting list cannot race with another
    # enrolment, cancellation or secretariat action on the same course. NO KEY UPDATE does not
    # block the FK checks of concurrent inserts into other tables.
    return Course.objects.select_for_update(no_key=True).get(pk=course_id)


def _seats_taken(course: Course, quota_key: str) -> tuple[int, int]:
    """Seat-holding enrolments in the whole course and in one quota, recounted from the table."""
    counts = Enrollment.objects.filter(course=course, status__in=SEAT_HOLDING).aggregate(
        total=Count("id"), quota=Count("id", filter=Q(quota_key=quota_key))
    )
    return counts["total"], counts["quota"]


def _has_free_seat(course: Course, quota_key: str) -> bool:
    total, in_quota = _seats_taken(course, quota_key)
    if total >= course.capacity:
        return False
    if quota_key:
        quota = next(q for q in course.quotas.all() if q.organisation_type == quota_key)
        return in_quota < quota.seats
    return True


def _notify(enrollment: Enrollment, kind: str) -> Notification:
    """Record the e-mail in the outbox now; send it after commit."""
    from enrollment.tasks import send_notification_task

    notification = Notification.objects.create(enrollment=enrollment, kind=kind)
    enqueue_on_commit(send_notification_task, notification.pk)
    return notification


def _seat_status(course: Course) -> str:
    return Status.REQUESTED if course.requires_approval else Status.CONFIRMED


def _set_status(enrollment: Enrollment, status: str, *, notify: str | None = None) -> None:
    now = timezone.now()
    enrollment.status = status
    fields = ["status", "updated_at"]
    if status == Status.CONFIRMED:
        enrollment.confirmed_at = now
        fields.append("confirmed_at")
    elif status == Status.WAITLISTED:
        enrollment.waitlisted_at = now
        fields.append("waitlisted_at")
    elif status == Status.CANCELLED:
        enrollment.cancelled_at = now
        fields.append("cancelled_at")
    enrollment.save(update_fields=fields)
    invalidate_public_pages()  # seats left are shown on the catalogue and course pages
    if notify:
        _notify(enrollment, notify)


def enroll_participant(*, user: User, course: Course) -> Enrollment:
    """Enrol a user: a seat if one is free (confirmed, or requested when approval is needed),
    otherwise a place on the waiting list, in order of arrival."""
    profile = Profile.objects.select_related("user").filter(user=user).first()
    course = Course.objects.prefetch_related("quotas").get(pk=course.pk)
    problem = deadline_problem(course) or eligibility_problem(profile, course)
    if problem:
        raise EnrollmentError(problem)
    assert profile is not None
    quota_key = quota_key_for(profile, course)
    try:
        with transaction.atomic(durable=True):
            # Our own row first: it contends with nobody but a double click of the same user.
            existing = (
                Enrollment.objects.select_for_update().filter(course=course, user=user).first()
            )
            if existing and existing.status in ACTIVE:
                raise EnrollmentError(_("Sei già iscritto a questo corso."))
            if existing and existing.status == Status.REJECTED:
                raise EnrollmentError(
                    _("La tua richiesta per questo corso è stata respinta dalla segreteria.")
                )
            if existing:  # a cancelled enrolment comes back, at the end of any queue
                enrollment = existing
                enrollment.status = Status.WAITLISTED
                enrollment.quota_key = quota_key
                enrollment.created_at = timezone.now()
                enrollment.cancelled_at = None
                enrollment.save(update_fields=["status", "quota_key", "created_at", "cancelled_at"])
            else:
                # Inserted holding no seat; the decision below, under the lock, sets the status.
                enrollment = Enrollment.objects.create(
                    user=user, course=course, status=Status.WAITLISTED, quota_key=quota_key
                )
            # Lock the course as late as possible but before counting, so the lock is held
            # only for the count and two short writes. We check seats every time, under the
            # lock: we must never overbook a seat.
            locked = _lock_course(course.pk)
            if _has_free_seat(locked, quota_key):
                status = _seat_status(locked)
                kind = Kind.CONFIRMED if status == Status.CONFIRMED else Kind.REQUEST_RECEIVED
            else:
                status, kind = Status.WAITLISTED, Kind.WAITLISTED
            _set_status(enrollment, status, notify=kind)
    except IntegrityError as exc:
        # A double click: the other request created the row first.
        raise EnrollmentError(_("Sei già iscritto a questo corso.")) from exc
    return enrollment


def _promote_next(course: Course, quota_key: str) -> Enrollment | None:
    """Give a freed seat to the first eligible person waiting for it (same quota)."""
    if not _has_free_seat(course, quota_key):
        return None
    waiting = (
        Enrollment.objects.select_for_update(of=("self",))
        .filter(course=course, status=Status.WAITLISTED, quota_key=quota_key)
        .select_related("user__profile")
        .order_by("waitlisted_at", "id")
    )
    for candidate in waiting:
        profile = getattr(candidate.user, "profile", None)
        if eligibility_problem(profile, course) is None:
            _set_status(candidate, _seat_status(course), notify=Kind.PROMOTED)
            return candidate
    return None


def cancel_enrollment(*, enrollment: Enrollment, by_secretariat: bool = False) -> Enrollment:
    """Cancel an enrolment; the seat it held goes to the first person waiting for it."""
    with transaction.atomic(durable=True):
        course = _lock_course(enrollment.course_id)
        enrollment = Enrollment.objects.select_for_update().get(pk=enrollment.pk)
        if enrollment.status not in ACTIVE:
            raise EnrollmentError(_("Questa iscrizione è già annullata o respinta."))
        if not by_secretariat and course_has_started(course):
            raise EnrollmentError(
                _("Il corso è già iniziato: per annullare scrivi alla segreteria.")
            )
        held_seat = enrollment.status in SEAT_HOLDING
        _set_status(enrollment, Status.CANCELLED, notify=Kind.CANCELLED)
        if held_seat:
            _promote_next(course, enrollment.quota_key)
    return enrollment


def make_give_back_token(enrollment: Enrollment) -> str:
    return signing.dumps({"e": enrollment.pk, "u": enrollment.user_id}, salt=GIVE_BACK_SALT)


def enrollment_from_give_back_token(token: str) -> Enrollment:
    try:
        data = signing.loads(token, salt=GIVE_BACK_SALT, max_age=60 * 60 * 24 * 120)
    except signing.BadSignature as exc:
        raise EnrollmentError(_("Il link non è valido.")) from exc
    enrollment = (
        Enrollment.objects.select_related("course", "user")
        .filter(pk=data.get("e"), user_id=data.get("u"))
        .first()
    )
    if enrollment is None:
        raise EnrollmentError(_("Il link non è valido."))
    return enrollment


def give_back_seat(*, token: str) -> Enrollment:
    """The one-click link in the promotion e-mail: give the seat back to the next in line."""
    enrollment = enrollment_from_give_back_token(token)
    return cancel_enrollment(enrollment=enrollment)


# --- Secretariat -------------------------------------------------------------------------------


def _bulk(course: Course, ids: Iterable[int]) -> list[Enrollment]:
    return list(
        Enrollment.objects.select_for_update(of=("self",))
        .filter(course=course, pk__in=list(ids))
        .select_related("user__profile")
        .order_by("created_at", "id")
    )


def approve_enrollments(*, course: Course, enrollment_ids: Iterable[int]) -> int:
    """Confirm requests awaiting the secretariat (they already hold a seat)."""
    with transaction.atomic(durable=True):
        course = _lock_course(course.pk)
        done = 0
        for enrollment in _bulk(course, enrollment_ids):
            if enrollment.status == Status.REQUESTED:
                _set_status(enrollment, Status.CONFIRMED, notify=Kind.CONFIRMED)
                done += 1
    return done


def reject_enrollments(*, course: Course, enrollment_ids: Iterable[int]) -> int:
    """Reject requests or waiting-list places; a freed seat goes to the next in line."""
    with transaction.atomic(durable=True):
        course = _lock_course(course.pk)
        done = 0
        freed: list[str] = []
        for enrollment in _bulk(course, enrollment_ids):
            if enrollment.status in (Status.REQUESTED, Status.WAITLISTED):
                if enrollment.status == Status.REQUESTED:
                    freed.append(enrollment.quota_key)
                _set_status(enrollment, Status.REJECTED, notify=Kind.REJECTED)
                done += 1
        for quota_key in freed:
            _promote_next(course, quota_key)
    return done


def confirm_from_waitlist(*, course: Course, enrollment_ids: Iterable[int]) -> tuple[int, int]:
    """Give seats to chosen people on the waiting list while seats remain; (moved, left)."""
    with transaction.atomic(durable=True):
        course = _lock_course(course.pk)
        moved = skipped = 0
        for enrollment in _bulk(course, enrollment_ids):
            if enrollment.status != Status.WAITLISTED:
                continue
            if _has_free_seat(course, enrollment.quota_key):
                _set_status(enrollment, Status.CONFIRMED, notify=Kind.CONFIRMED)
                moved += 1
            else:
                skipped += 1
    return moved, skipped


def move_to_waitlist(*, course: Course, enrollment_ids: Iterable[int]) -> int:
    """Put confirmed or requested people back on the waiting list (at its end)."""
    with transaction.atomic(durable=True):
        course = _lock_course(course.pk)
        done = 0
        for enrollment in _bulk(course, enrollment_ids):
            if enrollment.status in SEAT_HOLDING:
                _set_status(enrollment, Status.WAITLISTED, notify=Kind.WAITLISTED)
                done += 1
    return done


def cancel_enrollments(*, course: Course, enrollment_ids: Iterable[int]) -> int:
    """Secretariat cancellation, also after the course started; freed seats are re-assigned."""
    done = 0
    for enrollment in Enrollment.objects.filter(course=course, pk__in=list(enrollment_ids)):
        try:
            cancel_enrollment(enrollment=enrollment, by_secretariat=True)
        except EnrollmentError:
            continue
        done += 1
    return done


def queue_reminders(*, days_before: int) -> int:
    """Queue one reminder per confirmed participant of courses starting in `days_before` days."""
    first_day = timezone.localdate() + dt.timedelta(days=days_before)
    course_ids = (
        Course.objects.annotate(first_day=Min("sessions__date"))
        .filter(first_day=first_day)
        .values_list("pk", flat=True)
    )
    created = 0
    pending = Enrollment.objects.filter(
        course_id__in=list(course_ids), status=Status.CONFIRMED
    ).exclude(notifications__kind=Kind.REMINDER)
    for enrollment in pending:
        try:
            with transaction.atomic():
                _notify(enrollment, Kind.REMINDER)
        except IntegrityError:
            continue  # a concurrent run queued it first: the constraint keeps it to one
        created += 1
    return created
