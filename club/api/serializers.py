from __future__ import annotations

from rest_framework import serializers

from broker.api.serializers import ConsentRequestInputSerializer
from club.models import Observation


class ObservationInputSerializer(serializers.Serializer):
    club = serializers.UUIDField()
    category = serializers.CharField(max_length=60)
    kind = serializers.ChoiceField(choices=Observation.KINDS)
    label = serializers.CharField(max_length=200)
    observed_at = serializers.DateTimeField()
    lat = serializers.FloatField(
        required=False, min_value=-90, max_value=90, help_text="Where it was observed (optional, with `lon`)."
    )
    lon = serializers.FloatField(required=False, min_value=-180, max_value=180)

    def validate(self, attrs):
        if ("lat" in attrs) != ("lon" in attrs):
            raise serializers.ValidationError({"lat": "Give both `lat` and `lon`, or neither."})
        return attrs


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


class SegmentQueryInputSerializer(serializers.Serializer):
    club = serializers.UUIDField()
    categories = serializers.ListField(
        child=serializers.CharField(max_length=60),
        required=False,
        max_length=20,
        help_text="Default: every shared category you qualify for (reciprocity).",
    )
    week_from = serializers.DateField(help_text="Any day of the first week (weeks start on Monday, UTC).")
    week_to = serializers.DateField(help_text="Any day of the last week; at most 13 weeks in all.")
    epsilon = serializers.DecimalField(
        max_digits=6,
        decimal_places=3,
        required=False,
        help_text="Privacy budget to spend on this query (default: the rules' epsilon per query). "
        "More epsilon, less noise.",
    )


class SegmentCellSerializer(serializers.Serializer):
    category = serializers.CharField()
    week = serializers.DateField(help_text="The Monday of the week.")
    region = serializers.CharField(allow_null=True, help_text="~10 km grid cell id; null: no place observed.")
    region_centre = serializers.DictField(allow_null=True, help_text="`{lat, lon}` of the cell's centre.")
    people = serializers.IntegerField(help_text="Noisy count of people (Laplace noise), never below k.")


class SegmentAnswerSerializer(serializers.Serializer):
    club = serializers.UUIDField()
    rules_version = serializers.IntegerField()
    categories = serializers.ListField(child=serializers.CharField())
    week_from = serializers.DateField()
    week_to = serializers.DateField()
    k = serializers.IntegerField(help_text="Cells of fewer people are never released.")
    epsilon = serializers.DecimalField(max_digits=6, decimal_places=3, help_text="Charged to your budget.")
    sensitivity = serializers.IntegerField(help_text="Most cells one person can count in.")
    noise_scale = serializers.FloatField(help_text="Laplace scale b = sensitivity / epsilon.")
    budget_left = serializers.DecimalField(max_digits=8, decimal_places=3)
    charge = serializers.UUIDField(help_text="The budget charge, also on the ledger (club.budget.charged).")
    cells = SegmentCellSerializer(many=True, help_text="Released cells only; suppressed ones are absent.")


class IntroductionInputSerializer(serializers.Serializer):
    club = serializers.UUIDField()
    categories = serializers.ListField(child=serializers.CharField(max_length=60), required=False, max_length=20)
    week_from = serializers.DateField()
    week_to = serializers.DateField()
    epsilon = serializers.DecimalField(max_digits=6, decimal_places=3, required=False)
    consent = ConsentRequestInputSerializer(help_text="The consent request each matching person will see.")
    redirect_uri = serializers.CharField(max_length=500, help_text="One of your client's redirect URIs.")
    code_challenge = serializers.CharField(max_length=128, help_text="S256 PKCE challenge; keep the verifier.")
    state = serializers.CharField(max_length=200, required=False, default="")


class IntroductionOutputSerializer(serializers.Serializer):
    batch = serializers.UUIDField()
    requests_sent_approx = serializers.IntegerField(
        help_text="About how many people were asked: the count with Laplace noise (scale 1/epsilon), at least k. "
        "Nothing else about them."
    )


class ObservationCorrectionSerializer(serializers.Serializer):
    category = serializers.CharField(max_length=60)
    kind = serializers.ChoiceField(choices=Observation.KINDS)
    label = serializers.CharField(max_length=200)
