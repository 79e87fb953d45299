"""How partners' servers authenticate outside the data API: HTTP Basic with their OAuth
client id and secret (as at the token endpoint), for consent requests."""

from __future__ import annotations

import base64
from urllib.parse import unquote_plus

from django.contrib.auth.models import AnonymousUser
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from oauth2_provider.models import Application
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import BasePermission

from broker.errors import ClientAuthenticationFailed
from broker.models import PartnerClient


class PartnerClientAuthentication(BaseAuthentication):
    """``Authorization: Basic base64(client_id:client_secret)``; ``request.auth`` is the
    partner's ``PartnerClient``. The secret is checked against its stored hash."""

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header.startswith("Basic "):
            return None
        try:
            client_id, secret = base64.b64decode(header[6:], validate=True).decode().split(":", 1)
        except (ValueError, UnicodeDecodeError) as error:
            raise ClientAuthenticationFailed() from error
        client_id, secret = unquote_plus(client_id), unquote_plus(secret)
        client = (
            PartnerClient.objects.select_related("partner", "application")
            .filter(application__client_id=client_id, application__client_type=Application.CLIENT_CONFIDENTIAL)
            .first()
        )
        if client is None or not _secret_matches(client.application, secret):
            raise ClientAuthenticationFailed()
        return AnonymousUser(), client

    def authenticate_header(self, request) -> str:
        return 'Basic realm="eidetic"'


def _secret_matches(application: Application, secret: str) -> bool:
    from django.contrib.auth.hashers import check_password

    if application.hash_client_secret:
        return check_password(secret, application.client_secret)
    return False  # Unhashed secrets are not issued by Eidetic.


class IsPartnerClient(BasePermission):
    def has_permission(self, request, view) -> bool:
        return isinstance(request.auth, PartnerClient)


class PartnerClientAuthenticationScheme(OpenApiAuthenticationExtension):
    """Tells drf-spectacular how partners' servers authenticate (HTTP Basic)."""

    target_class = "broker.api.authentication.PartnerClientAuthentication"
    name = "partnerClient"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "basic", "description": "OAuth client id and secret."}
