from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from attendance.forms import AttendanceAdminForm
from attendance.models import Attendance, AttendanceChange, Scan, Source
from attendance.services import record_attendance
from core.admin import ReadOnlyModelAdmin


@admin.register(Attendance)
class AttendanceAdmin(admin.ModelAdmin):
    form = AttendanceAdminForm
    list_display = ("enrollment", "session", "minutes", "entry", "exit", "source", "recorded_at")
    list_filter = ("source", "session__course")
    search_fields = (
        "enrollment__user__email",
        "enrollment__user__last_name",
        "session__course__code",
    )
    raw_id_fields = ("enrollment", "session")
    readonly_fields = ("source", "recorded_by", "recorded_at")
    list_select_related = ("enrollment__user", "enrollment__course", "session__course")
    ordering = ("session__date", "session__start", "enrollment__created_at")

    def get_readonly_fields(self, request: HttpRequest, obj: Attendance | None = None) -> Any:
        if obj is not None:
            return ("enrollment", "session", *self.readonly_fields)
        return self.readonly_fields

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Deleting would break the audit trail: record 0 minutes instead.
        return False

    def save_model(self, request: HttpRequest, obj: Attendance, form: Any, change: bool) -> None:
        # Through the service, like every other change, so that it is audited.
        data = form.cleaned_data
        entry, exit_ = data.get("entry"), data.get("exit")
        enrollment = data.get("enrollment") or obj.enrollment
        session = data.get("session") or obj.session
        written = record_attendance(
            enrollment=enrollment,
            session=session,
            minutes=None if (entry or exit_) else data.get("minutes"),
            entry=entry,
            exit=exit_,
            recorded_by=request.user,
            source=Source.ADMIN,
        )
        saved = written or Attendance.objects.get(enrollment=enrollment, session=session)
        # The admin logs and redirects using this object.
        obj.pk = saved.pk
        obj.minutes, obj.recorded_at, obj.recorded_by = (
            saved.minutes,
            saved.recorded_at,
            saved.recorded_by,
        )
        obj._state.adding = False


@admin.register(AttendanceChange)
class AttendanceChangeAdmin(ReadOnlyModelAdmin):
    """The audit trail: read only, append only."""

    list_display = (
        "changed_at",
        "attendance",
        "old_minutes",
        "new_minutes",
        "source",
        "changed_by",
        "file_sha256",
    )
    list_filter = ("source",)
    search_fields = ("attendance__enrollment__user__email", "file_sha256")
    list_select_related = (
        "attendance__enrollment__user",
        "attendance__session__course",
        "changed_by",
    )


@admin.register(Scan)
class ScanAdmin(ReadOnlyModelAdmin):
    """Entries and exits at the venue: read only, append only (written by attendance.scans)."""

    list_display = (
        "scanned_at",
        "session",
        "enrollment",
        "kind",
        "source",
        "automatic",
        "confirmed_at",
        "scanned_by",
        "received_at",
    )
    list_filter = ("kind", "source", "automatic")
    search_fields = ("enrollment__user__email", "enrollment__user__last_name")
    list_select_related = (
        "session__course",
        "enrollment__user",
        "enrollment__course",
        "scanned_by",
    )
