from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_http_methods, require_safe
from django_ratelimit.decorators import ratelimit

from certificates import services
from certificates.formatting import format_hours, group_code, mask_name, timestamp_text
from certificates.forms import (
    MAX_UPLOAD_BYTES,
    ReissueForm,
    RevokeForm,
    VerifyCodeForm,
    VerifyFileForm,
)
from certificates.models import Certificate, Seal
from certificates.seal import get_ca_pem
from certificates.selectors import (
    get_certificate_by_code,
    get_certificate_by_sha256,
    get_course_certificates,
    get_user_certificate,
    list_course_changes,
    list_fcoas_certificates,
    list_published_seals,
    list_user_certificates,
)
from certificates.signing import verify_p7m
from certificates.tasks import queue_course_certificates
from certificates.tsa import get_tsa_ca_pem
from core.exports import csv_response, file_response, xlsx_response
from core.formatting import long_date, short_datetime
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
        timestamp=timestamp_text(certificate.timestamped_at),
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
        timestamp=timestamp_text(result.timestamp_time),
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
                timezone.localtime(certificate.issued_at).strftime("%d/%m/%Y"),
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
