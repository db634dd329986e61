from django.contrib import admin

from courses.models import Course, CourseQuota, ScheduleItem, Session, Teacher


class SessionInline(admin.TabularInline):
    model = Session
    extra = 0


class QuotaInline(admin.TabularInline):
    model = CourseQuota
    extra = 0


@admin.register(Course)
class CourseAdmin(admin.ModelAdmin):
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
class SessionAdmin(admin.ModelAdmin):
    list_display = ("course", "date", "start", "end", "title")
    list_filter = ("course",)
    inlines = [ScheduleItemInline]


@admin.register(Teacher)
class TeacherAdmin(admin.ModelAdmin):
    search_fields = ("name",)
