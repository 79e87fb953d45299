from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from accounts.models import User


@admin.register(User)
class EideticUserAdmin(UserAdmin):
    list_display = ("username", "role", "is_staff", "erased_at")
    list_filter = ("role", "is_staff")
    fieldsets = (*UserAdmin.fieldsets, ("Eidetic", {"fields": ("role", "erased_at")}))
