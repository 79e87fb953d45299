"""OAuth 2.0 endpoints, mounted at the site root (RFC 8414 metadata must live there).

The namespace is the toolkit's own, so its metadata view finds our endpoints. No device
flow, no application management pages, no OIDC: partners are set up by
``manage.py partner_create`` or the partner console.
"""

from __future__ import annotations

from django.urls import path
from oauth2_provider import views as oauth_views

from broker.oauth_views import ConsentIntrospectView, ConsentScreenView
from config.ratelimit import limited_view, oauth_client_id

app_name = "oauth2_provider"

urlpatterns = [
    path("oauth/authorize/", ConsentScreenView.as_view(), name="authorize"),
    path(
        "oauth/token/",
        # Per client id (RATE_LIMITS["OAUTH_TOKEN_PER_CLIENT"]): 429 with Retry-After past it.
        limited_view("oauth-token", rate_setting="OAUTH_TOKEN_PER_CLIENT", key=oauth_client_id)(
            oauth_views.TokenView.as_view()
        ),
        name="token",
    ),
    path("oauth/revoke_token/", oauth_views.RevokeTokenView.as_view(), name="revoke-token"),
    path("oauth/introspect/", ConsentIntrospectView.as_view(), name="introspect"),
    path(
        ".well-known/oauth-authorization-server",
        oauth_views.OAuthServerMetadataView.as_view(),
        name="oauth-server-metadata",
    ),
]
