from django.urls import path

from web import views

# The public course URLs keep the names they always had (`courses:catalogue`, `courses:detail`):
# e-mails, the calendar file and bookmarks link to them; only the page's composition moved here.
app_name = "courses"

urlpatterns = [
    path("", views.catalogue, name="catalogue"),
    path("courses/<slug:slug>/", views.course_detail, name="detail"),
]
