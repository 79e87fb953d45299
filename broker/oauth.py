"""django-oauth-toolkit hooks that tie tokens to consents.

* ``save_authorization_code`` remembers which consent a code was issued under.
* ``validate_code`` refuses codes whose consent is not active, and treats a replayed
  (already redeemed) code as theft: every token issued from it is revoked.
* ``_save_bearer_token`` redeems the code exactly once, caps the access token's life at
  the consent's expiry and binds each new access token to its consent.
* ``validate_refresh_token`` refuses refresh under a consent that is not active, so a
  refresh token never outlives (nor survives the pause of) its consent.
"""

from __future__ import annotations

import hashlib

from django.utils import timezone
from oauth2_provider.models import AccessToken, RefreshToken
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauthlib.oauth2.rfc6749 import errors

from broker.models import AuthorizationCode, Consent, TokenBinding
from config.prepared import PreparedQuery


def checksum(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _usable(consent: Consent) -> bool:
    return consent.is_active_at(timezone.now())


def revoke_tokens_from_code(link: AuthorizationCode) -> None:
    if link.token_family:
        RefreshToken.revoke_family(link.token_family)
    AccessToken.objects.filter(consent_binding__code=link).delete()


_TOKEN_COLUMNS = (
    "user_id",
    "application_id",
    "token_checksum",
    "expires",
    "scope",
    "resource",
    "application__client_id",
    "application__name",
    "user__username",
    "user__uid",
    "user__role",
    "user__erased_at",
    "user__is_active",
    "consent_binding__consent__partner__uid",
    "consent_binding__consent__partner__name",
    # The whole consent but its bookkeeping times: every check reads its terms and state.
    *(
        f"consent_binding__consent__{field.attname}"
        for field in Consent._meta.concrete_fields
        if field.attname not in ("id", "created_at", "updated_at")
    ),
)


# Every partner call's first query: compiled once (config.prepared), only the checksum
# changes. Only the columns a partner call uses: secrets (client secret, password hash)
# stay unread. A slice, not ``.first()``: the checksum is unique, and first()'s ORDER BY
# would only add work.
_token_lookup = PreparedQuery(
    lambda checksum: (
        AccessToken.objects.select_related("application", "user", "consent_binding__consent__partner")
        .only(*_TOKEN_COLUMNS)
        .filter(token_checksum=checksum)[:1]
    ),
    checksum=AccessToken._meta.get_field("token_checksum"),
)


class ConsentValidator(OAuth2Validator):
    def _load_access_token(self, token):
        """The toolkit's lookup by checksum (tokens are hashed at rest), joined in the same
        query to the token's consent binding, consent and partner: one query where the data
        API needed two (``broker.access.consent_for_token`` reads the join). The consent's
        person is the token's user, so that row is joined once and shared."""
        token_checksum = hashlib.sha256(token.encode("utf-8")).hexdigest()
        found = next(iter(_token_lookup.instances(checksum=token_checksum)), None)
        binding = getattr(found, "consent_binding", None) if found is not None else None
        if binding is not None and binding.consent.person_id == found.user_id:
            binding.consent.person = found.user
        return found

    def save_authorization_code(self, client_id, code, request, *args, **kwargs):
        consent = getattr(request, "eidetic_consent", None)
        if consent is None or consent.application_id != request.client.pk:
            # A code is only ever issued by approving a consent request on our screen.
            raise errors.InvalidRequestError(description="No consent request for this authorization.", request=request)
        super().save_authorization_code(client_id, code, request, *args, **kwargs)
        AuthorizationCode.objects.create(code_hash=checksum(code["code"]), consent=consent)

    def validate_code(self, client_id, code, client, request, *args, **kwargs):
        link = AuthorizationCode.objects.select_related("consent").filter(code_hash=checksum(code)).first()
        valid = super().validate_code(client_id, code, client, request, *args, **kwargs)
        if link is None:
            return False
        if not valid:
            if link.redeemed_at is not None:
                revoke_tokens_from_code(link)
            return False
        if not _usable(link.consent):
            return False
        request.eidetic_code = link
        return True

    def validate_refresh_token(self, refresh_token, client, request, *args, **kwargs):
        if not super().validate_refresh_token(refresh_token, client, request, *args, **kwargs):
            return False
        family = request.refresh_token_instance.token_family
        link = AuthorizationCode.objects.select_related("consent").filter(token_family=family).first()
        if link is None or not _usable(link.consent):
            return False
        request.eidetic_code = link
        return True

    def _save_bearer_token(self, token, request, *args, **kwargs):
        link: AuthorizationCode | None = getattr(request, "eidetic_code", None)
        if link is None:
            raise errors.InvalidGrantError(request=request)
        if request.grant_type == "authorization_code":
            claimed = AuthorizationCode.objects.filter(pk=link.pk, redeemed_at=None).update(redeemed_at=timezone.now())
            if not claimed:  # Two exchanges of one code raced: the second is a replay.
                raise errors.InvalidGrantError(request=request)
        remaining = int((link.consent.expires_at - timezone.now()).total_seconds())
        token["expires_in"] = max(1, min(int(token.get("expires_in") or remaining), remaining))
        super()._save_bearer_token(token, request, *args, **kwargs)
        access_token = AccessToken.objects.get(token_checksum=checksum(token["access_token"]))
        TokenBinding.objects.get_or_create(access_token=access_token, defaults={"consent": link.consent, "code": link})
        if request.grant_type == "authorization_code":
            family = RefreshToken.objects.filter(access_token=access_token).values_list("token_family", flat=True)
            AuthorizationCode.objects.filter(pk=link.pk).update(token_family=family.first())
