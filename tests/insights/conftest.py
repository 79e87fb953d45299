"""The broker's test world (partners, consents through the real OAuth flow, a recording
ledger, an in-memory webhook sender), reused so that the insights endpoint is tested
under exactly the consent rules of the broker's own endpoints."""

from tests.broker.conftest import ledger_entries, other_partner, partner, webhook_sender  # noqa: F401
