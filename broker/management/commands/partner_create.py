"""``manage.py partner_create --name N --redirect-uri U [--webhook-url W]``: a partner and
one OAuth client, printed as JSON (the client secret is shown only here)."""

from __future__ import annotations

import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from broker import services
from broker.errors import BrokerError


class Command(BaseCommand):
    help = "Create a partner and an OAuth2 client; print client_id and client_secret as JSON."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--name", required=True)
        parser.add_argument("--redirect-uri", required=True)
        parser.add_argument("--webhook-url", default="")

    def handle(self, *args, **options) -> None:
        try:
            partner, application, secret = services.partner_create(
                name=options["name"], redirect_uri=options["redirect_uri"], webhook_url=options["webhook_url"]
            )
        except ValidationError as error:
            raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in error.message_dict.items())) from error
        except BrokerError as error:
            raise CommandError(error.message) from error
        output = {
            "partner_id": str(partner.uid),
            "name": partner.name,
            "client_id": application.client_id,
            "client_secret": secret,
            "redirect_uri": options["redirect_uri"],
            "webhook_url": partner.webhook_url,
            "webhook_secret": partner.webhook_secret,
        }
        self.stdout.write(json.dumps(output, indent=2))
