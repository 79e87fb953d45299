"""Portal forms of the vault: upload and privacy zones. They parse input; services decide."""

from __future__ import annotations

from django import forms

from vault.models import ImportJob
from vault.services import MAX_ZONE_RADIUS_M, MIN_ZONE_RADIUS_M


class UploadForm(forms.Form):
    file = forms.FileField(
        label="File to import",
        help_text="GPX track, Google Takeout Records.json, X/Twitter tweets.js or like.js, or Eidetic JSON.",
    )
    format = forms.ChoiceField(
        label="Format",
        required=False,
        choices=[("", "Detect automatically"), *ImportJob.Format.choices],
        help_text="Leave on automatic unless the file is not recognised.",
    )


class ZoneForm(forms.Form):
    label = forms.CharField(label="Name", max_length=80, help_text="For example Home or Work. Only you see it.")
    lat = forms.FloatField(
        label="Latitude of the centre", min_value=-90, max_value=90, widget=forms.NumberInput(attrs={"step": "any"})
    )
    lon = forms.FloatField(
        label="Longitude of the centre", min_value=-180, max_value=180, widget=forms.NumberInput(attrs={"step": "any"})
    )
    radius_m = forms.IntegerField(
        label="Radius in metres",
        min_value=MIN_ZONE_RADIUS_M,
        max_value=MAX_ZONE_RADIUS_M,
        initial=300,
        help_text=f"Between {MIN_ZONE_RADIUS_M} and {MAX_ZONE_RADIUS_M} m. "
        "Partners never see points inside, nor exactly where the edge is.",
    )
