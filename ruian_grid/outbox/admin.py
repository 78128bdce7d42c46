from django.contrib import admin

from .models import OutboxMessage


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    """Read-only: what waits for the broker and why (the relay is the only writer)."""

    list_display = ("key", "task", "created_at", "sent_at", "attempts", "last_error")
    list_filter = ("task",)
    search_fields = ("key",)
    readonly_fields = ("key", "task", "args", "kwargs", "created_at", "sent_at", "attempts", "last_error")

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False
