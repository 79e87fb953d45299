"""Shapes of the partner endpoint, for the OpenAPI schema (no logic here)."""

from __future__ import annotations

from rest_framework import serializers


class InterestSerializer(serializers.Serializer):
    topic = serializers.CharField(help_text="Stable topic id from the published taxonomy.")
    name = serializers.CharField()
    category = serializers.CharField()
    weight = serializers.FloatField(help_text="Decayed evidence weight; comparable within one person only.")
    trend = serializers.ChoiceField(
        choices=["up", "down", "steady", "unknown"],
        help_text=(
            "Change over the last four weeks: more than 10 % up or down, else steady. Unknown when the "
            "consent's data range starts within those four weeks (nothing earlier to compare with)."
        ),
    )


class InterestsSerializer(serializers.Serializer):
    subject = serializers.CharField(help_text="The person's pairwise pseudonym towards this partner.")
    consent = serializers.UUIDField()
    scope = serializers.CharField()
    as_of = serializers.DateTimeField(help_text="The week boundary the weights are computed at.")
    interests = InterestSerializer(many=True)
