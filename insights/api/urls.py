from __future__ import annotations

from django.urls import path

from insights.api import views

urlpatterns = [
    path("interests", views.InterestsView.as_view(), name="insights-interests"),
]
