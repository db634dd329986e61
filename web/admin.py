from __future__ import annotations

from django.contrib import admin

from web.models import AccessibilityFeedback


@admin.register(AccessibilityFeedback)
class AccessibilityFeedbackAdmin(admin.ModelAdmin):
    list_display = ["created_at", "email", "page_url", "email_status"]
    list_filter = ["email_status"]
    search_fields = ["email", "name", "message"]
    # A record of what was received: read in the admin, never edited.
    readonly_fields = [
        "name",
        "email",
        "page_url",
        "message",
        "created_at",
        "email_status",
        "email_attempts",
        "emailed_at",
    ]

    def has_add_permission(self, request):
        return False
