"""The club's portal pages (mounted at ``/club/``, namespace ``club``)."""

from __future__ import annotations

from django.urls import path

from club import views

app_name = "club"

urlpatterns = [
    path("", views.person_home, name="person_home"),
    path("observations/<uuid:observation_id>/correct/", views.observation_correct, name="observation_correct"),
    path("observations/<uuid:observation_id>/delete/", views.observation_delete, name="observation_delete"),
    path("member/", views.member_home, name="member_home"),
    path("member/<uuid:membership_id>/", views.member_detail, name="member_detail"),
]
