"""Production settings come from the environment, each value also from a ``*_FILE`` path."""

from __future__ import annotations

import base64
import importlib
import os
import sys
from types import ModuleType

import pytest

from config.env import MissingSetting

KEK = base64.b64encode(bytes(range(32))).decode()

PRODUCTION_ENV = {
    "DJANGO_SECRET_KEY": "s" * 60,
    "DJANGO_ALLOWED_HOSTS": "eidetic.example, www.eidetic.example",
    "DJANGO_CSRF_TRUSTED_ORIGINS": "https://eidetic.example",
    "DATABASE_URL": "postgres://app:pw@db.internal:5432/eidetic",
    "KEYS_DATABASE_URL": "postgres://keys:pw2@keys.internal:5433/eidetic_keys",
    "REDIS_URL": "redis://cache.internal:6379/2",
    "LEDGER_SIGNING_KEY": "ledger-signing-key-material",
    "EIDETIC_KEK": KEK,
}


def load_production(monkeypatch, environ: dict[str, str]) -> ModuleType:
    """Import config.settings.production afresh under exactly ``environ`` (plus PATH)."""
    for name in list(os.environ):
        if name.startswith(("DJANGO_", "DATABASE_", "KEYS_DATABASE_", "REDIS_", "LEDGER_", "EIDETIC_", "VAULT_")):
            monkeypatch.delenv(name)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delitem(sys.modules, "config.settings.production", raising=False)
    return importlib.import_module("config.settings.production")


@pytest.fixture(autouse=True)
def _forget_module():
    yield
    sys.modules.pop("config.settings.production", None)


def test_everything_comes_from_the_environment(monkeypatch):
    settings = load_production(monkeypatch, PRODUCTION_ENV)
    assert settings.DEBUG is False
    assert settings.SECRET_KEY == "s" * 60
    assert settings.ALLOWED_HOSTS == ["eidetic.example", "www.eidetic.example"]
    assert settings.CSRF_TRUSTED_ORIGINS == ["https://eidetic.example"]
    default, keys = settings.DATABASES["default"], settings.DATABASES["keys"]
    assert (default["ENGINE"], default["HOST"], default["NAME"]) == (
        "django.db.backends.postgresql",
        "db.internal",
        "eidetic",
    )
    assert (keys["HOST"], keys["PORT"], keys["NAME"], keys["USER"]) == ("keys.internal", 5433, "eidetic_keys", "keys")
    assert default["CONN_HEALTH_CHECKS"] is True
    assert default["DISABLE_SERVER_SIDE_CURSORS"] is keys["DISABLE_SERVER_SIDE_CURSORS"] is False
    assert settings.CACHES["default"]["BACKEND"] == "django_redis.cache.RedisCache"
    assert settings.CACHES["default"]["LOCATION"] == "redis://cache.internal:6379/2"
    assert settings.CELERY_BROKER_URL == "redis://cache.internal:6379/2"
    assert settings.VAULT["KEYRING"] == "vault.keyring.EnvironmentKeyring"
    assert settings.LEDGER["SIGNING_KEY"] == "ledger-signing-key-material"
    assert settings.SESSION_COOKIE_SECURE is True
    assert settings.CSRF_COOKIE_SECURE is True
    assert settings.SECURE_SSL_REDIRECT is True


def test_server_side_cursors_can_be_turned_off_for_a_transaction_pooler(monkeypatch):
    settings = load_production(monkeypatch, {**PRODUCTION_ENV, "DJANGO_DISABLE_SERVER_SIDE_CURSORS": "1"})
    assert [database["DISABLE_SERVER_SIDE_CURSORS"] for database in settings.DATABASES.values()] == [True, True]


def test_secrets_come_from_files(monkeypatch, tmp_path):
    environ = dict(PRODUCTION_ENV)
    for name in ("DJANGO_SECRET_KEY", "DATABASE_URL", "KEYS_DATABASE_URL", "LEDGER_SIGNING_KEY"):
        path = tmp_path / name.lower()
        # Secret files usually end with a newline; it is not part of the value.
        path.write_text(f"from-file-{name}\n" if "URL" not in name else environ[name] + "\n")
        environ[f"{name}_FILE"] = str(path)
        del environ[name]
    settings = load_production(monkeypatch, environ)
    assert settings.SECRET_KEY == "from-file-DJANGO_SECRET_KEY"
    assert settings.LEDGER["SIGNING_KEY"] == "from-file-LEDGER_SIGNING_KEY"
    assert settings.DATABASES["keys"]["NAME"] == "eidetic_keys"


def test_the_master_key_comes_from_a_file(monkeypatch, tmp_path):
    from vault.keyring import EnvironmentKeyring, kek_id_of

    path = tmp_path / "kek"
    path.write_text(KEK + "\n")
    monkeypatch.delenv("EIDETIC_KEK", raising=False)
    monkeypatch.setenv("EIDETIC_KEK_FILE", str(path))
    kek_id, key = EnvironmentKeyring().current()
    assert key == bytes(range(32))
    assert kek_id == kek_id_of(bytes(range(32)))


@pytest.mark.parametrize("missing", ["DJANGO_SECRET_KEY", "DATABASE_URL", "KEYS_DATABASE_URL", "REDIS_URL"])
def test_a_missing_required_setting_is_named(monkeypatch, missing):
    environ = {name: value for name, value in PRODUCTION_ENV.items() if name != missing}
    with pytest.raises(MissingSetting, match=f"{missing} \\(or {missing}_FILE\\) must be set"):
        load_production(monkeypatch, environ)


def test_hsts_preload_warning_is_silenced_only_while_preload_is_off(monkeypatch):
    assert "security.W021" in load_production(monkeypatch, PRODUCTION_ENV).SILENCED_SYSTEM_CHECKS
    preloaded = load_production(monkeypatch, {**PRODUCTION_ENV, "DJANGO_SECURE_HSTS_PRELOAD": "1"})
    assert preloaded.SECURE_HSTS_PRELOAD is True
    assert "security.W021" not in preloaded.SILENCED_SYSTEM_CHECKS


def test_health_probes_are_not_redirected_to_https(monkeypatch):
    import re

    settings = load_production(monkeypatch, PRODUCTION_ENV)
    assert any(re.search(pattern, "health/ready") for pattern in settings.SECURE_REDIRECT_EXEMPT)
    assert not any(re.search(pattern, "accounts/login/") for pattern in settings.SECURE_REDIRECT_EXEMPT)


def test_a_task_published_while_redis_is_away_fails_after_one_reconnect(monkeypatch):
    """The web request that commits a consent change must not sit in kombu's connection
    retries (about 6 s by default) while Redis is away: the outbox keeps its webhook."""
    from celery import Celery
    from kombu import Connection
    from kombu.exceptions import OperationalError as BrokerUnavailable

    from bench._harness import free_port

    production = load_production(monkeypatch, PRODUCTION_ENV)
    closed_port = free_port()  # nothing listens there
    attempts = []
    connect = Connection._connection_factory

    def counted(self):
        attempts.append(self.port)
        return connect(self)

    monkeypatch.setattr(Connection, "_connection_factory", counted)
    celery = Celery(broker=f"redis://127.0.0.1:{closed_port}/0", set_as_current=False)
    celery.conf.broker_transport_options = production.CELERY_BROKER_TRANSPORT_OPTIONS

    with pytest.raises(BrokerUnavailable):
        celery.send_task("broker.tasks.deliver_webhook", (1,), retry=False)

    assert attempts == [closed_port, closed_port]  # the first try and one retry
    assert production.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] == 3600
