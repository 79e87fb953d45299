"""Forms of the partner console (the person's pages only post one-click buttons)."""

from __future__ import annotations

from urllib.parse import urlsplit

from django import forms

from broker.services import LOOPBACK_HOSTS


class ClientCreateForm(forms.Form):
    name = forms.CharField(
        max_length=100,
        required=False,
        help_text="Shown to people on the consent screen next to your firm's name. Optional.",
    )
    redirect_uri = forms.URLField(
        label="Redirect URI",
        max_length=500,
        assume_scheme="https",
        help_text="Exact https address people come back to after answering; matched character for character.",
    )


class WebhookForm(forms.Form):
    webhook_url = forms.URLField(
        label="Webhook URL",
        max_length=200,
        required=False,
        assume_scheme="https",
        help_text="Where we send signed consent status changes. Leave empty to receive none.",
    )

    def clean_webhook_url(self) -> str:
        url = self.cleaned_data["webhook_url"]
        if not url:
            return ""
        parsed = urlsplit(url)
        if parsed.scheme != "https" and parsed.hostname not in LOOPBACK_HOSTS:
            # Signed events still reveal who changed what and when: never in clear.
            raise forms.ValidationError("Use an https address (plain http only for your own machine).")
        return url
