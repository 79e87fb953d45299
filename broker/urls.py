"""The broker's portal pages (mounted at the site root, namespace ``broker``)."""

from __future__ import annotations

from django.urls import path

from broker import views

app_name = "broker"

urlpatterns = [
    path("consents/", views.consent_list, name="consent_list"),
    path("consents/<uuid:consent_id>/", views.consent_detail, name="consent_detail"),
    path("consents/<uuid:consent_id>/pause/", views.consent_pause, name="consent_pause"),
    path("consents/<uuid:consent_id>/resume/", views.consent_resume, name="consent_resume"),
    path("consents/<uuid:consent_id>/revoke/", views.consent_revoke, name="consent_revoke"),
    path("consents/<uuid:consent_id>/receipt.json", views.consent_receipt, name="consent_receipt"),
    path("access-log/", views.access_log, name="access_log"),
    path("earnings/", views.earnings, name="earnings"),
    path("partner/", views.partner_home, name="partner_home"),
    path("partner/<uuid:partner_id>/", views.partner_console, name="partner_console"),
    path("partner/<uuid:partner_id>/consents/<uuid:consent_id>/", views.partner_consent, name="partner_consent"),
    path("partner/<uuid:partner_id>/clients/", views.partner_client_create, name="partner_client_create"),
    path("partner/<uuid:partner_id>/webhook/", views.partner_webhook, name="partner_webhook"),
    path(
        "partner/<uuid:partner_id>/webhook/rotate-secret/",
        views.partner_webhook_rotate,
        name="partner_webhook_rotate",
    ),
]
