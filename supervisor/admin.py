from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from supervisor.models import SupervisorAction


@admin.register(SupervisorAction)
class SupervisorActionAdmin(admin.ModelAdmin):
    list_display = ["created_at", "kind", "actor", "agent", "work_item", "detail"]
    list_filter = ["kind", "created_at"]
    list_select_related = ["actor", "agent__user", "work_item"]
    readonly_fields = ["kind", "actor", "agent", "work_item", "detail", "created_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
