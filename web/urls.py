from django.urls import path

from web import views

app_name = "web"

urlpatterns = [
    # The secretariat's home links to every app's pages for each course: composed here.
    path("segreteria/", views.secretariat_home, name="secretariat"),
]
