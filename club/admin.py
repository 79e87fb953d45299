"""Read-only admin: admissions, rules and sanctions go through ``club.services`` so that
each one is recorded on the ledger; the admin only shows them."""

from django.contrib import admin

from club.models import Club, Membership, RuleVersion, Sanction


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Club)
class ClubAdmin(ReadOnlyAdmin):
    list_display = ("name", "uid", "created_at")


@admin.register(Membership)
class MembershipAdmin(ReadOnlyAdmin):
    list_display = ("club", "partner", "standing", "admitted_at")
    list_filter = ("standing",)


@admin.register(RuleVersion)
class RuleVersionAdmin(ReadOnlyAdmin):
    list_display = ("club", "version", "published_at")


@admin.register(Sanction)
class SanctionAdmin(ReadOnlyAdmin):
    list_display = ("membership", "standing", "reason_code", "decided_at")
