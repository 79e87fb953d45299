from __future__ import annotations

from rest_framework import serializers

from club.models import Observation


class ObservationInputSerializer(serializers.Serializer):
    club = serializers.UUIDField()
    category = serializers.CharField(max_length=60)
    kind = serializers.ChoiceField(choices=Observation.KINDS)
    label = serializers.CharField(max_length=200)
    observed_at = serializers.DateTimeField()


class ObservationOutputSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="Pairwise to your firm.")
    subject = serializers.CharField(help_text="The person's pairwise pseudonym towards your firm.")
    club = serializers.UUIDField()
    created = serializers.BooleanField(help_text="False when the same observation was already stored.")


class ClubItemSerializer(serializers.Serializer):
    id = serializers.CharField()
    category = serializers.CharField()
    kind = serializers.ChoiceField(choices=Observation.KINDS)
    label = serializers.CharField()
    observed_at = serializers.DateTimeField()
    contributor = serializers.CharField(allow_null=True, help_text="Shown only if the contributing firm allows it.")


class ClubViewSerializer(serializers.Serializer):
    subject = serializers.CharField()
    consent = serializers.UUIDField()
    club = serializers.UUIDField()
    rules_version = serializers.IntegerField()
    categories = serializers.ListField(child=serializers.CharField())
    items = ClubItemSerializer(many=True)


class MyObservationSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    club = serializers.CharField()
    contributor = serializers.CharField()
    category = serializers.CharField()
    kind = serializers.CharField()
    label = serializers.CharField()
    observed_at = serializers.DateTimeField()


class MemberSummarySerializer(serializers.Serializer):
    club = serializers.UUIDField()
    name = serializers.CharField()
    rules = serializers.DictField(help_text="The rules in force, as published on the ledger.")
    standing = serializers.CharField()
    contributions = serializers.DictField(
        child=serializers.IntegerField(), help_text="Per shared category: your contributions within the period."
    )
