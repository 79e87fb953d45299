"""Read-only admin views: the ledger is append-only, and everything in it is public anyway."""

from __future__ import annotations

from django.contrib import admin

from ledger.models import Anchor, Checkpoint, Entry


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Entry)
class EntryAdmin(ReadOnlyAdmin):
    list_display = ("seq", "kind", "actor", "subject")
    list_filter = ("kind",)
    search_fields = ("subject", "actor")
    exclude = ("data", "leaf_hash")


@admin.register(Checkpoint)
class CheckpointAdmin(ReadOnlyAdmin):
    list_display = ("size", "created_at")
    exclude = ("root_hash",)


@admin.register(Anchor)
class AnchorAdmin(ReadOnlyAdmin):
    list_display = ("checkpoint", "chain_id", "block_number", "tx_hash", "created_at")
