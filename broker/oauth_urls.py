"""OAuth 2.0 endpoints, mounted at the site root (RFC 8414 metadata must live there).

The namespace is the toolkit's own, so its metadata view finds our endpoints. No device
flow, no application management pages, no OIDC: partners are set up by
``manage.py partner_create`` or the partner console.
"""

from __future__ import annotations

from django.urls import path
from oauth2_provider import views as oauth_views

from broker.oauth_views import ConsentIntrospectView, ConsentScreenView

app_name = "oauth2_provider"

urlpatterns = [
    path("oauth/authorize/", ConsentScreenView.as_view(), name="authorize"),
    path("oauth/token/", oauth_views.TokenView.as_view(), name="token"),
    path("oauth/revoke_token/", oauth_views.RevokeTokenView.as_view(), name="revoke-token"),
    path("oauth/introspect/", ConsentIntrospectView.as_view(), name="introspect"),
    path(
        ".well-known/oauth-authorization-server",
        oauth_views.OAuthServerMetadataView.as_view(),
        name="oauth-server-metadata",
    ),
]
