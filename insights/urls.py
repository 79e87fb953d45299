from __future__ import annotations

from django.urls import path

from insights import views

app_name = "insights"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("rebuild/", views.rebuild, name="rebuild"),
    # Topic ids are the published taxonomy's, not personal and not guessable objects.
    path("interests/<str:topic_id>/", views.interest_detail, name="interest"),
    path("interests/<str:topic_id>/hide/", views.hide, name="hide"),
    path("interests/<str:topic_id>/show/", views.show, name="show"),
    path("interests/<str:topic_id>/correct/", views.correct, name="correct"),
]
