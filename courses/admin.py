from django.contrib import admin
from django.db import models

from core.pagecache import invalidate_course_content
from courses.models import Course, CourseQuota, ScheduleItem, Session, Teacher
from courses.services import update_session_times


class InvalidatesPublicPages(admin.ModelAdmin):
    """Course edits show on cached public pages: make them stale on save and delete."""

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        invalidate_course_content()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        invalidate_course_content()


def _hold_back_new_times(form) -> tuple | None:
    """Keep a changed session's saved times on its instance; return the new ones for the service.

    The admin then saves the other fields, and update_session_times changes the times, so that
    what was recorded for the session is re-clamped and audited.
    """
    if form.instance.pk is None or not {"start", "end"} & set(form.changed_data):
        return None
    new_times = (form.instance.start, form.instance.end)
    form.instance.start, form.instance.end = form.initial["start"], form.initial["end"]
    return new_times


def _apply_new_times(request, session: Session, new_times: tuple | None) -> None:
    if new_times is not None:
        start, end = new_times
        update_session_times(session=session, start=start, end=end, changed_by=request.user)


# A meeting link typed without a scheme is an https one.
MEETING_URL_FORMFIELD = {models.URLField: {"assume_scheme": "https"}}


class SessionInline(admin.TabularInline):
    model = Session
    extra = 0
    formfield_overrides = MEETING_URL_FORMFIELD


class QuotaInline(admin.TabularInline):
    model = CourseQuota
    extra = 0


@admin.register(Course)
class CourseAdmin(InvalidatesPublicPages):
    list_display = ("code", "title", "capacity", "enrollment_deadline", "is_published")
    search_fields = ("code", "title")
    prepopulated_fields = {"slug": ("title",)}
    filter_horizontal = ("teachers",)
    inlines = [QuotaInline, SessionInline]

    def save_formset(self, request, form, formset, change):
        if formset.model is not Session:
            return super().save_formset(request, form, formset, change)
        deleted = set(formset.deleted_forms) if formset.can_delete else set()
        retimed = [
            (f.instance, _hold_back_new_times(f)) for f in formset.initial_forms if f not in deleted
        ]
        super().save_formset(request, form, formset, change)
        for session, new_times in retimed:
            _apply_new_times(request, session, new_times)
        return None


class ScheduleItemInline(admin.TabularInline):
    model = ScheduleItem
    extra = 0
    filter_horizontal = ("teachers",)


@admin.register(Session)
class SessionAdmin(InvalidatesPublicPages):
    list_display = ("course", "date", "start", "end", "title", "mode")
    list_filter = ("course", "mode")
    inlines = [ScheduleItemInline]
    formfield_overrides = MEETING_URL_FORMFIELD

    def save_model(self, request, obj, form, change):
        new_times = _hold_back_new_times(form) if change else None
        super().save_model(request, obj, form, change)
        _apply_new_times(request, obj, new_times)


@admin.register(Teacher)
class TeacherAdmin(InvalidatesPublicPages):
    search_fields = ("name",)
