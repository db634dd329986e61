"""Issuing certificates: the gate, the snapshot, the PDF, the CAdES seal, the stored `.p7m`.

Rendering and signing take tens of milliseconds, so they happen outside the row lock; the lock
is taken afterwards only to re-check and write. If anything that the document states changed
in between (a concurrent task issued first, attendance was corrected), the work is discarded
or redone: what is stored is always what was true under the lock.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext, ngettext

from accounts.models import Profession, Profile
from certificates.emails import send_certificate_ready_task
from certificates.formatting import format_hours, group_code, new_verification_code
from certificates.models import (
    Certificate,
    CertificateChange,
    NotificationStatus,
    PreviousCertificateFile,
    Seal,
)
from certificates.pdf import CertificateContent, render_certificate_pdf
from certificates.seal import SealNotConfigured, get_signer, get_signer_and_ca_pem
from certificates.selectors import (
    CourseCertificateRow,
    Eligibility,
    get_course_certificates,
    get_eligibility,
    list_not_downloaded_certificates,
)
from certificates.signing import Signer, envelope_certificates
from certificates.tsa import add_timestamp, tsa_configured
from core.formatting import format_dates, format_duration, long_date
from courses.models import Course
from enrollment.models import Enrollment

if TYPE_CHECKING:
    from accounts.models import User

logger = logging.getLogger(__name__)

VALID = Certificate.Status.VALID
# Attempts at issuing when what the document states keeps changing under us.
MAX_ATTEMPTS = 3


class CertificateError(Exception):
    """A certificate that cannot be issued, re-issued or revoked, with a message for the user."""

    def __init__(self, message: object) -> None:
        super().__init__(str(message))
        self.message = str(message)


def _serial_prefix(course_code: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", course_code).strip("-").upper() or "CORSO"


def make_serial(*, course_code: str, year: int, enrollment_id: int, version: int) -> str:
    """«C5092Z-1-2026-000123», then «…-V2» for a corrected version: unique without a counter."""
    serial = f"{_serial_prefix(course_code)}-{year}-{enrollment_id:06d}"
    return serial if version == 1 else f"{serial}-V{version}"


def verification_url(code: str) -> str:
    return settings.SITE_URL + reverse("certificates:verify_code", kwargs={"code": code})


def credits_text(*, fcoas_awarded: bool, fcoas_credits: int | None) -> str:
    """The FCO.AS line: only social workers in a course that grants the credits (never ECM)."""
    if not fcoas_awarded:
        return ""
    if fcoas_credits:
        return ngettext(
            "Riconosciuto %(n)d credito formativo per la formazione continua degli assistenti "
            "sociali (FCO.AS).",
            "Riconosciuti %(n)d crediti formativi per la formazione continua degli assistenti "
            "sociali (FCO.AS).",
            fcoas_credits,
        ) % {"n": fcoas_credits}
    return gettext(
        "Corso valido ai fini della formazione continua degli assistenti sociali (FCO.AS)."
    )


def render_and_sign(content: CertificateContent, *, signer: Signer | None = None) -> bytes:
    """The certificate as a CAdES B-B `.pdf.p7m`: the PDF enveloped unchanged, sealed."""
    pdf = render_certificate_pdf(content)
    return (signer or get_signer()).sign(pdf, mime_type="application/pdf")


def get_seal_record(*, certificate: x509.Certificate, ca_pem: bytes) -> Seal:
    """The row recording a seal certificate (created on its first signature)."""
    der = certificate.public_bytes(serialization.Encoding.DER)
    seal, _created = Seal.objects.get_or_create(
        fingerprint=hashlib.sha256(der).hexdigest(),
        defaults={
            "subject": certificate.subject.rfc4514_string()[:500],
            "serial_number": format(certificate.serial_number, "X"),
            "issuer": certificate.issuer.rfc4514_string()[:500],
            "not_before": certificate.not_valid_before_utc,
            "not_after": certificate.not_valid_after_utc,
            "certificate_pem": certificate.public_bytes(serialization.Encoding.PEM).decode(),
            "ca_pem": ca_pem.decode(),
        },
    )
    return seal


def _seal_signer() -> tuple[Signer, Seal]:
    """The signer to use now and its record; refuses when production has no seal configured."""
    try:
        signer, ca_pem = get_signer_and_ca_pem()
    except SealNotConfigured as exc:
        logger.error("certificate not issued: %s", exc)
        raise CertificateError(
            gettext(
                "Il sigillo elettronico dell'ente non è configurato: gli attestati non possono "
                "essere emessi. Avvisa l'amministratore del portale."
            )
        ) from exc
    return signer, get_seal_record(certificate=signer.certificate, ca_pem=ca_pem)


@dataclass
class _Draft:
    """A certificate rendered and signed, not yet stored."""

    # Keyword arguments for Certificate.objects.create.
    fields: dict[str, Any]
    p7m: bytes
    sha256: str
    # What the document states; compared under the lock with what is true then.
    facts: tuple[object, ...] = field(default=())


def _facts(enrollment: Enrollment, eligibility: Eligibility) -> tuple[object, ...]:
    user = enrollment.user
    profile = Profile.objects.filter(user_id=user.pk).first()
    course = enrollment.course
    return (
        user.first_name.strip(),
        user.last_name.strip(),
        profile.codice_fiscale if profile else "",
        profile.profession if profile else "",
        eligibility.progress.attended_minutes,
        eligibility.progress.total_minutes,
        course.code,
        course.title,
        course.grants_fcoas_credits,
        course.fcoas_credits,
    )


def _draft(
    *, enrollment: Enrollment, eligibility: Eligibility, version: int, now: dt.datetime
) -> _Draft:
    """Render and sign the certificate for the enrolment as it is now."""
    signer, seal = _seal_signer()
    course = enrollment.course
    user = enrollment.user
    facts = _facts(enrollment, eligibility)
    first_name, last_name, codice_fiscale, profession = facts[:4]
    fcoas_awarded = bool(course.grants_fcoas_credits and profession == Profession.SOCIAL_WORKER)
    progress = eligibility.progress
    code = new_verification_code()
    serial = make_serial(
        course_code=course.code,
        year=timezone.localtime(now).year,
        enrollment_id=enrollment.pk,
        version=version,
    )
    language = user.language or settings.LANGUAGE_CODE
    sessions = list(course.sessions.all())
    with translation.override(language):
        content = CertificateContent(
            language=language,
            organiser=course.organiser,
            provider=course.provider,
            course_type=course.course_type,
            course_title=course.title,
            course_code=course.code,
            venue=course.venue,
            dates_text=format_dates(s.date for s in sessions),
            session_count=len({s.date for s in sessions}),
            holder_name=f"{first_name} {last_name}",
            codice_fiscale=str(codice_fiscale),
            hours_text=format_hours(progress.attended_minutes, progress.total_minutes),
            threshold_percent=course.attendance_threshold_percent,
            credits_text=credits_text(
                fcoas_awarded=fcoas_awarded, fcoas_credits=course.fcoas_credits
            ),
            scientific_lead=course.scientific_lead,
            teachers=[teacher.name for teacher in course.teachers.order_by("name")],
            place=getattr(settings, "CERTIFICATES_ISSUE_PLACE", "") or "Milano",
            issue_date_text=long_date(timezone.localtime(now).date()),
            serial=serial,
            verification_code=group_code(code),
            verify_url=verification_url(code),
        )
        p7m = render_and_sign(content, signer=signer)
    # CAdES B-T when the TSA answers; otherwise B-B now and the periodic upgrade stamps it.
    timestamped_at = None
    if (stamped := add_timestamp(p7m)) is not None:
        p7m, timestamped_at = stamped
    return _Draft(
        fields={
            "enrollment": enrollment,
            "version": version,
            "serial": serial,
            "code": code,
            "holder_first_name": first_name,
            "holder_last_name": last_name,
            "codice_fiscale": codice_fiscale,
            "profession": profession,
            "course_code": course.code,
            "course_title": course.title,
            "attended_minutes": progress.attended_minutes,
            "total_minutes": progress.total_minutes,
            "fcoas_awarded": fcoas_awarded,
            "fcoas_credits": course.fcoas_credits if fcoas_awarded else None,
            "language": language,
            "issued_at": now,
            "timestamped_at": timestamped_at,
            "seal": seal,
        },
        p7m=p7m,
        sha256=hashlib.sha256(p7m).hexdigest(),
        facts=facts,
    )


def _load(enrollment_id: int) -> Enrollment:
    return (
        Enrollment.objects.select_related("course", "user")
        .prefetch_related("course__sessions")
        .get(pk=enrollment_id)
    )


def _next_version(enrollment_id: int) -> int:
    latest = Certificate.objects.filter(enrollment_id=enrollment_id).aggregate(v=Max("version"))
    return (latest["v"] or 0) + 1


def _store(draft: _Draft, *, replaces: Certificate | None = None) -> Certificate:
    """Write the row and the file; the caller holds the lock and the transaction."""
    certificate = Certificate(**draft.fields, sha256=draft.sha256, replaces=replaces)
    # Field-level checks only: the constraints are the database's, and it enforces them.
    certificate.full_clean(
        exclude=["enrollment", "replaces", "file"],
        validate_unique=False,
        validate_constraints=False,
    )
    certificate.file.save(certificate.filename, ContentFile(draft.p7m), save=False)
    try:
        # A savepoint: a unique-constraint failure must not poison the caller's transaction.
        with transaction.atomic():
            certificate.save(force_insert=True)
    except IntegrityError:
        certificate.file.delete(save=False)
        raise
    # The row is the e-mail's outbox entry (notification pending), committed with the
    # certificate; the task is only a nudge. A broker outage or an e-mail failure never rolls
    # back a certificate: the periodic flush sends what is still pending.
    send_certificate_ready_task.delay_on_commit(certificate.pk)
    return certificate


def _revoke(
    certificate: Certificate,
    *,
    reason: str,
    now: dt.datetime,
    actor: User | None,
    replacement: Certificate | None = None,
) -> None:
    """Revoke and log who did it, when and why; the caller holds the lock and the transaction."""
    certificate.status = Certificate.Status.REVOKED
    certificate.revoked_at = now
    certificate.revocation_reason = reason[:255]
    certificate.save(update_fields=["status", "revoked_at", "revocation_reason"])
    CertificateChange.objects.create(
        certificate=certificate,
        action=(
            CertificateChange.Action.REISSUED
            if replacement is not None
            else CertificateChange.Action.REVOKED
        ),
        replacement=replacement,
        changed_by=actor,
        changed_at=now,
        reason=reason[:255],
    )


def _no_longer_current(replacing: Certificate, current: Certificate | None) -> CertificateError:
    """Why a re-issue of `replacing` is refused: it was revoked, or a newer version exists."""
    if current is not None:
        return CertificateError(
            gettext(
                "L'attestato n. %(serial)s è già stato sostituito dalla versione n. %(current)s."
            )
            % {"serial": replacing.serial, "current": current.serial}
        )
    return CertificateError(
        gettext("L'attestato n. %(serial)s è stato revocato: non si può sostituire.")
        % {"serial": replacing.serial}
    )


def _attendance_exceeds_course(eligibility: Eligibility) -> CertificateError | None:
    progress = eligibility.progress
    if progress.attended_minutes <= progress.total_minutes:
        return None
    # E.g. a session shortened after attendance was recorded: the certificate would state more
    # hours than the course lasted.
    return CertificateError(
        gettext(
            "Le presenze registrate (%(attended)s) superano la durata del corso (%(total)s): "
            "correggi il registro delle presenze prima di emettere l'attestato."
        )
        % {
            "attended": format_duration(progress.attended_minutes),
            "total": format_duration(progress.total_minutes),
        }
    )


def _storage_refusal(draft: _Draft, exc: IntegrityError) -> CertificateError:
    """Name the constraint that refused the row, so no refusal says "already issued" wrongly."""
    enrollment_id = draft.fields["enrollment"].pk
    if Certificate.objects.filter(enrollment_id=enrollment_id, status=VALID).exists():
        return CertificateError(gettext("L'attestato è già stato rilasciato."))
    if Certificate.objects.filter(
        enrollment_id=enrollment_id, version=draft.fields["version"]
    ).exists():
        return CertificateError(
            gettext(
                "Un'altra versione dell'attestato è stata registrata nello stesso momento: "
                "ricarica la pagina e riprova."
            )
        )
    if Certificate.objects.filter(code=draft.fields["code"]).exists():
        return CertificateError(gettext("Il codice di verifica generato è già in uso: riprova."))
    logger.error("certificate for enrollment %s refused by the database: %s", enrollment_id, exc)
    return CertificateError(
        gettext("L'attestato non è stato registrato perché i suoi dati non sono coerenti.")
    )


def _ineligible(eligibility: Eligibility) -> CertificateError:
    return CertificateError(
        gettext("L'attestato non può ancora essere rilasciato: %(missing)s.")
        % {"missing": "; ".join(eligibility.missing)}
    )


def _issue(
    *,
    enrollment_id: int,
    replacing: Certificate | None,
    reason: str,
    now: dt.datetime | None,
    actor: User | None = None,
) -> tuple[Certificate, bool]:
    code_taken = False  # why the last attempt started over, for the final refusal
    for _attempt in range(MAX_ATTEMPTS):
        code_taken = False
        enrollment = _load(enrollment_id)
        current = Certificate.objects.filter(enrollment_id=enrollment_id, status=VALID).first()
        if replacing is None and current is not None:
            return current, False
        if replacing is not None and (current is None or current.pk != replacing.pk):
            raise _no_longer_current(replacing, current)
        moment = now or timezone.now()
        eligibility = get_eligibility(enrollment, now=moment)
        if not eligibility.eligible:
            raise _ineligible(eligibility)
        if (error := _attendance_exceeds_course(eligibility)) is not None:
            raise error
        draft = _draft(
            enrollment=enrollment,
            eligibility=eligibility,
            version=_next_version(enrollment_id),
            now=moment,
        )
        with transaction.atomic(durable=True):
            # Lock the enrolment: every issuer of this enrolment's certificate queues here, and
            # re-checks what the one before it did.
            locked = (
                # of=self: lock the enrolment row only, not the joined course and user rows.
                Enrollment.objects.select_for_update(of=("self",))
                .select_related("course", "user")
                .prefetch_related("course__sessions")
                .get(pk=enrollment_id)
            )
            current = (
                Certificate.objects.select_for_update()
                .filter(enrollment_id=enrollment_id, status=VALID)
                .first()
            )
            if replacing is None and current is not None:
                return current, False  # a concurrent task issued it first
            if replacing is not None and (current is None or current.pk != replacing.pk):
                raise _no_longer_current(replacing, current)
            eligibility = get_eligibility(locked, now=moment)
            if not eligibility.eligible:
                raise _ineligible(eligibility)
            if (
                _facts(locked, eligibility) != draft.facts
                or _next_version(enrollment_id) != draft.fields["version"]
            ):
                continue  # what the document says changed meanwhile: render it again
            # The code is printed on the document, so another one means another rendering.
            code_taken = Certificate.objects.filter(code=draft.fields["code"]).exists()
            if code_taken:
                continue
            draft.fields["enrollment"] = locked
            if current is not None:
                current.status = Certificate.Status.REVOKED  # frees the one-valid constraint
                current.revoked_at = moment
                current.save(update_fields=["status", "revoked_at"])
            try:
                certificate = _store(draft, replaces=current)
            except IntegrityError as exc:
                # Only reachable if someone wrote without taking the lock.
                raise _storage_refusal(draft, exc) from exc
            if current is not None:
                _revoke(current, reason=reason, now=moment, actor=actor, replacement=certificate)
        logger.info("certificate %s issued for enrollment %s", certificate.serial, enrollment_id)
        return certificate, True
    if code_taken:
        raise CertificateError(gettext("Il codice di verifica generato è già in uso: riprova."))
    raise CertificateError(
        gettext("I dati dell'attestato cambiano di continuo: riprova tra qualche minuto.")
    )


def issue_certificate(
    *, enrollment: Enrollment, now: dt.datetime | None = None
) -> tuple[Certificate, bool]:
    """Issue the enrolment's certificate if it has none; (certificate, created). Idempotent."""
    return _issue(enrollment_id=enrollment.pk, replacing=None, reason="", now=now)


def reissue_certificate(
    *, certificate: Certificate, reason: str, actor: User | None
) -> Certificate:
    """A new version with today's data (e.g. a corrected name); the old one is revoked.

    `actor` is who asked (None: the system); the change is logged with the reason.
    """
    reason = reason.strip() or gettext("Sostituito da una nuova versione")
    new, _created = _issue(
        enrollment_id=certificate.enrollment_id,
        replacing=certificate,
        reason=reason,
        now=None,
        actor=actor,
    )
    return new


def revoke_certificate(*, certificate: Certificate, reason: str, actor: User | None) -> Certificate:
    """Withdraw a certificate: the verification page then says it is revoked; logged."""
    if not reason.strip():
        raise CertificateError(gettext("Indica il motivo della revoca."))
    with transaction.atomic(durable=True):
        # of=self: the enrolment row only, as the issuers lock it.
        Enrollment.objects.select_for_update(of=("self",)).get(pk=certificate.enrollment_id)
        certificate = Certificate.objects.select_for_update().get(pk=certificate.pk)
        if certificate.status != VALID:
            current = Certificate.objects.filter(
                enrollment_id=certificate.enrollment_id, status=VALID
            ).first()
            if current is not None:
                raise CertificateError(
                    gettext(
                        "L'attestato n. %(serial)s è già stato sostituito dalla versione "
                        "n. %(current)s: revoca quella, se serve."
                    )
                    % {"serial": certificate.serial, "current": current.serial}
                )
            raise CertificateError(gettext("L'attestato è già revocato."))
        _revoke(certificate, reason=reason.strip(), now=timezone.now(), actor=actor)
    return certificate


def record_missing_seals() -> int:
    """Link certificates issued before seals were recorded to the seal read from their file.

    Only a file whose SHA-256 matches our record is read: then the certificates it embeds are
    the ones we signed with. Returns how many certificates were linked.
    """
    linked = 0
    for certificate in Certificate.objects.filter(seal__isnull=True).order_by("pk").iterator():
        try:
            with certificate.file.open("rb") as fh:
                p7m = fh.read()
            if hashlib.sha256(p7m).hexdigest() != certificate.sha256:
                raise ValueError("the stored file does not match its SHA-256")
            signer_certificate, chain = envelope_certificates(p7m)
        except (OSError, ValueError) as exc:
            logger.warning("no seal recorded for certificate %s: %s", certificate.serial, exc)
            continue
        ca_pem = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in chain)
        seal = get_seal_record(certificate=signer_certificate, ca_pem=ca_pem)
        linked += Certificate.objects.filter(pk=certificate.pk, seal__isnull=True).update(seal=seal)
    return linked


def issue_certificate_if_eligible(*, enrollment_id: int) -> Certificate | None:
    """The automatic path (after the questionnaire, or later): issue only if eligible."""
    enrollment = Enrollment.objects.filter(pk=enrollment_id).select_related("course").first()
    if enrollment is None or not enrollment.is_confirmed:
        return None
    try:
        certificate, _created = issue_certificate(enrollment=enrollment)
    except CertificateError as exc:
        logger.info("no certificate for enrollment %s: %s", enrollment_id, exc.message)
        return None
    return certificate


@dataclass(frozen=True)
class BatchResult:
    issued: list[Certificate]
    already_issued: int
    not_eligible: list[CourseCertificateRow]
    failed: list[tuple[CourseCertificateRow, str]]


def issue_course_certificates(*, course: Course) -> BatchResult:
    """Issue, one by one, every certificate due in a course; report who is missing what."""
    status = get_course_certificates(course)
    issued: list[Certificate] = []
    already = 0
    not_eligible: list[CourseCertificateRow] = []
    failed: list[tuple[CourseCertificateRow, str]] = []
    for row in status.rows:
        if row.certificate is not None:
            already += 1
            continue
        if not row.eligibility.eligible:
            not_eligible.append(row)
            continue
        try:
            certificate, created = issue_certificate(enrollment=row.enrollment)
        except CertificateError as exc:
            failed.append((row, exc.message))
            continue
        if created:
            issued.append(certificate)
        else:
            already += 1
    return BatchResult(
        issued=issued, already_issued=already, not_eligible=not_eligible, failed=failed
    )


def list_due_enrollment_ids(*, course: Course) -> list[int]:
    """Enrolments of a course that are eligible and still have no certificate."""
    return [row.enrollment.pk for row in get_course_certificates(course).rows if row.needs_issuing]


def record_certificate_download(*, certificate: Certificate) -> None:
    """Note the owner's first download (later ones change nothing)."""
    # One conditional UPDATE: two downloads at once cannot both be "first".
    Certificate.objects.filter(pk=certificate.pk, first_downloaded_at__isnull=True).update(
        first_downloaded_at=timezone.now()
    )


def resend_ready_emails(*, course: Course) -> int:
    """Send the "certificate ready" e-mail again to the holders of the course's valid
    certificates who have not downloaded them yet; how many e-mails are queued.

    Each certificate's outbox entry goes back to pending and the send task is queued after
    commit; an entry already pending is only queued, so a double click sends one e-mail.
    """
    with transaction.atomic(durable=True):
        certificates = list(
            list_not_downloaded_certificates(course).select_for_update(of=("self",)).order_by("pk")
        )
        for certificate in certificates:
            if certificate.notification_status != NotificationStatus.PENDING:
                certificate.notification_status = NotificationStatus.PENDING
                certificate.notification_attempts = 0
                certificate.notification_error = ""
                certificate.save(
                    update_fields=[
                        "notification_status",
                        "notification_attempts",
                        "notification_error",
                    ]
                )
            send_certificate_ready_task.delay_on_commit(certificate.pk)
    return len(certificates)


# After this many time-stamp failures in a row the TSA is taken to be down until the next run.
_TSA_FAILURES_BEFORE_PAUSE = 3


def upgrade_certificates_to_bt(*, limit: int = 200) -> int:
    """Add the TSA's time-stamp to valid certificates issued without one; how many got it.

    Idempotent: each certificate is re-checked under its row lock, so two runs never stamp it
    twice. The file keeps its name and verification code; the new SHA-256 is recorded and the
    old one kept, so a file downloaded before the upgrade still verifies as ours.
    """
    if not tsa_configured():
        return 0
    pending = (
        Certificate.objects.filter(status=VALID, timestamped_at__isnull=True)
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    upgraded = failures = 0
    for pk in list(pending):
        outcome = _upgrade_to_bt(pk)
        if outcome is None:
            failures += 1
            if failures >= _TSA_FAILURES_BEFORE_PAUSE:
                break
            continue
        failures = 0
        upgraded += outcome
    return upgraded


def _upgrade_to_bt(pk: int) -> bool | None:
    """Stamp one certificate: True if done, False if nothing to do, None if the TSA failed."""
    certificate = Certificate.objects.get(pk=pk)
    try:
        with certificate.file.open("rb") as fh:
            old = fh.read()
    except OSError as exc:
        logger.error(
            "certificate %s: file unreadable, not time-stamped: %s", certificate.serial, exc
        )
        return False
    old_sha256 = hashlib.sha256(old).hexdigest()
    if old_sha256 != certificate.sha256:
        logger.error(
            "certificate %s: the stored file does not match its SHA-256", certificate.serial
        )
        return False
    # The TSA is asked outside the transaction: no row stays locked while the network answers.
    stamped = add_timestamp(old)
    if stamped is None:
        return None
    new, moment = stamped
    replaced = False
    try:
        with transaction.atomic(durable=True):
            locked = Certificate.objects.select_for_update().get(pk=pk)
            if (
                locked.status != VALID
                or locked.timestamped_at is not None
                or locked.sha256 != old_sha256
            ):
                return False  # revoked or stamped meanwhile
            PreviousCertificateFile.objects.create(
                certificate=locked, sha256=old_sha256, replaced_at=timezone.now()
            )
            locked.sha256 = hashlib.sha256(new).hexdigest()
            locked.timestamped_at = moment
            locked.save(update_fields=["sha256", "timestamped_at"])
            # The file last: whatever fails before it leaves the old file and row as they were.
            _replace_file(locked, new)
            replaced = True
    except BaseException:
        if replaced:  # the commit failed: the file goes back to what the row still says
            _replace_file(certificate, old)
        raise
    logger.info("certificate %s upgraded to CAdES B-T", locked.serial)
    return True


def _replace_file(certificate: Certificate, content: bytes) -> None:
    """Write `content` under the certificate's file name.

    On the file system the new file is renamed over the old one, so a download running at the
    same time reads one whole file or the other, never a missing or half-written one.
    """
    storage = certificate.file.storage
    name = certificate.file.name
    try:
        path: Path | None = Path(storage.path(name))
    except NotImplementedError:
        path = None
    if path is None:  # a remote storage: no rename, replace in two steps
        storage.delete(name)
        saved = storage.save(name, ContentFile(content))
        if saved != name:
            storage.delete(saved)
            raise CertificateError(gettext("Il file dell'attestato non può essere sostituito."))
        return
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        temporary.write_bytes(content)
        if settings.FILE_UPLOAD_PERMISSIONS is not None:
            os.chmod(temporary, settings.FILE_UPLOAD_PERMISSIONS)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
