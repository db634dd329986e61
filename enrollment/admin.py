from django.contrib import admin

from enrollment.models import Enrollment


@admin.register(Enrollment)
class EnrollmentAdmin(admin.ModelAdmin):
    list_display = ("user", "course", "status", "created_at")
    list_filter = ("status", "course")
    search_fields = ("user__email", "user__last_name", "course__code")
    raw_id_fields = ("user",)
    readonly_fields = ("status", "created_at", "updated_at", "confirmed_at", "cancelled_at")
