from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_ratelimit.decorators import ratelimit

from accounts.models import Profile
from core.exports import csv_response, file_response, xlsx_response
from core.formatting import short_datetime
from core.pagecache import cached_course_content
from core.permissions import secretariat_required
from courses.calendar import course_to_ics
from courses.models import Course
from courses.selectors import get_course_for_page, get_course_schedule
from enrollment import services
from enrollment.check_in import check_in_qr_png, check_in_qr_svg
from enrollment.forms import BulkActionForm, EnrollmentFilterForm
from enrollment.models import Enrollment
from enrollment.rules import has_check_in_code
from enrollment.selectors import (
    get_availability,
    list_course_enrollments,
    list_enrollment_history,
    list_my_enrollment_rows,
)

MANAGE = "enrollment.manage_enrollments"


def _published_course(slug: str) -> Course:
    return get_object_or_404(Course.objects.published(), slug=slug)


@ratelimit(key="user_or_ip", rate="20/m", method="POST", block=True)
@require_POST
def enroll(request: HttpRequest, slug: str) -> HttpResponse:
    # The course the page shows, with what the rules read, cached per course version; the
    # service decides the seat, the deadline and who may enrol on the row it locks.
    try:
        course = cached_course_content("course", slug, lambda: get_course_for_page(slug=slug))
    except Course.DoesNotExist as exc:
        raise Http404 from exc
    if not request.user.is_authenticated:
        messages.info(request, _("Accedi o registrati per iscriverti al corso."))
        return redirect(f"{reverse('accounts:login')}?next={course.get_absolute_url()}")
    profile = Profile.objects.filter(user=request.user).first()
    if profile is not None:
        profile.user = request.user  # already loaded: the profile's checks read its names
    if profile is None or not profile.is_complete:
        messages.info(request, _("Completa il tuo profilo: poi potrai iscriverti al corso."))
        return redirect(f"{reverse('accounts:profile')}?next={course.get_absolute_url()}")
    try:
        enrollment = services.enroll_participant(user=request.user, course=course, profile=profile)
    except services.EnrollmentError as exc:
        messages.error(request, exc.message)
    else:
        text = {
            Enrollment.Status.CONFIRMED: _("Iscrizione confermata. Ti abbiamo inviato una mail."),
            Enrollment.Status.REQUESTED: _(
                "Richiesta inviata. La partecipazione verrà confermata tramite mail."
            ),
            Enrollment.Status.WAITLISTED: _(
                "I posti sono esauriti: sei in lista d'attesa. Se si libera un posto ti scriveremo."
            ),
        }[enrollment.status]
        messages.success(request, text)
    return redirect(course.get_absolute_url())


@login_required
def my_enrollments(request: HttpRequest) -> HttpResponse:
    rows = list_my_enrollment_rows(request.user.pk)
    return render(request, "enrollment/mine.html", {"rows": rows})


def _own_confirmed_enrollment(request: HttpRequest, pk: int) -> Enrollment:
    # Scoped to the signed-in user, so someone else's code (the secretariat's too) is not found;
    # a cancelled or unconfirmed enrolment has no code.
    enrollment = get_object_or_404(
        Enrollment.objects.select_related("course", "user").prefetch_related("course__sessions"),
        pk=pk,
        user=request.user,
        status=Enrollment.Status.CONFIRMED,
    )
    schedule = get_course_schedule(enrollment.course)
    if not has_check_in_code(
        enrollment, meets_in_person=schedule.meets_in_person, ended=schedule.has_ended()
    ):
        raise Http404
    return enrollment


@login_required
def check_in_code(request: HttpRequest, pk: int) -> HttpResponse:
    """The participant's personal QR code for the venue, on a page made to be printed."""
    enrollment = _own_confirmed_enrollment(request, pk)
    return render(
        request,
        "enrollment/check_in_code.html",
        {
            "enrollment": enrollment,
            "course": enrollment.course,
            "sessions": list(enrollment.course.sessions.order_by("date", "start")),
            # segno's own markup: only paths built from the signed token, nothing user-typed.
            "qr_svg": mark_safe(check_in_qr_svg(enrollment)),  # noqa: S308
        },
    )


@login_required
def check_in_png(request: HttpRequest, pk: int) -> HttpResponse:
    enrollment = _own_confirmed_enrollment(request, pk)
    return file_response(
        check_in_qr_png(enrollment),
        filename=f"qr-{enrollment.course.file_stem}.png",
        content_type="image/png",
        inline=True,
    )


@login_required
@require_POST
def cancel(request: HttpRequest, pk: int) -> HttpResponse:
    # Scoped to the signed-in user: someone else's enrolment is simply not found.
    enrollment = get_object_or_404(Enrollment, pk=pk, user=request.user)
    try:
        services.cancel_enrollment(enrollment=enrollment, actor=request.user)
    except services.EnrollmentError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Iscrizione annullata."))
    return redirect("enrollment:mine")


def give_back(request: HttpRequest, token: str) -> HttpResponse:
    """The promotion e-mail's link. GET only shows a button: mail scanners follow links."""
    try:
        enrollment = services.enrollment_from_give_back_token(token)
    except services.EnrollmentError as exc:
        # Say why (e.g. an old link after enrolling again), with the status of a missing page.
        return render(request, "enrollment/give_back.html", {"error": exc.message}, status=404)
    if request.method == "POST":
        try:
            services.give_back_seat(token=token)
        except services.EnrollmentError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Hai restituito il posto. Grazie per averci avvisato."))
        return render(
            request, "enrollment/give_back.html", {"enrollment": enrollment, "done": True}
        )
    return render(request, "enrollment/give_back.html", {"enrollment": enrollment, "done": False})


def calendar_ics(request: HttpRequest, slug: str) -> HttpResponse:
    course = _published_course(slug)
    return file_response(
        course_to_ics(course),
        filename=f"{course.file_stem}.ics",
        content_type="text/calendar; charset=utf-8",
    )


# --- Secretariat -------------------------------------------------------------------------------


def _filtered(
    request: HttpRequest, course: Course
) -> tuple[EnrollmentFilterForm, list[Enrollment]]:
    form = EnrollmentFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    rows = list(
        list_course_enrollments(
            course,
            status=data.get("status", ""),
            quota=data.get("quota", ""),
            search=data.get("q", ""),
        )
    )
    return form, rows


BULK = {
    "approve": services.approve_enrollments,
    "reject": services.reject_enrollments,
    "waitlist": services.move_to_waitlist,
    "cancel": services.cancel_enrollments,
}


@secretariat_required(MANAGE)
def manage(request: HttpRequest, slug: str) -> HttpResponse:
    course = get_object_or_404(Course, slug=slug)
    if request.method == "POST":
        ids = list(Enrollment.objects.filter(course=course).values_list("pk", flat=True))
        form = BulkActionForm(request.POST, enrollment_ids=ids)
        if form.is_valid():
            action, chosen = form.cleaned_data["action"], form.cleaned_data["ids"]
            who = {"actor": request.user, "reason": form.cleaned_data["reason"]}
            if action == "confirm_waitlisted":
                moved, left = services.confirm_from_waitlist(
                    course=course, enrollment_ids=chosen, **who
                )
                messages.success(request, _("Spostate tra i confermati: %(n)d.") % {"n": moved})
                if left:
                    messages.warning(
                        request,
                        _("%(n)d restano in lista d'attesa: non ci sono altri posti liberi.")
                        % {"n": left},
                    )
            else:
                done = BULK[action](course=course, enrollment_ids=chosen, **who)
                messages.success(request, _("Iscrizioni aggiornate: %(n)d.") % {"n": done})
            return redirect(request.get_full_path())
        for error in form.errors.values():
            messages.error(request, " ".join(error))
        return redirect(request.get_full_path())
    form, rows = _filtered(request, course)
    return render(
        request,
        "enrollment/manage.html",
        {
            "course": course,
            "filter_form": form,
            "rows": rows,
            "availability": get_availability(course),
            "bulk_form": BulkActionForm(enrollment_ids=[]),
            "query": request.GET.urlencode(),
        },
    )


@secretariat_required(MANAGE)
def history(request: HttpRequest, pk: int) -> HttpResponse:
    enrollment = get_object_or_404(Enrollment.objects.select_related("course", "user"), pk=pk)
    return render(
        request,
        "enrollment/history.html",
        {"enrollment": enrollment, "changes": list_enrollment_history(enrollment)},
    )


EXPORT_HEADER = [
    "Cognome",
    "Nome",
    "Codice fiscale",
    "E-mail",
    "Professione",
    "Ente",
    "Tipo di ente",
    "Ruolo",
    "Ambito / Ufficio di Piano",
    "Stato",
    "Richiesta il",
    "Confermata il",
    "Annullata il",
]


def _export_rows(rows: list[Enrollment]) -> list[list[object]]:
    out = []
    for e in rows:
        profile = getattr(e.user, "profile", None)
        out.append(
            [
                e.user.last_name,
                e.user.first_name,
                profile.codice_fiscale if profile else "",
                e.user.email,
                profile.profession_label if profile else "",
                profile.organisation if profile else "",
                profile.get_organisation_type_display() if profile else "",
                profile.role if profile else "",
                profile.ambito if profile else "",
                e.get_status_display(),
                short_datetime(e.created_at),
                short_datetime(e.confirmed_at),
                short_datetime(e.cancelled_at),
            ]
        )
    return out


@secretariat_required(MANAGE)
def export(request: HttpRequest, slug: str, fmt: str) -> HttpResponse:
    course = get_object_or_404(Course, slug=slug)
    _form, rows = _filtered(request, course)
    name = f"iscrizioni-{course.file_stem}"
    if fmt == "xlsx":
        return xlsx_response(f"{name}.xlsx", EXPORT_HEADER, _export_rows(rows), title="Iscrizioni")
    return csv_response(f"{name}.csv", EXPORT_HEADER, _export_rows(rows))
