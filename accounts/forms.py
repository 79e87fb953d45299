from __future__ import annotations

from django.contrib.auth.forms import UserCreationForm

from accounts.models import User


class SignupForm(UserCreationForm):
    class Meta:
        model = User
        fields = ("username",)
        help_texts = {"username": "A handle of your choosing; it is the only thing about you kept in clear."}
