from __future__ import annotations

from django import forms
from django.contrib.auth.forms import UserCreationForm

from accounts.models import User


class SignupForm(UserCreationForm):
    class Meta:
        model = User
        fields = ("username",)
        help_texts = {"username": "A handle of your choosing; it is the only thing about you kept in clear."}


class DeleteAccountForm(forms.Form):
    """Erasure cannot be undone, so the person types her username to confirm it."""

    confirm_username = forms.CharField(
        label="Type your username to confirm",
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"}),
    )

    def __init__(self, *args, person: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.person = person

    def clean_confirm_username(self) -> str:
        typed = self.cleaned_data["confirm_username"].strip()
        if typed != self.person.username:
            raise forms.ValidationError("That is not your username; nothing was deleted.")
        return typed
