from __future__ import annotations

import datetime as dt
from typing import Any
from uuid import UUID

from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api import selectors
from api.models import ApiKey
from api.permissions import HasApiKey
from api.serializers import (
    AttendanceSerializer,
    AttendanceWriteSerializer,
    CertificateSerializer,
    CourseSerializer,
    EnrollmentSerializer,
    MyEnrollmentSerializer,
    SessionSerializer,
)
from attendance.models import Source
from attendance.services import AttendanceError, record_attendance
from certificates.selectors import list_user_certificates
from courses.models import Course
from courses.selectors import list_catalogue
from enrollment.selectors import get_course_status_map, list_user_enrollments


def _course(slug: str) -> Course:
    return get_object_or_404(list_catalogue(), slug=slug)


def _date_param(request: Request, name: str) -> dt.date | None:
    value = request.query_params.get(name)
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValidationError(
            {name: [_("Data non valida: usare il formato AAAA-MM-GG.")]}
        ) from None


DATE_RANGE = [
    OpenApiParameter("from", OpenApiTypes.DATE, description="Giornate da questa data"),
    OpenApiParameter("to", OpenApiTypes.DATE, description="Giornate fino a questa data"),
]


# --- Public --------------------------------------------------------------------------------------


class PublicMixin:
    authentication_classes: list[type] = []
    permission_classes = [AllowAny]
    throttle_classes: list[type] = []


@extend_schema(parameters=DATE_RANGE)
class CourseListView(PublicMixin, generics.ListAPIView):
    """The published catalogue, with seats."""

    serializer_class = CourseSerializer

    def get_queryset(self) -> Any:
        return selectors.list_api_courses(
            date_from=_date_param(self.request, "from"), date_to=_date_param(self.request, "to")
        )

    def get_serializer(self, *args: Any, **kwargs: Any) -> Any:
        courses = args[0] if args else []
        kwargs["context"] = {**self.get_serializer_context(), "statuses": _statuses(courses)}
        return super().get_serializer(*args, **kwargs)


def _statuses(courses: Any) -> dict[int, Any]:
    if isinstance(courses, Course):
        courses = [courses]
    return get_course_status_map(list(courses)) if courses else {}


class CourseDetailView(PublicMixin, generics.RetrieveAPIView):
    serializer_class = CourseSerializer
    lookup_field = "slug"

    def get_queryset(self) -> Any:
        return list_catalogue()

    def get_serializer(self, *args: Any, **kwargs: Any) -> Any:
        courses = args[0] if args else []
        kwargs["context"] = {**self.get_serializer_context(), "statuses": _statuses(courses)}
        return super().get_serializer(*args, **kwargs)


class CourseSessionsView(PublicMixin, generics.ListAPIView):
    serializer_class = SessionSerializer
    pagination_class = None

    def get_queryset(self) -> Any:
        return _course(self.kwargs["slug"]).sessions.order_by("date", "start")


# --- Organisations (API key) ---------------------------------------------------------------------


class OrgMixin:
    permission_classes = [HasApiKey]
    request: Request
    kwargs: dict[str, Any]

    @property
    def key(self) -> ApiKey:
        assert isinstance(self.request.auth, ApiKey)
        return self.request.auth


class OrgEnrollmentsView(OrgMixin, generics.ListAPIView):
    """A course's enrolments of the key's organisation."""

    serializer_class = EnrollmentSerializer

    def get_queryset(self) -> Any:
        return selectors.list_key_enrollments(key=self.key, course=_course(self.kwargs["slug"]))


@extend_schema(methods=["GET"], parameters=DATE_RANGE)
class OrgAttendanceView(OrgMixin, generics.ListAPIView):
    """A course's attendance of the key's organisation; POST records one presence (write key)."""

    serializer_class = AttendanceSerializer

    def get_queryset(self) -> Any:
        return selectors.list_key_attendance(
            key=self.key,
            course=_course(self.kwargs["slug"]),
            date_from=_date_param(self.request, "from"),
            date_to=_date_param(self.request, "to"),
        )

    @extend_schema(
        request=AttendanceWriteSerializer,
        responses={
            201: AttendanceSerializer,
            200: OpenApiResponse(description=_("Nessuna modifica")),
        },
    )
    def post(self, request: Request, slug: str) -> Response:
        course = _course(slug)
        data = AttendanceWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        # Another organisation's enrolment or another course's session: not found, as a page.
        enrollment = (
            selectors.list_key_enrollments(key=self.key, course=course)
            .filter(pk=values["enrollment"])
            .first()
        )
        session = course.sessions.filter(pk=values["session"]).first()
        if enrollment is None or session is None:
            raise Http404
        try:
            attendance = record_attendance(
                enrollment=enrollment,
                session=session,
                minutes=values.get("minutes"),
                entry=values.get("entry"),
                exit=values.get("exit"),
                recorded_by=None,
                source=Source.API,
                source_detail=f"{self.key.name} ({self.key.organisation}, {self.key.prefix}…)",
            )
        except AttendanceError as exc:
            raise ValidationError({"detail": str(exc)}) from exc
        if attendance is None:
            return Response({"detail": str(_("Nessuna modifica."))}, status=status.HTTP_200_OK)
        return Response(AttendanceSerializer(attendance).data, status=status.HTTP_201_CREATED)


class OrgCertificatesView(OrgMixin, generics.ListAPIView):
    serializer_class = CertificateSerializer

    def get_queryset(self) -> Any:
        return selectors.list_key_certificates(key=self.key, course=_course(self.kwargs["slug"]))


P7M_TYPE = "application/pkcs7-mime"


class OrgCertificateDownloadView(OrgMixin, APIView):
    """The signed file (.pdf.p7m) of a certificate of the key's organisation."""

    @extend_schema(responses={(200, P7M_TYPE): OpenApiTypes.BINARY})
    def get(self, request: Request, token: UUID) -> FileResponse:
        certificate = selectors.get_key_certificate(key=self.key, token=str(token))
        if certificate is None:
            raise Http404
        response = FileResponse(
            certificate.file.open("rb"),
            as_attachment=True,
            filename=certificate.filename,
            content_type=P7M_TYPE,
        )
        response["Cache-Control"] = "private, no-store"
        return response


# --- Signed-in participant (the site's session) ------------------------------------------------


class MeMixin:
    """The participant's own data, for the site's own pages and apps (read only)."""

    authentication_classes = [SessionAuthentication]
    permission_classes = [IsAuthenticated]
    throttle_classes: list[type] = []
    request: Request


class MyEnrollmentsView(MeMixin, generics.ListAPIView):
    serializer_class = MyEnrollmentSerializer

    def get_queryset(self) -> Any:
        return list_user_enrollments(self.request.user.pk)


class MyCertificatesView(MeMixin, generics.ListAPIView):
    serializer_class = CertificateSerializer

    def get_queryset(self) -> Any:
        return list_user_certificates(self.request.user.pk)
