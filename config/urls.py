from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from config import health, metrics

urlpatterns = [
    path("health/live", health.live, name="health-live"),
    path("health/ready", health.ready, name="health-ready"),
    path("metrics", metrics.metrics, name="metrics"),
    path("", include("vault.urls")),
    path("accounts/", include("accounts.urls")),
    path("ledger/", include("ledger.urls")),
    path("", include("broker.urls")),
    path("", include("broker.oauth_urls")),
    path("api/v1/ledger/", include("ledger.api.urls")),
    path("insights/", include("insights.urls")),
    path("api/v1/insights/", include("insights.api.urls")),
    path("api/v1/club/", include("club.api.urls")),
    path("club/", include("club.urls")),
    path("api/v1/", include("broker.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    path("admin/", admin.site.urls),
]

handler400 = "config.error_views.bad_request"
handler403 = "config.error_views.permission_denied"
handler404 = "config.error_views.page_not_found"
handler500 = "config.error_views.server_error"
