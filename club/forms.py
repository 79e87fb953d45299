"""The person's correction of an observation a member contributed about her."""

from __future__ import annotations

from django import forms

from club.models import Observation
from club.services import CATEGORY_PATTERN, MAX_LABEL_LENGTH


class ObservationCorrectForm(forms.Form):
    category = forms.RegexField(
        regex=CATEGORY_PATTERN,
        max_length=60,
        help_text="Lowercase words joined by underscores, e.g. furniture.",
        error_messages={"invalid": "Use lowercase letters, digits and underscores."},
    )
    kind = forms.ChoiceField(choices=[(kind, kind.replace("_", " ").capitalize()) for kind in Observation.KINDS])
    label = forms.CharField(max_length=MAX_LABEL_LENGTH, label="What it says")
