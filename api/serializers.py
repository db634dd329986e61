from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from attendance.models import Attendance
from certificates.models import Certificate
from courses.models import Course, Session
from enrollment.models import Enrollment


class SessionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Session
        fields = ["id", "date", "start", "end", "title", "mode"]


class SeatsSerializer(serializers.Serializer):
    capacity = serializers.IntegerField()
    taken = serializers.IntegerField()
    left = serializers.IntegerField()
    state = serializers.ChoiceField(choices=["open", "full", "closed", "ended"])


class CourseSerializer(serializers.ModelSerializer):
    """A published course; its seats come from the enrolment selectors (see the view)."""

    first_date = serializers.SerializerMethodField()
    last_date = serializers.SerializerMethodField()
    seats = serializers.SerializerMethodField()

    class Meta:
        model = Course
        fields = [
            "slug",
            "code",
            "title",
            "venue",
            "enrollment_deadline",
            "first_date",
            "last_date",
            "seats",
        ]

    @extend_schema_field(serializers.DateField(allow_null=True))
    def get_first_date(self, course: Course) -> Any:
        sessions = list(course.sessions.all())
        return sessions[0].date if sessions else None

    @extend_schema_field(serializers.DateField(allow_null=True))
    def get_last_date(self, course: Course) -> Any:
        sessions = list(course.sessions.all())
        return sessions[-1].date if sessions else None

    @extend_schema_field(SeatsSerializer)
    def get_seats(self, course: Course) -> dict[str, Any]:
        status = self.context["statuses"][course.pk]
        return {
            "capacity": status.availability.capacity,
            "taken": status.availability.taken,
            "left": status.availability.left,
            "state": status.state.value,
        }


class EnrollmentSerializer(serializers.ModelSerializer):
    first_name = serializers.CharField(source="user.first_name")
    last_name = serializers.CharField(source="user.last_name")
    email = serializers.EmailField(source="user.email")
    codice_fiscale = serializers.CharField(source="user.profile.codice_fiscale")
    organisation = serializers.CharField(source="user.profile.organisation")

    class Meta:
        model = Enrollment
        fields = [
            "id",
            "status",
            "first_name",
            "last_name",
            "email",
            "codice_fiscale",
            "organisation",
            "created_at",
            "confirmed_at",
        ]


class AttendanceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Attendance
        fields = ["id", "enrollment", "session", "minutes", "entry", "exit", "source"]


class AttendanceWriteSerializer(serializers.Serializer):
    """One presence to record; either minutes or both entry and exit times."""

    enrollment = serializers.IntegerField()
    session = serializers.IntegerField()
    minutes = serializers.IntegerField(min_value=0, required=False, allow_null=True)
    entry = serializers.TimeField(required=False, allow_null=True)
    exit = serializers.TimeField(required=False, allow_null=True)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("minutes") is None and (
            attrs.get("entry") is None or attrs.get("exit") is None
        ):
            raise serializers.ValidationError(_("Indicare i minuti oppure entrata e uscita."))
        return attrs


class CertificateSerializer(serializers.ModelSerializer):
    enrollment = serializers.IntegerField(source="enrollment_id")

    class Meta:
        model = Certificate
        fields = [
            "token",
            "serial",
            "code",
            "enrollment",
            "holder_first_name",
            "holder_last_name",
            "codice_fiscale",
            "course_code",
            "attended_minutes",
            "total_minutes",
            "sha256",
            "issued_at",
        ]


class MyEnrollmentSerializer(serializers.ModelSerializer):
    course = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    course_code = serializers.CharField(source="course.code")
    course_title = serializers.CharField(source="course.title")

    class Meta:
        model = Enrollment
        fields = ["id", "course", "course_code", "course_title", "status", "created_at"]
