from csp.decorators import csp_update
from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView

from api import views

app_name = "api"

urlpatterns = [
    path("v1/courses/", views.CourseListView.as_view(), name="courses"),
    path("v1/courses/<slug:slug>/", views.CourseDetailView.as_view(), name="course"),
    path("v1/courses/<slug:slug>/sessions/", views.CourseSessionsView.as_view(), name="sessions"),
    path(
        "v1/org/courses/<slug:slug>/enrollments/",
        views.OrgEnrollmentsView.as_view(),
        name="org_enrollments",
    ),
    path(
        "v1/org/courses/<slug:slug>/attendance/",
        views.OrgAttendanceView.as_view(),
        name="org_attendance",
    ),
    path(
        "v1/org/courses/<slug:slug>/certificates/",
        views.OrgCertificatesView.as_view(),
        name="org_certificates",
    ),
    path(
        "v1/org/certificates/<uuid:token>/download/",
        views.OrgCertificateDownloadView.as_view(),
        name="org_certificate_download",
    ),
    path("v1/me/enrollments/", views.MyEnrollmentsView.as_view(), name="my_enrollments"),
    path("v1/me/certificates/", views.MyCertificatesView.as_view(), name="my_certificates"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path(
        "docs/",
        # Redoc starts its search worker from a blob: URL; allowed on this page only.
        csp_update({"worker-src": ["'self'", "blob:"]})(
            SpectacularRedocView.as_view(url_name="api:schema", template_name="api/redoc.html")
        ),
        name="docs",
    ),
]
