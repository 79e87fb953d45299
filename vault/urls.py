from django.urls import path

from vault import views

app_name = "vault"
urlpatterns = [
    path("", views.home, name="home"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("upload/", views.upload, name="upload"),
    path("imports/<uuid:job_id>/", views.import_detail, name="import_detail"),
    path("imports/<uuid:job_id>/status", views.import_status, name="import_status"),
    path("tracks/", views.track_list, name="track_list"),
    path("tracks/<uuid:track_id>/", views.track_detail, name="track_detail"),
    path("timeline/", views.timeline, name="timeline"),
    path("social/", views.social_list, name="social_list"),
    path("zones/", views.zones, name="zones"),
    path("zones/<uuid:zone_id>/delete/", views.zone_delete, name="zone_delete"),
    path("export/", views.export, name="export"),
    path("export/download/", views.export_download, name="export_download"),
]
