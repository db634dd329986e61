from django.contrib import admin

from courses.models import Course, CourseQuota, ScheduleItem, Session, Teacher
from portal.pagecache import invalidate_public_pages


class InvalidatesPublicPages(admin.ModelAdmin):
    """Course edits show on cached public pages: make them stale on save and delete."""

    def save_related(self, request, form, formsets, change):  # noqa: ANN001
        super().save_related(request, form, formsets, change)
        invalidate_public_pages()

    def delete_model(self, request, obj):  # noqa: ANN001
        super().delete_model(request, obj)
        invalidate_public_pages()


class SessionInline(admin.TabularInline):
    model = Session
    extra = 0


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


class ScheduleItemInline(admin.TabularInline):
    model = ScheduleItem
    extra = 0
    filter_horizontal = ("teachers",)


@admin.register(Session)
class SessionAdmin(InvalidatesPublicPages):
    list_display = ("course", "date", "start", "end", "title")
    list_filter = ("course",)
    inlines = [ScheduleItemInline]


@admin.register(Teacher)
class TeacherAdmin(InvalidatesPublicPages):
    search_fields = ("name",)
