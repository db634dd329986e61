"""Enrolment: every rule about seats, the waiting list and state changes lives here."""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.db.models import Count, prefetch_related_objects
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Profile
from core.pagecache import invalidate_public_pages
from courses.models import Course
from courses.selectors import course_has_started, list_course_ids_starting_on
from enrollment.emails import build_message
from enrollment.errors import EnrollmentError
from enrollment.models import (
    SEAT_HOLDING_STATUSES,
    Enrollment,
    EnrollmentChange,
    Notification,
)
from enrollment.rules import (
    cancellation_problem,
    deadline_problem,
    eligibility_problem,
    quota_key_for,
    reenrollment_problem,
    seat_is_free,
)
from enrollment.tokens import enrollment_from_give_back_token
from portal.celery import app

if TYPE_CHECKING:
    from accounts.models import User

logger = logging.getLogger(__name__)
Status = Enrollment.Status
Kind = Notification.Kind
Action = EnrollmentChange.Action
MAX_SEND_RETRIES = 6


def _lock_course(course_id: int) -> Course:
    # Lock the course row so that seat counts and the waiting list cannot race with another
    # enrolment, cancellation or secretariat action on the same course. NO KEY UPDATE does not
    # block the FK checks of concurrent inserts into other tables.
    # The sessions are not read here: only the paths that promote people need them.
    return (
        Course.objects.select_for_update(no_key=True).prefetch_related("quotas").get(pk=course_id)
    )


@dataclass
class _SeatCounts:
    total: int
    per_quota: dict[str, int]
    waiting: int = 0


def _seats_taken(course: Course) -> _SeatCounts:
    """Seat-holding enrolments of a course, in all and per quota, and the number of people
    waiting, recounted from the table in one query."""
    rows = (
        Enrollment.objects.filter(
            course=course, status__in=(*SEAT_HOLDING_STATUSES, Status.WAITLISTED)
        )
        .values_list("quota_key", "status")
        .annotate(n=Count("id"))
        .order_by()
    )
    per_quota: dict[str, int] = {}
    waiting = 0
    for quota_key, status, n in rows:
        if status == Status.WAITLISTED:
            waiting += n
        else:
            per_quota[quota_key] = per_quota.get(quota_key, 0) + n
    return _SeatCounts(total=sum(per_quota.values()), per_quota=per_quota, waiting=waiting)


def _quota_seats(course: Course) -> dict[str, int]:
    return {q.organisation_type: q.seats for q in course.quotas.all()}


def _has_free_seat(course: Course, counts: _SeatCounts, quota_key: str) -> bool:
    return seat_is_free(
        capacity=course.capacity,
        quotas=_quota_seats(course),
        taken_total=counts.total,
        taken_in_quota=counts.per_quota.get(quota_key, 0),
        quota_key=quota_key,
    )


# --- The outbox ----------------------------------------------------------------------------------


class TransientEmailError(Exception):
    """The mail server could not take the message now; try again later."""


def send_notification(*, notification_id: int) -> bool:
    """Send one outbox e-mail at most once; True if it was sent by this call.

    The row stays locked while the message goes out, so a task delivered twice waits here and
    then finds the status already set to sent.
    """
    transient: Exception | None = None
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update(of=("self",))
            .select_related("enrollment__user", "enrollment__course")
            .filter(pk=notification_id)
            .first()
        )
        if notification is None or notification.status != Notification.Status.PENDING:
            return False
        notification.attempts += 1
        try:
            build_message(notification).send()
        except smtplib.SMTPResponseException as exc:
            if exc.smtp_code >= 500:
                notification.status = Notification.Status.FAILED
            else:
                transient = exc
            notification.last_error = f"SMTP {exc.smtp_code}"
        except (smtplib.SMTPException, OSError) as exc:
            transient = exc
            notification.last_error = type(exc).__name__
        else:
            notification.status = Notification.Status.SENT
            notification.sent_at = timezone.now()
            notification.last_error = ""
        notification.save(update_fields=["attempts", "status", "sent_at", "last_error"])
    if notification.status == Notification.Status.FAILED:
        logger.warning(
            "notification %s failed permanently: %s", notification_id, notification.last_error
        )
    if transient is not None:
        raise TransientEmailError(str(notification.last_error)) from transient
    return notification.status == Notification.Status.SENT


# Defined here, next to the service it runs, so that services can queue it without importing
# enrollment.tasks (which imports services); the name stays the one workers already know.
@app.task(
    name="enrollment.tasks.send_notification_task",
    bind=True,
    acks_late=True,
    max_retries=MAX_SEND_RETRIES,
    ignore_result=True,
)
def send_notification_task(self, notification_id: int) -> bool:
    """Send one outbox e-mail; retried with backoff while the mail server is unavailable."""
    try:
        return send_notification(notification_id=notification_id)
    except TransientEmailError as exc:
        raise self.retry(exc=exc, countdown=2 ** (self.request.retries * 2)) from exc


def _notify(enrollment: Enrollment, kind: str) -> Notification:
    """Record the e-mail in the outbox now; send it after commit."""
    notification = Notification.objects.create(enrollment=enrollment, kind=kind)
    send_notification_task.delay_on_commit(notification.pk)
    return notification


def _seat_status(course: Course) -> str:
    return Status.REQUESTED if course.requires_approval else Status.CONFIRMED


def _record(
    enrollment: Enrollment,
    *,
    old_status: str,
    action: str,
    actor: User | None,
    reason: str,
    at: dt.datetime,
) -> None:
    EnrollmentChange.objects.create(
        enrollment=enrollment,
        actor=actor,
        changed_at=at,
        action=action,
        old_status=old_status,
        new_status=enrollment.status,
        reason=reason,
    )


def _set_status(
    enrollment: Enrollment,
    status: str,
    *,
    action: str,
    actor: User | None,
    reason: str = "",
    notify: str | None = None,
    old_status: str | None = None,
) -> None:
    now = timezone.now()
    if old_status is None:
        old_status = enrollment.status
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
    _record(enrollment, old_status=old_status, action=action, actor=actor, reason=reason, at=now)
    invalidate_public_pages()  # seats left are shown on the catalogue and course pages
    if notify:
        _notify(enrollment, notify)


def _fill_free_seats(
    course: Course,
    *,
    actor: User | None,
    reason: str = "",
    newcomer_id: int | None = None,
    newcomer_old_status: str = "",
    skip_ids: Collection[int] = (),
) -> list[Enrollment]:
    """Give the course's free seats to the people waiting, in order of arrival.

    Call it with the course locked (`_lock_course`). People are taken by `waitlisted_at`, then
    id; someone no longer eligible, or whose quota is full, is passed over for this seat without
    losing their place. The newcomer (`newcomer_id`) is enrolling right now: they are in the
    queue like everybody else, so they get a seat only if nobody eligible ahead of them can take
    it. Nobody is promoted into a course that has started.
    """
    prefetch_related_objects([course], "sessions")
    if course_has_started(course):
        return []
    counts = _seats_taken(course)
    if counts.total >= course.capacity:
        return []  # the common case of a full course: no need to read the waiting list
    waiting = (
        Enrollment.objects.select_for_update(of=("self",))
        .filter(course=course, status=Status.WAITLISTED)
        .exclude(pk__in=list(skip_ids))
        .select_related("user__profile")
        .order_by("waitlisted_at", "id")
    )
    promoted: list[Enrollment] = []
    for candidate in waiting:
        if counts.total >= course.capacity:
            break
        if not _has_free_seat(course, counts, candidate.quota_key):
            continue
        if eligibility_problem(getattr(candidate.user, "profile", None), course) is not None:
            continue
        status = _seat_status(course)
        if candidate.pk == newcomer_id:
            kind = Kind.CONFIRMED if status == Status.CONFIRMED else Kind.REQUEST_RECEIVED
            # The newcomer's own enrolment: they did it, it is no promotion.
            _set_status(
                candidate,
                status,
                action=Action.ENROLLED,
                actor=candidate.user,
                notify=kind,
                old_status=newcomer_old_status,
            )
        else:
            _set_status(
                candidate,
                status,
                action=Action.PROMOTED,
                actor=actor,
                reason=reason,
                notify=Kind.PROMOTED,
            )
        counts.total += 1
        counts.per_quota[candidate.quota_key] = counts.per_quota.get(candidate.quota_key, 0) + 1
        promoted.append(candidate)
    return promoted


def fill_free_seats(
    *, course: Course, actor: User | None = None, reason: str = ""
) -> list[Enrollment]:
    """Offer a course's free seats to the waiting list in order of arrival (e.g. after the
    capacity or a quota was raised); returns the people promoted."""
    with transaction.atomic(durable=True):
        locked = _lock_course(course.pk)
        return _fill_free_seats(locked, actor=actor, reason=reason)


def _enrollment_problem(profile: Profile | None, course: Course, now: dt.datetime) -> str | None:
    problem = deadline_problem(course, now) or eligibility_problem(profile, course)
    if not problem and course_has_started(course):
        problem = str(_("Il corso è già iniziato: le iscrizioni sono chiuse."))
    return problem


def _enroll_newcomer(
    *, user: User, course: Course, profile: Profile, now: dt.datetime
) -> Enrollment | None:
    """The common case of a rush, in one short transaction: someone enrolling in this course
    for the first time, with nobody in line who could take a free seat before them.

    The seat is decided before the row is written, so the row is inserted once with its final
    status. Returns None, having written nothing, when the general path must decide: people
    wait while seats are free (some of them may be passed over), or a row of this person
    exists already (a double click, or coming back after cancelling).
    """
    try:
        with transaction.atomic(durable=True):
            # We check seats every time, under the course lock: we must never overbook a seat.
            locked = _lock_course(course.pk)
            # The course as it is now, not as the caller loaded it (perhaps from a cache): the
            # deadline and who may enrol are decided on it too, at the arrival time.
            problem = deadline_problem(locked, now) or eligibility_problem(profile, locked)
            if problem:
                raise EnrollmentError(problem)
            quota_key = quota_key_for(profile, locked)
            counts = _seats_taken(locked)
            if counts.waiting and counts.total < locked.capacity:
                return None
            if _has_free_seat(locked, counts, quota_key):
                status = _seat_status(locked)
                kind = Kind.CONFIRMED if status == Status.CONFIRMED else Kind.REQUEST_RECEIVED
            else:
                status, kind = Status.WAITLISTED, Kind.WAITLISTED
            # Only the list's order of arrival uses waitlisted_at: a seat-holder has it too, as
            # in the general path, where everyone enters through the waiting list.
            enrollment = Enrollment.objects.create(
                user=user,
                course=course,
                status=status,
                quota_key=quota_key,
                waitlisted_at=now,
                confirmed_at=now if status == Status.CONFIRMED else None,
            )
            _record(
                enrollment, old_status="", action=Action.ENROLLED, actor=user, reason="", at=now
            )
            if status != Status.WAITLISTED:
                invalidate_public_pages()  # seats left are shown on the public pages
            _notify(enrollment, kind)
            return enrollment
    except IntegrityError:
        return None


def enroll_participant(*, user: User, course: Course, profile: Profile | None = None) -> Enrollment:
    """Enrol a user: a seat if one is free and nobody eligible is waiting for it (confirmed, or
    requested when approval is needed), otherwise a place on the waiting list, in order of
    arrival. `profile` is the user's, if the caller has just loaded it."""
    now = timezone.now()  # arrival: the deadline and the place in line are taken from it
    if profile is None or profile.user_id != user.pk:
        profile = Profile.objects.filter(user=user).first()
    # Reuses the quotas and sessions the caller prefetched, if any: a refusal needs no lock.
    prefetch_related_objects([course], "quotas", "sessions")
    if problem := _enrollment_problem(profile, course, now):
        raise EnrollmentError(problem)
    assert profile is not None
    newcomer = _enroll_newcomer(user=user, course=course, profile=profile, now=now)
    if newcomer is not None:
        return newcomer
    # The general path, rarely taken: on the course as it is now.
    course = Course.objects.prefetch_related("quotas", "sessions").get(pk=course.pk)
    if problem := _enrollment_problem(profile, course, now):
        raise EnrollmentError(problem)
    quota_key = quota_key_for(profile, course)
    try:
        with transaction.atomic(durable=True):
            # Our own row first: it contends with nobody but a double click of the same user.
            existing = (
                Enrollment.objects.select_for_update(of=("self",))
                .filter(course=course, user=user)
                .order_by()
                .first()
            )
            if problem := reenrollment_problem(existing):
                raise EnrollmentError(problem)
            now = timezone.now()
            old_status = existing.status if existing else ""
            if existing:  # a cancelled enrolment comes back, at the end of any queue
                enrollment = existing
                enrollment.status = Status.WAITLISTED
                enrollment.quota_key = quota_key
                enrollment.created_at = now
                enrollment.waitlisted_at = now
                enrollment.confirmed_at = None
                enrollment.cancelled_at = None
                enrollment.save(
                    update_fields=[
                        "status",
                        "quota_key",
                        "created_at",
                        "waitlisted_at",
                        "confirmed_at",
                        "cancelled_at",
                        "updated_at",
                    ]
                )
            else:
                # Inserted at the end of the waiting list; the queue, under the lock, decides.
                enrollment = Enrollment.objects.create(
                    user=user,
                    course=course,
                    status=Status.WAITLISTED,
                    quota_key=quota_key,
                    waitlisted_at=now,
                )
            # Lock the course as late as possible but before counting, so the lock is held
            # only for the count and a few short writes. We check seats every time, under the
            # lock: we must never overbook a seat.
            locked = _lock_course(course.pk)
            promoted = _fill_free_seats(
                locked,
                actor=None,
                newcomer_id=enrollment.pk,
                newcomer_old_status=old_status,
            )
            mine = next((e for e in promoted if e.pk == enrollment.pk), None)
            if mine is not None:
                enrollment = mine
            else:
                _record(
                    enrollment,
                    old_status=old_status,
                    action=Action.ENROLLED,
                    actor=user,
                    reason="",
                    at=now,
                )
                _notify(enrollment, Kind.WAITLISTED)
    except IntegrityError as exc:
        # A double click: the other request created the row first.
        raise EnrollmentError(_("Sei già iscritto a questo corso.")) from exc
    return enrollment


def cancel_enrollment(
    *,
    enrollment: Enrollment,
    by_secretariat: bool = False,
    actor: User | None = None,
    reason: str = "",
) -> Enrollment:
    """Cancel an enrolment; the seat it held goes to the first person waiting for it."""
    with transaction.atomic(durable=True):
        course = _lock_course(enrollment.course_id)
        prefetch_related_objects([course], "sessions")
        enrollment = Enrollment.objects.select_for_update(of=("self",)).get(pk=enrollment.pk)
        problem = cancellation_problem(
            enrollment, course_started=course_has_started(course), by_secretariat=by_secretariat
        )
        if problem:
            raise EnrollmentError(problem)
        held_seat = enrollment.holds_seat
        _set_status(
            enrollment,
            Status.CANCELLED,
            action=Action.CANCELLED,
            actor=actor,
            reason=reason,
            notify=Kind.CANCELLED,
        )
        if held_seat:
            _fill_free_seats(
                course, actor=None, reason=str(_("Posto liberato da un annullamento."))
            )
    return enrollment


def give_back_seat(*, token: str) -> Enrollment:
    """The one-click link in the promotion e-mail: give the seat back to the next in line."""
    enrollment = enrollment_from_give_back_token(token)
    return cancel_enrollment(
        enrollment=enrollment,
        actor=enrollment.user,
        reason=str(_("Posto restituito con il link dell'e-mail.")),
    )


# --- Secretariat -------------------------------------------------------------------------------


def _bulk(course: Course, ids: Iterable[int]) -> list[Enrollment]:
    """The chosen enrolments of a locked course, locked, in order of arrival on the list."""
    return list(
        Enrollment.objects.select_for_update(of=("self",))
        .filter(course=course, pk__in=list(ids))
        .select_related("user__profile")
        .order_by("waitlisted_at", "created_at", "id")
    )


def approve_enrollments(
    *, course: Course, enrollment_ids: Iterable[int], actor: User | None = None, reason: str = ""
) -> int:
    """Confirm requests awaiting the secretariat (they already hold a seat)."""
    with transaction.atomic(durable=True):
        course = _lock_course(course.pk)
        done = 0
        for enrollment in _bulk(course, enrollment_ids):
            if enrollment.status == Status.REQUESTED:
                _set_status(
                    enrollment,
                    Status.CONFIRMED,
                    action=Action.APPROVED,
                    actor=actor,
                    reason=reason,
                    notify=Kind.CONFIRMED,
                )
                done += 1
    return done


def reject_enrollments(
    *, course: Course, enrollment_ids: Iterable[int], actor: User | None = None, reason: str = ""
) -> int:
    """Reject requests or waiting-list places; a freed seat goes to the next in line."""
    with transaction.atomic(durable=True):
        course = _lock_course(course.pk)
        done = 0
        freed = False
        for enrollment in _bulk(course, enrollment_ids):
            if enrollment.status in (Status.REQUESTED, Status.WAITLISTED):
                freed = freed or enrollment.status == Status.REQUESTED
                _set_status(
                    enrollment,
                    Status.REJECTED,
                    action=Action.REJECTED,
                    actor=actor,
                    reason=reason,
                    notify=Kind.REJECTED,
                )
                done += 1
        if freed:
            _fill_free_seats(course, actor=None, reason=str(_("Posto liberato da un rifiuto.")))
    return done


def confirm_from_waitlist(
    *, course: Course, enrollment_ids: Iterable[int], actor: User | None = None, reason: str = ""
) -> tuple[int, int]:
    """Give seats to chosen people on the waiting list while seats remain, in their order on
    the list; (moved, left)."""
    with transaction.atomic(durable=True):
        course = _lock_course(course.pk)
        counts = _seats_taken(course)
        moved = skipped = 0
        for enrollment in _bulk(course, enrollment_ids):
            if enrollment.status != Status.WAITLISTED:
                continue
            if _has_free_seat(course, counts, enrollment.quota_key):
                _set_status(
                    enrollment,
                    Status.CONFIRMED,
                    action=Action.CONFIRMED_FROM_WAITLIST,
                    actor=actor,
                    reason=reason,
                    notify=Kind.CONFIRMED,
                )
                counts.total += 1
                key = enrollment.quota_key
                counts.per_quota[key] = counts.per_quota.get(key, 0) + 1
                moved += 1
            else:
                skipped += 1
    return moved, skipped


def move_to_waitlist(
    *, course: Course, enrollment_ids: Iterable[int], actor: User | None = None, reason: str = ""
) -> int:
    """Put confirmed or requested people back on the waiting list (at its end); the seats they
    free go to the people already waiting."""
    with transaction.atomic(durable=True):
        course = _lock_course(course.pk)
        moved: list[int] = []
        for enrollment in _bulk(course, enrollment_ids):
            if enrollment.holds_seat:
                _set_status(
                    enrollment,
                    Status.WAITLISTED,
                    action=Action.WAITLISTED,
                    actor=actor,
                    reason=reason,
                    notify=Kind.WAITLISTED,
                )
                moved.append(enrollment.pk)
        if moved:
            # The secretariat took these seats away on purpose: they go to the others in line,
            # not straight back to the people just moved.
            _fill_free_seats(
                course,
                actor=None,
                reason=str(_("Posto liberato da uno spostamento in lista d'attesa.")),
                skip_ids=moved,
            )
    return len(moved)


def cancel_enrollments(
    *, course: Course, enrollment_ids: Iterable[int], actor: User | None = None, reason: str = ""
) -> int:
    """Secretariat cancellation, also after the course started; freed seats are re-assigned."""
    done = 0
    for enrollment in Enrollment.objects.filter(course=course, pk__in=list(enrollment_ids)):
        try:
            cancel_enrollment(
                enrollment=enrollment, by_secretariat=True, actor=actor, reason=reason
            )
        except EnrollmentError:
            continue
        done += 1
    return done


def queue_reminders(*, days_before: int) -> int:
    """Queue one reminder per confirmed participant of courses starting in `days_before` days."""
    first_day = timezone.localdate() + dt.timedelta(days=days_before)
    created = 0
    pending = Enrollment.objects.filter(
        course_id__in=list_course_ids_starting_on(first_day), status=Status.CONFIRMED
    ).exclude(notifications__kind=Kind.REMINDER)
    for enrollment in pending:
        try:
            with transaction.atomic():
                _notify(enrollment, Kind.REMINDER)
        except IntegrityError:
            continue  # a concurrent run queued it first: the constraint keeps it to one
        created += 1
    return created
