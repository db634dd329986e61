"""The secretariat's scanning page at the venue and its JSON endpoints (attendance.scans)."""

from __future__ import annotations

import json
import uuid

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from attendance.forms import ConfirmExitForm, ManualScanForm, ScanForm
from attendance.models import Scan
from attendance.scans import (
    AUTO,
    ScanResult,
    confirm_automatic_exit,
    record_manual_scan,
    record_qr_scan,
)
from attendance.selectors import (
    count_inside,
    get_default_session,
    list_exits_to_confirm,
    list_inside,
    search_session_participants,
)
from attendance.services import AttendanceError
from attendance.views import SecretariatMixin
from courses.models import Course, Session

MODES = (
    (Scan.Kind.ENTRY, gettext_lazy("Entrata")),
    (Scan.Kind.EXIT, gettext_lazy("Uscita")),
    (AUTO, gettext_lazy("Automatico (entrata o uscita secondo chi è in aula)")),
)


def _session(pk: int) -> Session:
    return get_object_or_404(Session.objects.select_related("course"), pk=pk)


def _result_message(result: ScanResult) -> str:
    scan = result.scan
    time = f"{timezone.localtime(scan.scanned_at):%H:%M}"
    if scan.kind == Scan.Kind.ENTRY:
        text = _("Entrata registrata: %(name)s, alle %(time)s.")
    else:
        text = _("Uscita registrata: %(name)s, alle %(time)s.")
    text %= {"name": result.name, "time": time}
    if result.repeated:
        text += " " + _("(Scansione già ricevuta: non è stata contata due volte.)")
    return text


def _page_url(session: Session, query: str = "") -> str:
    params = {"session": str(session.pk), **({"q": query} if query else {})}
    url = reverse("attendance:check_in", kwargs={"slug": session.course.slug})
    return f"{url}?{urlencode(params)}"


class CheckInPageView(SecretariatMixin, View):
    """Pick a session and a mode, scan codes with the camera, or find a person by hand."""

    def get(self, request: HttpRequest, slug: str) -> HttpResponse:
        course = get_object_or_404(Course, slug=slug)
        sessions = list(course.sessions.order_by("date", "start"))
        chosen = request.GET.get("session", "")
        session = next((s for s in sessions if str(s.pk) == chosen), None)
        if session is None:
            session = get_default_session(course)
        query = request.GET.get("q", "").strip()[:50]
        context: dict = {"course": course, "sessions": sessions, "session": session, "q": query}
        if session is not None:
            session.course = course
            inside = list(list_inside(session))
            inside_ids = {scan.enrollment_id for scan in inside}
            context.update(
                {
                    "modes": MODES,
                    "inside": inside,
                    "to_confirm": list(list_exits_to_confirm(session)),
                    "is_today": session.date == timezone.localdate(),
                    "found": [
                        (enrollment, enrollment.pk in inside_ids, uuid.uuid4())
                        for enrollment in search_session_participants(session, query)
                    ],
                }
            )
        return render(request, "attendance/check_in.html", context)


class ScanView(SecretariatMixin, View):
    """JSON: record one scan sent by the page (now, or later from its offline queue)."""

    def post(self, request: HttpRequest, pk: int) -> JsonResponse:
        session = _session(pk)
        try:
            data = json.loads(request.body)
        except ValueError:
            data = None
        form = ScanForm(data if isinstance(data, dict) else {})
        if not form.is_valid():
            return JsonResponse(
                {"ok": False, "message": _("Richiesta non valida: la scansione non è registrata.")},
                status=400,
            )
        try:
            result = record_qr_scan(
                session=session,
                token=form.cleaned_data["token"],
                kind=form.cleaned_data["kind"],
                nonce=form.cleaned_data["nonce"],
                scanned_at=form.cleaned_data["scanned_at"],
                scanned_by=request.user,
            )
        except AttendanceError as exc:
            return JsonResponse(
                {"ok": False, "message": exc.message, "inside": count_inside(session)}, status=422
            )
        return JsonResponse(
            {
                "ok": True,
                "kind": result.scan.kind,
                "name": result.name,
                "repeated": result.repeated,
                "message": _result_message(result),
                "inside": count_inside(session),
            }
        )


class InsideView(SecretariatMixin, View):
    """JSON: how many people are inside now, for the page's live count."""

    def get(self, request: HttpRequest, pk: int) -> JsonResponse:
        session = _session(pk)
        return JsonResponse({"inside": count_inside(session)})


class ManualCheckInView(SecretariatMixin, View):
    """The fallback form: entry or exit of a person found by surname or codice fiscale."""

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        session = _session(pk)
        form = ManualScanForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Richiesta non valida: nulla è stato registrato."))
            return redirect(_page_url(session))
        query = form.cleaned_data["q"]
        try:
            result = record_manual_scan(
                session=session,
                enrollment_id=form.cleaned_data["enrollment"],
                kind=form.cleaned_data["kind"],
                nonce=form.cleaned_data["nonce"],
                scanned_by=request.user,
            )
        except AttendanceError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _result_message(result))
        return redirect(_page_url(session, query))


class ConfirmExitView(SecretariatMixin, View):
    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        session = _session(pk)
        form = ConfirmExitForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Richiesta non valida."))
            return redirect(_page_url(session))
        try:
            scan = confirm_automatic_exit(
                session=session, scan_id=form.cleaned_data["scan"], confirmed_by=request.user
            )
        except AttendanceError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request,
                _("Uscita di %(name)s confermata.")
                % {"name": scan.enrollment.user.get_full_name()},
            )
        return redirect(_page_url(session))
