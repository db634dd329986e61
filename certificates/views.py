from __future__ import annotations

import functools
import hashlib
import logging
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods, require_safe
from django_ratelimit.decorators import ratelimit

from accounts.models import User
from certificates import services
from certificates.formatting import (
    archive_member_names,
    format_hours,
    group_code,
    mask_name,
)
from certificates.forms import (
    MAX_UPLOAD_BYTES,
    LibrettoSearchForm,
    ReissueForm,
    RevokeForm,
    VerifyCodeForm,
    VerifyFileForm,
)
from certificates.libretto import (
    FIRST_TRIENNIUM,
    Libretto,
    Triennium,
    get_credit_kind_label,
    get_libretto,
    get_triennium,
    libretto_header,
    libretto_json,
    libretto_rows,
    list_triennium_credit_certificates,
    search_participants,
    sign_libretto,
    triennium_start,
)
from certificates.models import Certificate, Seal
from certificates.seal import SealNotConfigured, get_ca_pem
from certificates.selectors import (
    get_certificate_by_code,
    get_certificate_by_sha256,
    get_course_certificates,
    get_user_certificate,
    list_course_changes,
    list_course_valid_certificates,
    list_fcoas_certificates,
    list_not_downloaded_certificates,
    list_published_seals,
    list_user_certificates,
)
from certificates.signing import verify_p7m
from certificates.tasks import queue_course_certificates
from certificates.tsa import get_tsa_ca_pem
from core.exports import ZipMember, csv_response, file_response, xlsx_response, zip_response
from core.formatting import long_date, short_date, short_datetime
from core.permissions import secretariat_required
from courses.models import Course

logger = logging.getLogger(__name__)

MANAGE = "certificates.manage_certificates"
P7M_TYPE = "application/pkcs7-mime"
# Multipart overhead allowed on top of the file itself.
UPLOAD_SLACK_BYTES = 64 * 1024


# --- Participants --------------------------------------------------------------------------------


@login_required
def my_certificates(request: HttpRequest) -> HttpResponse:
    rows = [
        {
            "certificate": certificate,
            "hours": format_hours(certificate.attended_minutes, certificate.total_minutes),
            "issued_on": long_date(timezone.localtime(certificate.issued_at).date()),
        }
        for certificate in list_user_certificates(request.user.pk)
    ]
    return render(request, "certificates/mine.html", {"rows": rows})


@login_required
@require_safe
def download(request: HttpRequest, token: str) -> HttpResponse:
    # Scoped to the signed-in user: anyone else's token is simply not found (404, not 403).
    certificate = get_user_certificate(user_id=request.user.pk, token=token)
    if certificate is None:
        raise Http404
    # No second look at the questionnaire here: a valid certificate exists only because the
    # gate (evaluate_eligibility) found it completed when issuing.
    services.record_certificate_download(certificate=certificate)
    response = FileResponse(
        certificate.file.open("rb"),
        as_attachment=True,
        filename=certificate.filename,
        content_type=P7M_TYPE,
    )
    response["Cache-Control"] = "private, no-store"
    return response


# --- Public verification -------------------------------------------------------------------------


@dataclass(frozen=True)
class PublicFacts:
    """What the public page may say about a certificate: never the codice fiscale."""

    certificate: Certificate
    masked_name: str
    hours: str
    issued_on: str
    revoked_on: str
    grouped_code: str
    seal: str
    timestamp: str


def _seal_text(seal: Seal | None) -> str:
    """«Sigillo: CN=…, valido dal 2 dicembre 2026 al 2 dicembre 2029»."""
    if seal is None:
        return ""
    return _("%(subject)s, valido dal %(start)s al %(end)s") % {
        "subject": seal.subject,
        "start": long_date(timezone.localtime(seal.not_before).date()),
        "end": long_date(timezone.localtime(seal.not_after).date()),
    }


def _public_facts(certificate: Certificate) -> PublicFacts:
    revoked_on = (
        long_date(timezone.localtime(certificate.revoked_at).date())
        if certificate.revoked_at
        else ""
    )
    return PublicFacts(
        certificate=certificate,
        masked_name=mask_name(certificate.holder_first_name, certificate.holder_last_name),
        hours=format_hours(certificate.attended_minutes, certificate.total_minutes),
        issued_on=long_date(timezone.localtime(certificate.issued_at).date()),
        revoked_on=revoked_on,
        grouped_code=group_code(certificate.code),
        seal=_seal_text(certificate.seal),
        timestamp=short_datetime(certificate.timestamped_at, seconds=True),
    )


def _content_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


@ratelimit(key="ip", rate="30/m", method="POST", block=True)
@csrf_exempt
@never_cache
@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    # Refuse an oversized upload before anything reads the body (the CSRF check would parse
    # it); the CSRF check then runs as usual on what is left.
    if (
        request.method == "POST"
        and _content_length(request) > MAX_UPLOAD_BYTES + UPLOAD_SLACK_BYTES
    ):
        return render(
            request,
            "certificates/verify.html",
            {
                "code_form": VerifyCodeForm(),
                "file_form": VerifyFileForm(),
                "too_large": True,
            },
            status=413,
        )
    return _verify_protected(request)


@csrf_protect
def _verify_protected(request: HttpRequest) -> HttpResponse:
    code_form = VerifyCodeForm(request.GET if "code" in request.GET else None)
    if code_form.is_bound and code_form.is_valid():
        return redirect("certificates:verify_code", code=code_form.cleaned_data["code"])
    file_form = VerifyFileForm()
    outcome = None
    if request.method == "POST":
        file_form = VerifyFileForm(request.POST, request.FILES)
        if file_form.is_valid():
            outcome = _check_upload(file_form.cleaned_data["file"].read())
    return render(
        request,
        "certificates/verify.html",
        {"code_form": code_form, "file_form": file_form, "outcome": outcome},
    )


@dataclass(frozen=True)
class UploadOutcome:
    signature_valid: bool
    facts: PublicFacts | None
    errors: list[str]
    signer: str
    signing_time: str
    timestamp: str
    timestamp_authority: str


def _check_upload(data: bytes) -> UploadOutcome:
    """Is this file one we issued (by SHA-256), and does its signature verify against our CA?

    A file we issued is checked against the seal recorded with it, at the time we issued it: it
    stays provable after that seal expires or is replaced. Any other file is checked against
    the current seal's CA, now.
    """
    certificate = get_certificate_by_sha256(hashlib.sha256(data).hexdigest())
    tsa_ca_pem = get_tsa_ca_pem()
    if certificate is not None and certificate.seal is not None:
        result = verify_p7m(
            data,
            trusted_ca_pem=certificate.seal.ca_pem.encode(),
            at=certificate.issued_at,
            trusted_tsa_pem=tsa_ca_pem,
        )
    else:
        # Without our record, a time-stamp (B-T) is what says when the file was signed.
        result = verify_p7m(data, trusted_ca_pem=get_ca_pem(), trusted_tsa_pem=tsa_ca_pem)
    signing_time = short_datetime(result.signing_time)
    return UploadOutcome(
        signature_valid=result.valid,
        facts=_public_facts(certificate) if certificate is not None else None,
        errors=list(result.errors),
        signer=result.signer_subject or "",
        signing_time=signing_time,
        timestamp=short_datetime(result.timestamp_time, seconds=True),
        timestamp_authority=result.timestamp_authority or "",
    )


@never_cache
@require_safe
def verify_code(request: HttpRequest, code: str) -> HttpResponse:
    certificate = get_certificate_by_code(code)
    if certificate is None:
        return render(
            request, "certificates/verify_result.html", {"facts": None, "code": code}, status=404
        )
    if certificate.code != code:
        # One canonical address per certificate (typed in lower case, with dashes, ...).
        return redirect("certificates:verify_code", code=certificate.code)
    return render(
        request,
        "certificates/verify_result.html",
        {"facts": _public_facts(certificate), "code": code},
    )


def published_ca_pem() -> bytes:
    """Every CA that vouches for a valid certificate, plus the current seal's, each once."""
    blocks = [seal.ca_pem.encode() for seal in list_published_seals()] + [get_ca_pem()]
    seen: dict[bytes, None] = {}
    for block in blocks:
        for cert in x509.load_pem_x509_certificates(block):
            seen.setdefault(cert.public_bytes(serialization.Encoding.PEM), None)
    return b"".join(seen)


@require_safe
def ca_pem(request: HttpRequest) -> HttpResponse:
    return file_response(
        published_ca_pem(), filename="ca.pem", content_type="application/x-pem-file", inline=True
    )


# --- Secretariat ---------------------------------------------------------------------------------


@secretariat_required(MANAGE)
def course_certificates(request: HttpRequest, slug: str) -> HttpResponse:
    course = get_object_or_404(Course.objects.prefetch_related("sessions"), slug=slug)
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "issue":
            _queue_issuing(request, course)
        elif action == "reissue":
            form = ReissueForm(request.POST)
            if form.is_valid():
                certificate = get_object_or_404(
                    Certificate,
                    pk=form.cleaned_data["certificate"],
                    enrollment__course=course,
                )
                try:
                    new = services.reissue_certificate(
                        certificate=certificate,
                        reason=form.cleaned_data["reason"],
                        actor=request.user,
                    )
                except services.CertificateError as exc:
                    messages.error(request, exc.message)
                else:
                    messages.success(
                        request,
                        _("Nuova versione emessa: %(serial)s. La precedente è revocata.")
                        % {"serial": new.serial},
                    )
            else:
                messages.error(request, _("Indica il motivo della nuova emissione."))
        elif action == "revoke":
            _revoke(request, course)
        elif action == "resend":
            _resend_ready_emails(request, course)
        return redirect(reverse("certificates:course", kwargs={"slug": course.slug}))
    status = get_course_certificates(course)
    ends_on = long_date(timezone.localtime(status.ends_at).date()) if status.ends_at else ""
    return render(
        request,
        "certificates/course.html",
        {
            "course": course,
            "status": status,
            "ends_on": ends_on,
            "changes": list_course_changes(course),
            "not_downloaded_count": list_not_downloaded_certificates(course).count(),
        },
    )


def _queue_issuing(request: HttpRequest, course: Course) -> None:
    """Queue the due certificates; with the broker down, leave them to the periodic task."""
    queued, due = queue_course_certificates(course=course)
    if not due:
        messages.info(request, _("Nessun attestato da emettere."))
        return
    if queued == due:
        messages.success(
            request,
            _("Emissione avviata per %(n)d partecipanti: gli attestati arrivano per mail.")
            % {"n": due},
        )
    else:
        messages.warning(
            request,
            _(
                "La coda di lavoro non è raggiungibile: %(n)d attestati non sono ancora in "
                "emissione. Il controllo periodico li emetterà quando torna disponibile; puoi "
                "anche riprovare più tardi."
            )
            % {"n": due - queued},
        )


def _revoke(request: HttpRequest, course: Course) -> None:
    form = RevokeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Indica il motivo della revoca."))
        return
    certificate = get_object_or_404(
        Certificate, pk=form.cleaned_data["certificate"], enrollment__course=course
    )
    try:
        services.revoke_certificate(
            certificate=certificate, reason=form.cleaned_data["reason"], actor=request.user
        )
    except services.CertificateError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, _("Attestato n. %(serial)s revocato.") % {"serial": certificate.serial}
        )


def _credit_rows(course: Course) -> list[list[object]]:
    rows: list[list[object]] = []
    for certificate in list_fcoas_certificates(course):
        profile = getattr(certificate.enrollment.user, "profile", None)
        rows.append(
            [
                certificate.holder_last_name,
                certificate.holder_first_name,
                certificate.codice_fiscale,
                profile.ordine_regionale if profile else "",
                profile.numero_iscrizione if profile else "",
                round(certificate.attended_minutes / 60, 2),
                round(certificate.total_minutes / 60, 2),
                certificate.fcoas_credits,
                certificate.serial,
                short_date(certificate.issued_at),
            ]
        )
    return rows


@secretariat_required(MANAGE)
def credits_export(request: HttpRequest, slug: str, fmt: str) -> HttpResponse:
    course = get_object_or_404(Course, slug=slug)
    header = [
        _("Cognome"),
        _("Nome"),
        _("Codice fiscale"),
        _("Ordine regionale"),
        _("Numero di iscrizione all'Albo"),
        _("Ore frequentate"),
        _("Ore del corso"),
        _("Crediti FCO.AS"),
        _("Attestato n."),
        _("Rilasciato il"),
    ]
    name = f"crediti-fcoas-{course.file_stem}"
    rows = _credit_rows(course)
    if fmt == "xlsx":
        return xlsx_response(f"{name}.xlsx", header, rows, title=_("Crediti FCO.AS"))
    return csv_response(f"{name}.csv", header, rows, decimal_places=2)


# --- Il libretto formativo -----------------------------------------------------------------------


def _libretto_download(libretto: Libretto, *, fmt: str, stem: str) -> HttpResponse:
    """The record as CSV, JSON or the signed PDF summary (`.pdf.p7m`)."""
    if fmt == "csv":
        rows = libretto_rows(libretto, verify_url=services.verification_url)
        response = csv_response(
            f"{stem}.csv", libretto_header(), [list(row.values()) for row in rows]
        )
    elif fmt == "json":
        response = file_response(
            libretto_json(libretto, verify_url=services.verification_url),
            filename=f"{stem}.json",
            content_type="application/json; charset=utf-8",
        )
    elif fmt == "pdf.p7m":
        try:
            p7m = sign_libretto(libretto, organiser=settings.PORTAL_ORGANISER, now=timezone.now())
        except SealNotConfigured as exc:
            logger.error("libretto not signed: %s", exc)
            raise Http404 from exc
        response = file_response(p7m, filename=f"{stem}.pdf.p7m", content_type=P7M_TYPE)
    else:
        raise Http404
    # Personal data: never kept by a shared cache.
    response["Cache-Control"] = "private, no-store"
    return response


def _libretto_stem(user: User) -> str:
    return f"libretto-formativo-{slugify(user.last_name) or user.pk}-{timezone.localdate():%Y%m%d}"


@login_required
@require_safe
def my_libretto(request: HttpRequest) -> HttpResponse:
    libretto = get_libretto(user=request.user)
    return render(request, "certificates/libretto.html", {"libretto": libretto, "own": True})


@login_required
@require_safe
def my_libretto_download(request: HttpRequest, fmt: str) -> HttpResponse:
    # Always the signed-in user's own record: no id in the address to tamper with.
    return _libretto_download(
        get_libretto(user=request.user), fmt=fmt, stem=_libretto_stem(request.user)
    )


def _trienni_until_now() -> list[Triennium]:
    current = get_triennium(timezone.localdate())
    return [Triennium(start) for start in range(current.start, FIRST_TRIENNIUM - 1, -3)]


@secretariat_required(MANAGE)
@require_safe
def libretto_search(request: HttpRequest) -> HttpResponse:
    form = LibrettoSearchForm(request.GET if "q" in request.GET else None)
    results = None
    if form.is_bound and form.is_valid():
        results = list(search_participants(form.cleaned_data["q"]))
    return render(
        request,
        "certificates/libretto_search.html",
        {"form": form, "results": results, "trienni": _trienni_until_now()},
    )


@secretariat_required(MANAGE)
@require_safe
def participant_libretto(request: HttpRequest, user_id: int) -> HttpResponse:
    person = get_object_or_404(User.objects.select_related("profile"), pk=user_id)
    return render(
        request,
        "certificates/libretto.html",
        {"libretto": get_libretto(user=person), "own": False},
    )


@secretariat_required(MANAGE)
@require_safe
def participant_libretto_download(request: HttpRequest, user_id: int, fmt: str) -> HttpResponse:
    person = get_object_or_404(User.objects.select_related("profile"), pk=user_id)
    return _libretto_download(get_libretto(user=person), fmt=fmt, stem=_libretto_stem(person))


@secretariat_required(MANAGE)
@require_safe
def triennium_credits_export(request: HttpRequest, start: int, fmt: str) -> HttpResponse:
    """The FCO.AS credits of every participant in a triennium, for the Ordine."""
    if start < FIRST_TRIENNIUM or triennium_start(start) != start:
        raise Http404
    triennium = Triennium(start)
    header = [
        _("Codice fiscale"),
        _("Cognome"),
        _("Nome"),
        _("Codice del corso"),
        _("Corso"),
        _("Ultima giornata"),
        _("Ore frequentate"),
        _("Crediti FCO.AS"),
        _("Tipo di crediti"),
        _("Attestato n."),
    ]
    rows: list[list[object]] = [
        [
            certificate.codice_fiscale,
            certificate.holder_last_name,
            certificate.holder_first_name,
            certificate.course_code,
            certificate.course_title,
            short_date(certificate.last_day),  # type: ignore[attr-defined]
            round(certificate.attended_minutes / 60, 2),
            certificate.fcoas_credits,
            get_credit_kind_label(certificate.enrollment.course),
            certificate.serial,
        ]
        for certificate in list_triennium_credit_certificates(triennium)
    ]
    name = f"crediti-fcoas-triennio-{triennium.start}-{triennium.end}"
    if fmt == "xlsx":
        return xlsx_response(f"{name}.xlsx", header, rows, title=_("Crediti FCO.AS"))
    return csv_response(f"{name}.csv", header, rows, decimal_places=2)


def _resend_ready_emails(request: HttpRequest, course: Course) -> None:
    count = services.resend_ready_emails(course=course)
    if not count:
        messages.info(request, _("Tutti gli attestati sono già stati scaricati dai titolari."))
        return
    messages.success(
        request,
        ngettext(
            "E-mail «attestato disponibile» inviata di nuovo a %(n)d partecipante che non ha "
            "ancora scaricato l'attestato.",
            "E-mail «attestato disponibile» inviata di nuovo a %(n)d partecipanti che non hanno "
            "ancora scaricato l'attestato.",
            count,
        )
        % {"n": count},
    )


@secretariat_required(MANAGE)
@require_safe
def course_certificates_zip(request: HttpRequest, slug: str) -> HttpResponse:
    """Every valid certificate of the course as one ZIP, streamed while it is built."""
    course = get_object_or_404(Course, slug=slug)
    certificates = list(list_course_valid_certificates(course))
    names = archive_member_names([(c.holder_last_name, c.serial) for c in certificates])
    members = [
        ZipMember(
            name=name,
            open=functools.partial(certificate.file.open, "rb"),
            modified=timezone.localtime(certificate.issued_at),
        )
        for name, certificate in zip(names, certificates, strict=True)
    ]
    response = zip_response(f"attestati-{course.file_stem}.zip", members)
    response["Cache-Control"] = "private, no-store"
    return response
