from django.contrib import admin
from django.urls import include, path

from accounts.throttling import limit_login_failures_per_address
from portal import views

urlpatterns = [
    path("", include("web.course_urls")),
    path("", include("web.urls")),
    path("", include("enrollment.urls")),
    path("accounts/", include("accounts.urls")),
    path("", include("attendance.urls")),
    path("", include("questionnaire.urls")),
    path("", include("certificates.urls")),
    path("", include("privacy.urls")),
    path("lang/<str:code>/", views.switch_language, name="switch_language"),
    path("api/", include("api.urls")),
    path("healthz", views.healthz, name="healthz"),
    # The admin's own login view, under the same per-address limit as the site's.
    path("admin/login/", limit_login_failures_per_address(admin.site.login)),
    path("admin/", admin.site.urls),
]
