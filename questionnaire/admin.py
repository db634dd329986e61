from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from questionnaire.models import Completion, Question, Questionnaire


class QuestionInline(admin.TabularInline):
    model = Question
    extra = 0
    # Questions are edited on the secretariat's page, which refuses changes once answered.
    fields = ("order", "text", "kind", "required", "choices")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Questionnaire)
class QuestionnaireAdmin(admin.ModelAdmin):
    list_display = ("course", "opens_at", "closes_at", "pages")
    search_fields = ("course__code", "course__title")
    readonly_fields = ("course", "opens_at", "closes_at", "created_at", "pages")
    inlines = [QuestionInline]

    @admin.display(description=_("pagine"))
    def pages(self, obj: Questionnaire) -> str:
        slug = obj.course.slug
        return format_html(
            '<a href="{}">{}</a> · <a href="{}">{}</a>',
            reverse("questionnaire:results", kwargs={"slug": slug}),
            _("Risultati"),
            reverse("questionnaire:edit", kwargs={"slug": slug}),
            _("Modifica"),
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # created with the defaults the first time a course's questionnaire is used


@admin.register(Completion)
class CompletionAdmin(admin.ModelAdmin):
    """Who has filled in the questionnaire; their answers are not linked and not shown."""

    list_display = ("enrollment", "completed_at")
    list_filter = ("enrollment__course",)
    search_fields = ("enrollment__user__email", "enrollment__user__last_name")
    readonly_fields = ("enrollment", "completed_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
