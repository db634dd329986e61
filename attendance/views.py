from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import View

from attendance.documents import grid_table, render_sign_in_sheet
from attendance.forms import ImportUploadForm, Mode, RegisterRowForm, initial_mode
from attendance.imports import (
    MAX_UPLOAD_BYTES,
    ImportPreview,
    detect_format,
    file_sha256,
    parse_attendance_file,
)
from attendance.selectors import (
    get_course_grid,
    get_participant_attendance,
    list_attendance_history,
    list_register_entries,
)
from attendance.services import (
    IMPORT_DIR,
    AttendanceError,
    delete_import_file,
    import_attendance_rows,
    purge_stale_import_files,
    record_session_register,
    store_import_file,
)
from core.exports import csv_response, file_response, xlsx_response
from core.permissions import SecretariatRequiredMixin
from courses.models import Course, Session
from enrollment.models import Enrollment
from enrollment.selectors import get_confirmed_enrollment, list_confirmed_enrollments


class SecretariatMixin(SecretariatRequiredMixin):
    permission_required = "attendance.record_attendance"


@login_required
def my_attendance(request: HttpRequest, slug: str) -> HttpResponse:
    """The signed-in participant's own attendance; anyone else's does not exist for them."""
    course = get_object_or_404(Course, slug=slug)
    enrollment = get_confirmed_enrollment(user_id=request.user.pk, course=course)
    if enrollment is None:
        raise Http404
    enrollment.course = course
    data = get_participant_attendance(enrollment)
    return render(
        request,
        "attendance/my.html",
        {"course": course, "sessions": data.sessions, "progress": data.progress},
    )


class SummaryView(SecretariatMixin, View):
    def get(self, request: HttpRequest, slug: str) -> HttpResponse:
        course = get_object_or_404(Course, slug=slug)
        return render(
            request, "attendance/summary.html", {"course": course, "grid": get_course_grid(course)}
        )


def _export_name(course: Course, extension: str) -> str:
    return f"presenze-{course.file_stem}-{timezone.localdate():%Y%m%d}.{extension}"


class ExportCsvView(SecretariatMixin, View):
    def get(self, request: HttpRequest, slug: str) -> HttpResponse:
        course = get_object_or_404(Course, slug=slug)
        header, *rows = grid_table(get_course_grid(course))
        return csv_response(_export_name(course, "csv"), header, rows, decimal_places=1)


class ExportXlsxView(SecretariatMixin, View):
    def get(self, request: HttpRequest, slug: str) -> HttpResponse:
        course = get_object_or_404(Course, slug=slug)
        header, *rows = grid_table(get_course_grid(course))
        return xlsx_response(
            _export_name(course, "xlsx"), header, rows, title=_("Presenze"), freeze="C2"
        )


class RegisterView(SecretariatMixin, View):
    """A session's register: every confirmed participant on one row, saved in one submit."""

    template_name = "attendance/register.html"

    def _forms(
        self, request: HttpRequest, session: Session, data: Any = None
    ) -> list[RegisterRowForm]:
        prefill_full = request.GET.get("prefill") == "full"
        forms = []
        for entry in list_register_entries(session):
            attendance = entry.attendance
            mode = initial_mode(attendance, session)
            if prefill_full and attendance is None:
                mode = Mode.FULL
            initial = {"mode": mode}
            if attendance is not None:
                initial.update(
                    {
                        "entry": attendance.entry,
                        "exit": attendance.exit,
                        "minutes": attendance.minutes if mode == Mode.MINUTES else None,
                    }
                )
            form = RegisterRowForm(
                data,
                prefix=f"r{entry.enrollment.pk}",
                initial=initial,
                session=session,
                enrollment_id=entry.enrollment.pk,
            )
            form.register_entry = entry
            forms.append(form)
        return forms

    def _session(self, pk: int) -> Session:
        return get_object_or_404(Session.objects.select_related("course"), pk=pk)

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        session = self._session(pk)
        return self._render(request, session, self._forms(request, session))

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        session = self._session(pk)
        forms = self._forms(request, session, request.POST)
        if not all(form.is_valid() for form in forms):
            messages.error(
                request, _("Alcune righe contengono errori: nessuna presenza è stata salvata.")
            )
            return self._render(request, session, forms, status=400)
        rows = [form.cleaned_data["row"] for form in forms if form.cleaned_data["row"]]
        if not rows:
            messages.info(request, _("Nessuna presenza da salvare."))
            return redirect("attendance:register", pk=session.pk)
        try:
            result = record_session_register(session=session, rows=rows, recorded_by=request.user)
        except AttendanceError as exc:
            by_enrollment = {form.enrollment_id: form for form in forms}
            for enrollment_id, message in exc.row_errors.items():
                if enrollment_id in by_enrollment:
                    by_enrollment[enrollment_id].add_error(None, message)
            messages.error(request, exc.message)
            return self._render(request, session, forms, status=400)
        messages.success(
            request,
            ngettext(
                "Registro salvato: %(changed)d presenza aggiornata, %(same)d invariate.",
                "Registro salvato: %(changed)d presenze aggiornate, %(same)d invariate.",
                result.changed,
            )
            % {"changed": result.changed, "same": result.unchanged},
        )
        return redirect("attendance:register", pk=session.pk)

    def _render(
        self, request: HttpRequest, session: Session, forms: list, status: int = 200
    ) -> HttpResponse:
        return render(
            request,
            self.template_name,
            {
                "session": session,
                "course": session.course,
                "forms": forms,
                "has_errors": any(form.errors for form in forms),
            },
            status=status,
        )


class SignInSheetView(SecretariatMixin, View):
    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        session = get_object_or_404(Session.objects.select_related("course"), pk=pk)
        participants = list(list_confirmed_enrollments(session.course))
        pdf = render_sign_in_sheet(session=session, participants=participants, request=request)
        stem = f"foglio-firme-{session.course.file_stem}-{session.date:%Y%m%d}-{session.start:%H%M}"
        return file_response(
            pdf, filename=f"{stem}.pdf", content_type="application/pdf", inline=True
        )


class HistoryView(SecretariatMixin, View):
    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        enrollment = get_object_or_404(
            Enrollment.objects.select_related("user", "user__profile", "course"), pk=pk
        )
        return render(
            request,
            "attendance/history.html",
            {
                "enrollment": enrollment,
                "course": enrollment.course,
                "changes": list_attendance_history(enrollment),
            },
        )


class ImportView(SecretariatMixin, View):
    """Upload → preview (nothing written) → confirm (valid rows written in one transaction).

    Between preview and confirm the uploaded bytes wait in the file store, named by a random
    token kept in the user's session; confirm re-reads and re-checks them against their SHA-256.
    """

    template_name = "attendance/import.html"

    def _key(self, course: Course) -> str:
        return f"attendance_import:{course.pk}"

    def _pending(self, request: HttpRequest, course: Course) -> dict | None:
        return request.session.get(self._key(course))

    def _path(self, pending: dict) -> str:
        return f"{IMPORT_DIR}/{pending['token']}.{pending['format']}"

    def _discard(self, request: HttpRequest, course: Course) -> None:
        pending = request.session.pop(self._key(course), None)
        if pending:
            delete_import_file(path=self._path(pending))

    def _load(self, request: HttpRequest, course: Course) -> tuple[dict, bytes] | None:
        pending = self._pending(request, course)
        if not pending or not default_storage.exists(self._path(pending)):
            return None
        with default_storage.open(self._path(pending), "rb") as stored:
            data = stored.read()
        if file_sha256(data) != pending["sha256"]:
            self._discard(request, course)
            return None
        return pending, data

    def _course(self, slug: str) -> Course:
        return get_object_or_404(Course, slug=slug)

    def _parse(self, course: Course, data: bytes, pending: dict) -> ImportPreview:
        day = pending.get("day")
        return parse_attendance_file(
            course=course,
            data=data,
            filename=pending["name"],
            day=dt.date.fromisoformat(day) if day else None,
        )

    def get(self, request: HttpRequest, slug: str) -> HttpResponse:
        course = self._course(slug)
        preview: ImportPreview | None = None
        pending = None
        loaded = self._load(request, course)
        if loaded is not None:
            pending, data = loaded
            try:
                preview = self._parse(course, data, pending)
            except AttendanceError as exc:
                messages.error(request, exc.message)
                self._discard(request, course)
                pending = None
        return self._render(request, course, ImportUploadForm(), preview, pending)

    def post(self, request: HttpRequest, slug: str) -> HttpResponse:
        course = self._course(slug)
        action = request.POST.get("action")
        if action == "cancel":
            self._discard(request, course)
            messages.info(request, _("Importazione annullata: nessuna presenza è stata scritta."))
            return redirect("attendance:import", slug=course.slug)
        if action == "confirm":
            return self._confirm(request, course)
        return self._upload(request, course)

    def _upload(self, request: HttpRequest, course: Course) -> HttpResponse:
        form = ImportUploadForm(request.POST, request.FILES)
        if not form.is_valid():
            return self._render(request, course, form, None, None, status=400)
        upload = form.cleaned_data["file"]
        data = upload.read(MAX_UPLOAD_BYTES + 1)
        try:
            file_format = detect_format(data=data, filename=upload.name)
            # File-level problems (missing columns, unreadable) are reported at once.
            day = form.cleaned_data["date"]
            parse_attendance_file(course=course, data=data, filename=upload.name, day=day)
        except AttendanceError as exc:
            form.add_error("file", exc.message)
            return self._render(request, course, form, None, None, status=400)
        self._discard(request, course)
        purge_stale_import_files()
        pending = {
            "token": secrets.token_hex(16),
            "sha256": file_sha256(data),
            "name": upload.name[:200],
            "format": file_format,
            "day": day.isoformat() if day else "",
        }
        store_import_file(name=f"{pending['token']}.{pending['format']}", data=data)
        request.session[self._key(course)] = pending
        return redirect("attendance:import", slug=course.slug)

    def _confirm(self, request: HttpRequest, course: Course) -> HttpResponse:
        loaded = self._load(request, course)
        if loaded is None or request.POST.get("sha256") != loaded[0]["sha256"]:
            # The page asks for the file again, so the one kept (personal data) goes now.
            self._discard(request, course)
            messages.error(
                request, _("Il file da importare non è più disponibile: caricalo di nuovo.")
            )
            return redirect("attendance:import", slug=course.slug)
        pending, data = loaded
        try:
            preview = self._parse(course, data, pending)
            result = import_attendance_rows(
                rows=preview.rows,
                recorded_by=request.user,
                file_name=pending["name"],
                file_sha256=pending["sha256"],
                valid_only=True,
                source=preview.source,
            )
        except AttendanceError as exc:
            messages.error(request, exc.message)
            return redirect("attendance:import", slug=course.slug)
        self._discard(request, course)
        skipped = len(preview.error_rows)
        messages.success(
            request,
            _(
                "Importazione completata: %(changed)d presenze registrate o modificate, "
                "%(same)d invariate, %(skipped)d righe scartate."
            )
            % {"changed": result.changed, "same": result.unchanged, "skipped": skipped},
        )
        return redirect("attendance:summary", slug=course.slug)

    def _render(
        self,
        request: HttpRequest,
        course: Course,
        form: ImportUploadForm,
        preview: ImportPreview | None,
        pending: dict | None,
        status: int = 200,
    ) -> HttpResponse:
        return render(
            request,
            self.template_name,
            {
                "course": course,
                "form": form,
                "preview": preview,
                "pending": pending,
                "summary_url": reverse("attendance:summary", kwargs={"slug": course.slug}),
            },
            status=status,
        )
