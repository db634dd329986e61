from __future__ import annotations

from functools import partial

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import transaction
from django.forms.models import BaseInlineFormSet
from django.utils.translation import gettext_lazy as _

from accounts.models import OrganisationType
from core.admin import ReadOnlyModelAdmin
from courses.admin import CourseAdmin as BaseCourseAdmin
from courses.admin import QuotaInline as BaseQuotaInline
from courses.models import Course, CourseQuota
from enrollment.models import Enrollment, EnrollmentChange
from enrollment.services import fill_free_seats


@admin.register(Enrollment)
class EnrollmentAdmin(ReadOnlyModelAdmin):
    """Read only: enrolments change state only through the services, which keep the seat
    rules, the waiting list and the history."""

    list_display = ("user", "course", "status", "quota_key", "created_at")
    list_filter = ("status", "course")
    search_fields = ("user__email", "user__last_name", "course__code")
    list_select_related = ("user", "course")


@admin.register(EnrollmentChange)
class EnrollmentChangeAdmin(ReadOnlyModelAdmin):
    """The history of enrolment states: read only, append only."""

    list_display = ("changed_at", "enrollment", "action", "old_status", "new_status", "actor")
    list_filter = ("action",)
    search_fields = ("enrollment__user__email", "enrollment__course__code")
    list_select_related = ("enrollment__user", "enrollment__course", "actor")


class QuotaInUseFormSet(BaseInlineFormSet):
    """Refuse to delete a quota, or change its type of organisation, while active enrolments
    take their seat from it: their seat would no longer be counted against any quota."""

    def clean(self) -> None:
        super().clean()
        if self.instance.pk is None:
            return
        in_use = set(
            Enrollment.objects.active()
            .filter(course=self.instance)
            .exclude(quota_key="")
            .values_list("quota_key", flat=True)
            .distinct()
        )
        errors = []
        for form in self.initial_forms:
            original = form.initial.get("organisation_type")
            if original not in in_use:
                continue
            label = OrganisationType(original).label
            if self._should_delete_form(form):
                errors.append(
                    ValidationError(
                        _(
                            "La quota «%(label)s» non si può eliminare: ci sono iscrizioni "
                            "attive che occupano i suoi posti. Annullale o spostale prima."
                        ),
                        params={"label": label},
                    )
                )
            elif form.cleaned_data.get("organisation_type") != original:
                errors.append(
                    ValidationError(
                        _(
                            "Il tipo di ente della quota «%(label)s» non si può cambiare: ci "
                            "sono iscrizioni attive che occupano i suoi posti."
                        ),
                        params={"label": label},
                    )
                )
        if errors:
            raise ValidationError(errors)


class QuotaInline(BaseQuotaInline):
    formset = QuotaInUseFormSet


admin.site.unregister(Course)


@admin.register(Course)
class CourseAdmin(BaseCourseAdmin):
    """The course admin, aware of enrolments: it guards quotas in use and, when seats are
    raised, gives them to the waiting list."""

    inlines = [QuotaInline if i is BaseQuotaInline else i for i in BaseCourseAdmin.inlines]

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        seats_changed = "capacity" in form.changed_data or any(
            formset.model is CourseQuota and formset.has_changed() for formset in formsets
        )
        if change and seats_changed:
            # After commit: the service takes the course lock in its own transaction.
            transaction.on_commit(
                partial(
                    fill_free_seats,
                    course=form.instance,
                    actor=request.user,
                    reason=str(_("Posti aumentati nell'amministrazione del corso.")),
                )
            )
