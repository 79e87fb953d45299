from django.urls import path

from vault import background_views, views

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
    path("export/", background_views.export, name="export"),
    path("export/start/", background_views.export_start, name="export_start"),
    path("export/<uuid:job_id>/", background_views.export_job, name="export_job"),
    path("export/<uuid:job_id>/status", background_views.export_job_status, name="export_job_status"),
    path("export/<uuid:job_id>/download", background_views.export_job_download, name="export_job_download"),
    # The one-step download, kept for scripts and small vaults: the page uses the job above.
    path("export/download/", views.export_download, name="export_download"),
    path("operations/keys/", background_views.key_rotation, name="key_rotation"),
    path("operations/keys/<uuid:job_id>/status", background_views.key_rotation_status, name="key_rotation_status"),
]
