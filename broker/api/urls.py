from __future__ import annotations

from django.urls import path

from broker.api import data, views

urlpatterns = [
    path("scopes", views.ScopesView.as_view(), name="broker-scopes"),
    path("purposes", views.PurposesView.as_view(), name="broker-purposes"),
    path("consent-requests", views.ConsentRequestsView.as_view(), name="broker-consent-requests"),
    path("consent-requests/<uuid:consent_id>", views.PartnerConsentView.as_view(), name="broker-consent-request"),
    path("me/consents", views.MyConsentsView.as_view(), name="broker-my-consents"),
    path("me/consents/<uuid:consent_id>/pause", views.action_view("pause"), name="broker-consent-pause"),
    path("me/consents/<uuid:consent_id>/resume", views.action_view("resume"), name="broker-consent-resume"),
    path("me/consents/<uuid:consent_id>/revoke", views.action_view("revoke"), name="broker-consent-revoke"),
    path("data/moments", data.MomentsView.as_view(), name="broker-data-moments"),
    path("data/location", data.LocationView.as_view(), name="broker-data-location"),
    path("data/heartrate", data.HeartRateView.as_view(), name="broker-data-heartrate"),
    path("data/social/interests", data.SocialInterestsView.as_view(), name="broker-data-social-interests"),
    path("data/social/posts", data.SocialPostsView.as_view(), name="broker-data-social-posts"),
]
