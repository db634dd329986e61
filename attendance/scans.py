"""Entry and exit at the venue: scans of the participant's QR code, or by hand.

Scans are append-only, each with the time it happened on the scanning device. After every
accepted scan the participant's minutes for the session are derived again from all their scans
(the entry→exit intervals, clamped to the session) and written through the audited attendance
service, in the same transaction and under the same locks: the session first, then the row.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from attendance.models import Scan, Source
from attendance.selectors import open_entries
from attendance.services import AttendanceError, AttendanceValues, _lock_session, _write
from core.formatting import short_date
from courses.models import Session, minutes_between
from enrollment.errors import EnrollmentError
from enrollment.models import Enrollment
from enrollment.tokens import enrollment_from_check_in_token

if TYPE_CHECKING:
    from accounts.models import User

AUTO = "auto"
# A device clock a little ahead of the server's is not a forgery.
CLOCK_TOLERANCE = dt.timedelta(minutes=2)
# The same person scanned again this soon is a code held too long in front of the camera, not a
# real exit (matters in the automatic mode, which would otherwise toggle).
REPEAT_WINDOW = dt.timedelta(seconds=60)


@dataclass(frozen=True)
class ScanResult:
    scan: Scan
    name: str
    # The same nonce had already been recorded: nothing was written this time.
    repeated: bool


def _time_text(moment: dt.datetime) -> str:
    return f"{timezone.localtime(moment):%H:%M}"


def _person(enrollment: Enrollment) -> str:
    return enrollment.user.get_full_name() or enrollment.user.email


def _local_minute(moment: dt.datetime) -> dt.time:
    return timezone.localtime(moment).time().replace(second=0, microsecond=0)


def intervals(scans: Sequence[Scan]) -> list[tuple[Scan, Scan]]:
    """The entry→exit pairs of one person's scans in one session, in time order.

    Tolerant of a sequence made odd by late uploads: an entry while inside and an exit while
    outside are ignored; an entry with no exit yet is not an interval.
    """
    pairs = []
    opened: Scan | None = None
    for scan in sorted(scans, key=lambda s: (s.scanned_at, s.pk or 0)):
        if scan.kind == Scan.Kind.ENTRY and opened is None:
            opened = scan
        elif scan.kind == Scan.Kind.EXIT and opened is not None:
            pairs.append((opened, scan))
            opened = None
    return pairs


def values_from_scans(*, session: Session, scans: Sequence[Scan]) -> AttendanceValues | None:
    """Minutes = the sum of the entry→exit intervals, each clamped to the session.

    With one interval the row keeps its entry and exit times (as the register does); with
    several it keeps the minutes only. None when there is no closed interval yet.
    """
    pairs = intervals(scans)
    if not pairs:
        return None
    minutes = 0
    for entry, exit in pairs:
        start = max(_local_minute(entry.scanned_at), session.start)
        end = min(_local_minute(exit.scanned_at), session.end)
        if start < end:
            minutes += minutes_between(start, end)
    if len(pairs) == 1:
        entry_time = _local_minute(pairs[0][0].scanned_at)
        exit_time = _local_minute(pairs[0][1].scanned_at)
        if entry_time < exit_time:
            return AttendanceValues(minutes=minutes, entry=entry_time, exit=exit_time)
    return AttendanceValues(minutes=minutes, entry=None, exit=None)


def _detail(session: Session, scans: Sequence[Scan]) -> str:
    parts = []
    for entry, exit in intervals(scans):
        text = f"{_time_text(entry.scanned_at)}–{_time_text(exit.scanned_at)}"
        if exit.automatic:
            text += " " + _("(uscita automatica a fine giornata)")
        parts.append(text)
    return ", ".join(parts)


def _rewrite_attendance(
    *, session: Session, enrollment_id: int, recorded_by: User | None, source: str
) -> None:
    """Derive the person's minutes from all their scans and write them, audited."""
    scans = list(Scan.objects.filter(session=session, enrollment_id=enrollment_id))
    values = values_from_scans(session=session, scans=scans)
    if values is None:
        return
    _write(
        enrollment_id=enrollment_id,
        session=session,
        values=values,
        recorded_by=recorded_by,
        source=source,
        source_detail=_detail(session, scans),
        file_sha256="",
    )


def _state_before(scans: Sequence[Scan], moment: dt.datetime) -> Scan | None:
    """The person's last scan at or before `moment`: an entry means inside."""
    earlier = [s for s in scans if s.scanned_at <= moment]
    return max(earlier, key=lambda s: (s.scanned_at, s.pk)) if earlier else None


def _check_time(session: Session, scanned_at: dt.datetime) -> None:
    if timezone.is_naive(scanned_at):
        raise AttendanceError(_("L'ora della scansione non è valida."))
    if scanned_at > timezone.now() + CLOCK_TOLERANCE:
        raise AttendanceError(
            _(
                "L'ora della scansione è nel futuro: controlla data e ora del dispositivo. "
                "Nulla è stato registrato."
            )
        )
    if timezone.localtime(scanned_at).date() != session.date:
        raise AttendanceError(
            _("La giornata scelta è del %(day)s, non del giorno della scansione (%(scan)s).")
            % {"day": short_date(session.date), "scan": short_date(scanned_at)}
        )


def _record(
    *,
    session: Session,
    enrollment_id: int,
    kind: str,
    nonce: uuid.UUID,
    scanned_at: dt.datetime,
    scanned_by: User,
    source: str,
) -> ScanResult:
    if kind not in (Scan.Kind.ENTRY, Scan.Kind.EXIT, AUTO):
        raise AttendanceError(_("Scegli se registrare l'entrata o l'uscita."))
    with transaction.atomic(durable=True):
        # The session lock also serialises every scan of the session, so two devices scanning
        # the same person cannot both decide from the same "inside" state.
        session = _lock_session(session.pk)
        previous = Scan.objects.filter(nonce=nonce).select_related("enrollment__user").first()
        if previous is not None:
            return ScanResult(scan=previous, name=_person(previous.enrollment), repeated=True)
        enrollment = (
            Enrollment.objects.select_related("user", "course").filter(pk=enrollment_id).first()
        )
        if enrollment is None:
            raise AttendanceError(_("Partecipante non trovato."))
        name = _person(enrollment)
        if enrollment.course_id != session.course_id:
            raise AttendanceError(
                _("%(name)s è iscritto a un altro corso (%(course)s), non a questo.")
                % {"name": name, "course": enrollment.course.code}
            )
        if enrollment.status == Enrollment.Status.CANCELLED:
            raise AttendanceError(_("L'iscrizione di %(name)s è stata annullata.") % {"name": name})
        if not enrollment.is_confirmed:
            raise AttendanceError(_("L'iscrizione di %(name)s non è confermata.") % {"name": name})
        _check_time(session, scanned_at)
        scans = list(Scan.objects.filter(session=session, enrollment=enrollment))
        last = _state_before(scans, scanned_at)
        inside = last is not None and last.kind == Scan.Kind.ENTRY
        if kind == AUTO:
            kind = Scan.Kind.EXIT if inside else Scan.Kind.ENTRY
        if kind == Scan.Kind.ENTRY and inside and last is not None:
            raise AttendanceError(
                _("%(name)s è già in aula (entrata alle %(time)s).")
                % {"name": name, "time": _time_text(last.scanned_at)}
            )
        if kind == Scan.Kind.EXIT and not inside:
            raise AttendanceError(
                _("%(name)s non risulta in aula: registra prima l'entrata.") % {"name": name}
            )
        if kind == Scan.Kind.ENTRY and timezone.localtime(scanned_at).time() >= session.end:
            raise AttendanceError(
                _("La giornata è terminata alle %(end)s: l'entrata di %(name)s non è registrata.")
                % {"end": f"{session.end:%H:%M}", "name": name}
            )
        if last is not None and scanned_at - last.scanned_at < REPEAT_WINDOW:
            raise AttendanceError(
                _(
                    "%(name)s è appena stato registrato (alle %(time)s): la scansione "
                    "ripetuta è ignorata."
                )
                % {"name": name, "time": _time_text(last.scanned_at)}
            )
        scan = Scan(
            session=session,
            enrollment=enrollment,
            kind=kind,
            scanned_at=scanned_at,
            received_at=timezone.now(),
            nonce=nonce,
            source=source,
            scanned_by=scanned_by,
        )
        try:
            with transaction.atomic():
                scan.save(force_insert=True)
        except IntegrityError:
            # The same upload, committed meanwhile by a request that locked the session first
            # cannot happen; the constraint is the last defence all the same.
            raise AttendanceError(_("Questa scansione è già stata registrata.")) from None
        _rewrite_attendance(
            session=session, enrollment_id=enrollment.pk, recorded_by=scanned_by, source=source
        )
    return ScanResult(scan=scan, name=name, repeated=False)


def record_qr_scan(
    *,
    session: Session,
    token: str,
    kind: str,
    nonce: uuid.UUID,
    scanned_at: dt.datetime,
    scanned_by: User,
) -> ScanResult:
    """Record the entry or exit of the participant whose code was scanned ("auto": the opposite
    of their state at that time). The same nonce again returns the first result."""
    existing = Scan.objects.filter(nonce=nonce).select_related("enrollment__user").first()
    if existing is not None:
        return ScanResult(scan=existing, name=_person(existing.enrollment), repeated=True)
    try:
        enrollment = enrollment_from_check_in_token(token)
    except EnrollmentError as exc:
        raise AttendanceError(exc.message) from exc
    return _record(
        session=session,
        enrollment_id=enrollment.pk,
        kind=kind,
        nonce=nonce,
        scanned_at=scanned_at,
        scanned_by=scanned_by,
        source=Source.QR,
    )


def record_manual_scan(
    *,
    session: Session,
    enrollment_id: int,
    kind: str,
    nonce: uuid.UUID,
    scanned_by: User,
    scanned_at: dt.datetime | None = None,
) -> ScanResult:
    """The fallback for someone without their code: same rules and record, source "manual"."""
    return _record(
        session=session,
        enrollment_id=enrollment_id,
        kind=kind,
        nonce=nonce,
        scanned_at=scanned_at or timezone.now(),
        scanned_by=scanned_by,
        source=Source.MANUAL,
    )


def close_open_entries(*, now: dt.datetime | None = None) -> int:
    """Close, at the session's end, every entry still open once the session has ended; each
    closure is flagged for the secretariat to confirm. Returns how many; safe to run again."""
    now = now or timezone.now()
    candidates = (
        open_entries()
        .filter(session__date__lte=timezone.localdate(now))
        .values_list("session_id", "enrollment_id")
        .order_by("session_id", "enrollment_id")
        .distinct()
    )
    closed = 0
    for session_id, enrollment_id in list(candidates):
        with transaction.atomic(durable=True):
            session = _lock_session(session_id)
            end = session.ends_at()
            if end > now:
                continue
            scans = list(Scan.objects.filter(session=session, enrollment_id=enrollment_id))
            last = max(scans, key=lambda s: (s.scanned_at, s.pk))
            # Re-checked under the lock: a scan may have closed it since the query above.
            if last.kind != Scan.Kind.ENTRY or last.scanned_at >= end:
                continue
            Scan.objects.create(
                session=session,
                enrollment_id=enrollment_id,
                kind=Scan.Kind.EXIT,
                scanned_at=end,
                received_at=now,
                nonce=uuid.uuid4(),
                source=last.source,
                scanned_by=None,
                automatic=True,
            )
            _rewrite_attendance(
                session=session, enrollment_id=enrollment_id, recorded_by=None, source=last.source
            )
            closed += 1
    return closed


def confirm_automatic_exit(*, session: Session, scan_id: int, confirmed_by: User) -> Scan:
    """The secretariat confirms an exit closed at the session's end (or corrects the minutes in
    the register instead)."""
    with transaction.atomic(durable=True):
        scan = (
            Scan.objects.select_for_update(no_key=True, of=("self",))
            .filter(pk=scan_id, session=session, automatic=True)
            .first()
        )
        if scan is None:
            raise AttendanceError(_("Uscita automatica non trovata."))
        if scan.confirmed_at is None:
            scan.confirmed_at, scan.confirmed_by = timezone.now(), confirmed_by
            scan.save(update_fields=["confirmed_at", "confirmed_by"])
    return scan
