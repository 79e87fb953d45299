from __future__ import annotations

from django.urls import path

from club.api import views

urlpatterns = [
    path("observations", views.ObservationsView.as_view(), name="club-observations"),
    path("view", views.ClubView.as_view(), name="club-view"),
    path("introductions", views.IntroductionsView.as_view(), name="club-introductions"),
    path("segments/query", views.SegmentQueryView.as_view(), name="club-segments-query"),
    path("clubs/<uuid:club_id>/rules", views.MemberRulesView.as_view(), name="club-member-rules"),
    path("me/observations", views.MyObservationsView.as_view(), name="club-my-observations"),
    path("me/observations/<uuid:observation_id>", views.MyObservationView.as_view(), name="club-my-observation"),
]
