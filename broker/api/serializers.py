"""Shapes of the broker API. No business logic here: views call services."""

from __future__ import annotations

from rest_framework import serializers

from broker.models import Consent


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


class ScopeSerializer(serializers.Serializer):
    name = serializers.CharField()
    category = serializers.CharField()
    description = serializers.CharField()


class PurposeSerializer(serializers.Serializer):
    code = serializers.CharField()
    ref_uri = serializers.URLField()
    title = serializers.CharField()
    description = serializers.CharField()


class ConsentRequestInputSerializer(serializers.Serializer):
    scopes = serializers.ListField(child=serializers.CharField(max_length=60), min_length=1, max_length=8)
    purpose_code = serializers.CharField(max_length=60)
    purpose_text = serializers.CharField(max_length=500)
    data_from = serializers.DateTimeField()
    data_to = serializers.DateTimeField()
    frequency_value = serializers.IntegerField(min_value=1, max_value=100000)
    frequency_unit = serializers.ChoiceField(choices=Consent.FrequencyUnit.choices)
    data_life_value = serializers.IntegerField(min_value=0, max_value=100000, default=0)
    data_life_unit = serializers.ChoiceField(choices=Consent.DataLifeUnit.choices)
    valid_from = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    price_amount = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0, default="0")
    price_basis = serializers.ChoiceField(choices=Consent.PriceBasis.choices, default=Consent.PriceBasis.NONE)


class ConsentOutputSerializer(serializers.Serializer):
    """A consent's agreed terms and state (what both parties may see)."""

    id = serializers.UUIDField(source="uid")
    partner = serializers.UUIDField(source="partner.uid")
    state = serializers.CharField()
    scopes = serializers.ListField(child=serializers.CharField())
    purpose_code = serializers.CharField()
    purpose_text = serializers.CharField()
    data_from = serializers.DateTimeField()
    data_to = serializers.DateTimeField()
    frequency_value = serializers.IntegerField()
    frequency_unit = serializers.CharField()
    data_life_value = serializers.IntegerField()
    data_life_unit = serializers.CharField()
    valid_from = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    price_amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    price_basis = serializers.CharField()
    state_changed_at = serializers.DateTimeField()


class ConsentRequestCreatedSerializer(ConsentOutputSerializer):
    authorize_hint = serializers.CharField(help_text="Query parameter to add to the authorize URL.")


class PersonConsentSerializer(ConsentOutputSerializer):
    partner_name = serializers.CharField(source="partner.name")
    receipt_entry_id = serializers.CharField()
    last_access_at = serializers.DateTimeField(allow_null=True)
    access_count = serializers.IntegerField()
    earned = serializers.DecimalField(max_digits=14, decimal_places=2, allow_null=True)


class PageSerializer(serializers.Serializer):
    subject = serializers.CharField(help_text="The person's pairwise pseudonymous id towards your firm.")
    consent = serializers.UUIDField()
    scope = serializers.CharField()
    next_cursor = serializers.CharField(allow_null=True, help_text="Pass as `cursor` for the next page.")


class PlaceSerializer(serializers.Serializer):
    name = serializers.CharField(required=False, allow_null=True)
    lat = serializers.FloatField(required=False)
    lon = serializers.FloatField(required=False)


class MomentSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="Record id, pairwise per partner.")
    occurred_at = serializers.DateTimeField()
    kind = serializers.CharField(required=False, allow_null=True)
    label = serializers.CharField(required=False, allow_null=True)
    tags = serializers.ListField(child=serializers.CharField(), required=False, allow_null=True)
    sentiment = serializers.CharField(required=False, allow_null=True)
    place = PlaceSerializer(required=False, allow_null=True)
    hr = serializers.IntegerField(required=False, allow_null=True)


class MomentPageSerializer(PageSerializer):
    items = MomentSerializer(many=True)


class LocationPointSerializer(serializers.Serializer):
    id = serializers.CharField()
    recorded_at = serializers.DateTimeField()
    lat = serializers.FloatField()
    lon = serializers.FloatField()
    ele = serializers.FloatField(required=False, allow_null=True, help_text="Precise scope only.")


class LocationPageSerializer(PageSerializer):
    items = LocationPointSerializer(many=True)


class HeartRatePointSerializer(serializers.Serializer):
    id = serializers.CharField()
    recorded_at = serializers.DateTimeField()
    hr = serializers.IntegerField(allow_null=True)


class HeartRatePageSerializer(PageSerializer):
    items = HeartRatePointSerializer(many=True)


class SocialItemSerializer(serializers.Serializer):
    id = serializers.CharField()
    kind = serializers.CharField()
    network = serializers.CharField()
    occurred_at = serializers.DateTimeField()
    text = serializers.CharField(required=False, allow_null=True, allow_blank=True)
    url = serializers.CharField(required=False, allow_null=True, allow_blank=True)
    topic = serializers.CharField(required=False, allow_null=True, allow_blank=True)


class SocialPageSerializer(PageSerializer):
    items = SocialItemSerializer(many=True)
