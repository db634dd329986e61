"""Writes of attendance: every change goes through here, audited in the same transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from attendance.models import Attendance, AttendanceChange, Source
from courses.models import Session, minutes_between
from enrollment.models import Enrollment

if TYPE_CHECKING:
    from accounts.models import User
    from attendance.imports import ImportRow

# Uploaded files wait here between preview and confirmation. They hold personal data, so they
# are deleted on confirmation or discard, and abandoned ones by purge_stale_imports_task: it
# runs every hour (settings.CELERY_BEAT_SCHEDULE), so no file is kept for more than 24 hours.
IMPORT_DIR = "attendance-imports"
IMPORT_MAX_AGE = dt.timedelta(hours=23)


class AttendanceError(Exception):
    """Attendance that cannot be recorded, with a message for the user.

    Bulk services raise it with ``row_errors`` (row key → message) and write nothing.
    """

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        row_errors: dict[int, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.row_errors = row_errors or {}


@dataclass(frozen=True)
class AttendanceValues:
    minutes: int
    entry: dt.time | None
    exit: dt.time | None


def validate_attendance_values(
    *,
    session: Session,
    minutes: int | None = None,
    entry: dt.time | None = None,
    exit: dt.time | None = None,
) -> AttendanceValues:
    """Check minutes or entry/exit against the session; derive minutes from clamped times."""
    has_times = entry is not None or exit is not None
    if has_times and minutes is not None:
        raise AttendanceError(
            _("Indica gli orari di entrata e uscita oppure i minuti, non entrambi.")
        )
    if has_times:
        if entry is None or exit is None:
            raise AttendanceError(_("Indica sia l'orario di entrata sia quello di uscita."))
        if entry >= exit:
            raise AttendanceError(
                _("L'orario di uscita deve essere successivo a quello di entrata."), field="exit"
            )
        # Only the scheduled time counts: arriving early or staying late adds nothing.
        start = max(entry, session.start)
        end = min(exit, session.end)
        derived = minutes_between(start, end) if start < end else 0
        return AttendanceValues(minutes=derived, entry=entry, exit=exit)
    if minutes is None:
        raise AttendanceError(
            _("Indica i minuti di presenza oppure gli orari di entrata e uscita.")
        )
    if minutes < 0 or minutes > session.minutes:
        raise AttendanceError(
            _("I minuti devono essere compresi tra 0 e %(max)d, la durata della giornata.")
            % {"max": session.minutes},
            field="minutes",
        )
    return AttendanceValues(minutes=minutes, entry=None, exit=None)


def validate_attendance_target(*, status: str, course_id: int, session: Session) -> None:
    """Attendance is recorded only for a confirmed enrolment, in a session of its course."""
    if status != Enrollment.Status.CONFIRMED:
        raise AttendanceError(_("Le presenze si registrano solo per le iscrizioni confermate."))
    if course_id != session.course_id:
        raise AttendanceError(_("La giornata non appartiene al corso di questa iscrizione."))


def _locked_rows() -> QuerySet[Attendance]:
    # Only the attendance row itself: locking the joined enrolment or course (as a bare FOR
    # UPDATE over an ordered join would) deadlocks with enrolment services, which lock the course
    # first. NO KEY UPDATE, because minutes and times are not keys.
    return Attendance.objects.select_for_update(no_key=True, of=("self",)).order_by("pk")


def _lock_sessions(session_ids: Iterable[int]) -> dict[int, Session]:
    """Lock sessions (in pk order) against a change of their times; returns them re-read.

    Every writer of attendance takes this lock before the attendance rows, and so does a change
    of a session's times before it re-clamps them: minutes are always checked against the times
    that are committed together with them.
    """
    return {
        session.pk: session
        for session in Session.objects.select_for_update(no_key=True, of=("self",))
        .filter(pk__in=set(session_ids))
        .order_by("pk")
    }


def _lock_session(session_id: int) -> Session:
    session = _lock_sessions([session_id]).get(session_id)
    if session is None:
        raise AttendanceError(_("La giornata non esiste più."))
    return session


def _write(
    *,
    enrollment_id: int,
    session: Session,
    values: AttendanceValues,
    recorded_by: User | None,
    source: str,
    source_detail: str,
    file_sha256: str,
) -> Attendance | None:
    """Create or update one row and its audit entry; the caller holds the transaction."""
    now = timezone.now()
    # Lock the row so that two concurrent edits each see the other's value as "old".
    current = _locked_rows().filter(enrollment_id=enrollment_id, session=session).first()
    if current is None:
        row = Attendance(
            enrollment_id=enrollment_id,
            session=session,
            minutes=values.minutes,
            entry=values.entry,
            exit=values.exit,
            source=source,
            recorded_by=recorded_by,
            recorded_at=now,
        )
        row.full_clean(exclude=["enrollment", "session", "recorded_by"], validate_unique=False)
        try:
            # A savepoint, so that losing a creation race leaves the outer transaction usable.
            with transaction.atomic():
                row.save(force_insert=True)
        except IntegrityError:
            current = _locked_rows().get(enrollment_id=enrollment_id, session=session)
        else:
            _audit(row, None, values, recorded_by, now, source, source_detail, file_sha256)
            return row
    old = AttendanceValues(minutes=current.minutes, entry=current.entry, exit=current.exit)
    if old == values:
        return None
    current.minutes, current.entry, current.exit = values.minutes, values.entry, values.exit
    current.source, current.recorded_by, current.recorded_at = source, recorded_by, now
    current.full_clean(exclude=["enrollment", "session", "recorded_by"], validate_unique=False)
    current.save(update_fields=["minutes", "entry", "exit", "source", "recorded_by", "recorded_at"])
    _audit(current, old, values, recorded_by, now, source, source_detail, file_sha256)
    return current


def _audit(
    row: Attendance,
    old: AttendanceValues | None,
    new: AttendanceValues,
    by: User | None,
    at: dt.datetime,
    source: str,
    detail: str,
    file_sha256: str,
) -> None:
    AttendanceChange.objects.create(
        attendance=row,
        changed_by=by,
        changed_at=at,
        source=source,
        source_detail=detail[:255],
        file_sha256=file_sha256,
        old_minutes=old.minutes if old else None,
        old_entry=old.entry if old else None,
        old_exit=old.exit if old else None,
        new_minutes=new.minutes,
        new_entry=new.entry,
        new_exit=new.exit,
    )


def record_attendance(
    *,
    enrollment: Enrollment,
    session: Session,
    minutes: int | None = None,
    entry: dt.time | None = None,
    exit: dt.time | None = None,
    recorded_by: User | None,
    source: str,
    source_detail: str = "",
    file_sha256: str = "",
) -> Attendance | None:
    """Record one participant's presence at one session; returns None if nothing changed."""
    # Not durable: the admin calls this inside its own transaction.
    with transaction.atomic():
        session = _lock_session(session.pk)
        values = validate_attendance_values(
            session=session, minutes=minutes, entry=entry, exit=exit
        )
        # Read the status afresh: the enrolment may have been cancelled since it was loaded.
        status, course_id = (
            Enrollment.objects.filter(pk=enrollment.pk).values_list("status", "course_id").get()
        )
        validate_attendance_target(status=status, course_id=course_id, session=session)
        return _write(
            enrollment_id=enrollment.pk,
            session=session,
            values=values,
            recorded_by=recorded_by,
            source=source,
            source_detail=source_detail,
            file_sha256=file_sha256,
        )


def reclamp_values(
    *,
    values: AttendanceValues,
    old_start: dt.time,
    old_end: dt.time,
    new_start: dt.time,
    new_end: dt.time,
) -> AttendanceValues:
    """What a row counts once its session's times change: never more than it counted before.

    Minutes alone are capped at the new length. Entry and exit are clamped to the part of the
    session they counted for before that is still inside the new times, and minutes follow
    them; a row with no such part counts 0 minutes and keeps no times.
    """
    if values.entry is None or values.exit is None:
        return AttendanceValues(
            minutes=min(values.minutes, minutes_between(new_start, new_end)), entry=None, exit=None
        )
    start = max(values.entry, old_start, new_start)
    end = min(values.exit, old_end, new_end)
    if start >= end:
        return AttendanceValues(minutes=0, entry=None, exit=None)
    return AttendanceValues(minutes=minutes_between(start, end), entry=start, exit=end)


def reclamp_session_attendance(
    *, session: Session, old_start: dt.time, old_end: dt.time, changed_by: User | None
) -> int:
    """Re-clamp every row of a session whose times changed, each change audited; returns how many.

    The caller holds the transaction and the session's lock (courses.services.update_session_times).
    Rows of enrolments cancelled since are re-clamped too: no row may exceed its session.
    """
    detail = f"{old_start:%H:%M}–{old_end:%H:%M} → {session.start:%H:%M}–{session.end:%H:%M}"
    changed = 0
    for row in _locked_rows().filter(session=session):
        values = reclamp_values(
            values=AttendanceValues(minutes=row.minutes, entry=row.entry, exit=row.exit),
            old_start=old_start,
            old_end=old_end,
            new_start=session.start,
            new_end=session.end,
        )
        written = _write(
            enrollment_id=row.enrollment_id,
            session=session,
            values=values,
            recorded_by=changed_by,
            source=Source.SESSION_CHANGE,
            source_detail=detail,
            file_sha256="",
        )
        changed += written is not None
    return changed


@dataclass(frozen=True)
class RegisterRow:
    """One line of a session's register; either minutes or both times."""

    enrollment_id: int
    minutes: int | None = None
    entry: dt.time | None = None
    exit: dt.time | None = None


@dataclass(frozen=True)
class WriteResult:
    changed: int
    unchanged: int


def record_session_register(
    *, session: Session, rows: Iterable[RegisterRow], recorded_by: User
) -> WriteResult:
    """Save a whole session's register in one transaction, or nothing if any row is wrong.

    Raises AttendanceError whose ``row_errors`` maps enrollment ids to messages.
    """
    # A fixed order, so that two secretaries saving the same register lock rows in the same order.
    rows = sorted(rows, key=lambda r: r.enrollment_id)
    errors: dict[int, str] = {}
    changed = unchanged = 0
    with transaction.atomic(durable=True):
        session = _lock_session(session.pk)
        statuses = dict(
            Enrollment.objects.filter(
                pk__in=[r.enrollment_id for r in rows], course_id=session.course_id
            ).values_list("pk", "status")
        )
        for row in rows:
            try:
                values = validate_attendance_values(
                    session=session, minutes=row.minutes, entry=row.entry, exit=row.exit
                )
                validate_attendance_target(
                    status=statuses.get(row.enrollment_id, ""),
                    course_id=session.course_id,
                    session=session,
                )
            except AttendanceError as exc:
                errors[row.enrollment_id] = exc.message
                continue
            written = _write(
                enrollment_id=row.enrollment_id,
                session=session,
                values=values,
                recorded_by=recorded_by,
                source=Source.REGISTER,
                source_detail="",
                file_sha256="",
            )
            changed, unchanged = (changed + 1, unchanged) if written else (changed, unchanged + 1)
        if errors:
            # Leaving the block with an exception rolls back the rows already written.
            raise AttendanceError(
                _("Alcune righe contengono errori: nessuna presenza è stata salvata."),
                row_errors=errors,
            )
    return WriteResult(changed=changed, unchanged=unchanged)


def import_attendance_rows(
    *,
    rows: Sequence[ImportRow],
    recorded_by: User | None,
    file_name: str,
    file_sha256: str,
    valid_only: bool = False,
    source: str = Source.IMPORT,
) -> WriteResult:
    """Write the rows of a parsed import file in one transaction, each change audited.

    With a bad row and ``valid_only`` false, writes nothing and raises AttendanceError.
    Rows are re-checked here, so a preview gone stale cannot write a wrong row.
    """
    bad = {row.line: row.error for row in rows if row.error}
    if bad and not valid_only:
        raise AttendanceError(
            _("Il file contiene righe non valide: nessuna presenza è stata importata."),
            row_errors=bad,
        )
    # The parser resolves a row's session and enrollment or gives the row an error.
    good = sorted(
        (
            (row, row.session, row.enrollment)
            for row in rows
            if not row.error and row.session is not None and row.enrollment is not None
        ),
        key=lambda item: (item[1].pk, item[2].pk),
    )
    errors: dict[int, str] = {}
    changed = unchanged = 0
    with transaction.atomic(durable=True):
        sessions = _lock_sessions(row_session.pk for _row, row_session, _enrollment in good)
        statuses = dict(
            Enrollment.objects.filter(
                pk__in=[enrollment.pk for _row, _session, enrollment in good]
            ).values_list("pk", "status")
        )
        for row, row_session, enrollment in good:
            try:
                session = sessions.get(row_session.pk)
                if session is None:
                    raise AttendanceError(_("La giornata non esiste più."))
                values = validate_attendance_values(
                    session=session, minutes=row.minutes, entry=row.entry, exit=row.exit
                )
                validate_attendance_target(
                    status=statuses.get(enrollment.pk, ""),
                    course_id=enrollment.course_id,
                    session=session,
                )
            except AttendanceError as exc:
                errors[row.line] = exc.message
                continue
            written = _write(
                enrollment_id=enrollment.pk,
                session=session,
                values=values,
                recorded_by=recorded_by,
                source=source,
                source_detail=file_name,
                file_sha256=file_sha256,
            )
            changed, unchanged = (changed + 1, unchanged) if written else (changed, unchanged + 1)
        if errors:
            raise AttendanceError(
                _("Alcune righe non sono più valide: nessuna presenza è stata importata."),
                row_errors=errors,
            )
    return WriteResult(changed=changed, unchanged=unchanged)


def store_import_file(*, name: str, data: bytes) -> str:
    """Keep an uploaded file until its preview is confirmed or discarded; returns its path."""
    return default_storage.save(f"{IMPORT_DIR}/{name}", ContentFile(data))


def delete_import_file(*, path: str) -> None:
    """Delete a stored import file, if it is still there."""
    if path.startswith(f"{IMPORT_DIR}/") and default_storage.exists(path):
        default_storage.delete(path)


def purge_stale_import_files(*, max_age: dt.timedelta = IMPORT_MAX_AGE) -> int:
    """Delete import files older than ``max_age`` (previews never confirmed); returns how many."""
    if not default_storage.exists(IMPORT_DIR):
        return 0
    limit = timezone.now() - max_age
    deleted = 0
    for name in default_storage.listdir(IMPORT_DIR)[1]:
        path = f"{IMPORT_DIR}/{name}"
        try:
            if default_storage.get_modified_time(path) >= limit:
                continue
            default_storage.delete(path)
        except FileNotFoundError:
            continue  # deleted meanwhile by its confirmation or by another run
        deleted += 1
    return deleted
