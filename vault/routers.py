"""Keeps wrapped data keys in the ``keys`` database and everything else out of it."""

from __future__ import annotations

KEY_MODELS = {("vault", "vaultkey")}


class KeysRouter:
    def _is_key_model(self, model) -> bool:
        return (model._meta.app_label, model._meta.model_name) in KEY_MODELS

    def db_for_read(self, model, **hints):
        return "keys" if self._is_key_model(model) else "default"

    db_for_write = db_for_read

    def allow_relation(self, obj1, obj2, **hints):
        # Instances, not type(): request.user is a lazy proxy whose type has no _meta.
        return self._is_key_model(obj1) == self._is_key_model(obj2)

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        if model_name is None:
            # Operations without a model (RunPython/RunSQL) run on the default database
            # unless they say otherwise with hints={"keys": True}.
            return (db == "keys") == bool(hints.get("keys"))
        return (db == "keys") == ((app_label, model_name) in KEY_MODELS)
