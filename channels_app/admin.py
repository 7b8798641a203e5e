from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.utils.html import format_html

from channels_app.models import ChatSite


@admin.register(ChatSite)
class ChatSiteAdmin(admin.ModelAdmin):
    list_display = ["name", "key", "is_active", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["name", "allowed_origins"]
    readonly_fields = ["embed_tag"]

    @admin.display(description="Embed tag")
    def embed_tag(self, site: ChatSite) -> str:
        if not site.pk:
            return "Save the site to get its tag."
        return format_html(
            '<code>&lt;script src="{}" data-site-key="{}" async&gt;&lt;/script&gt;</code>',
            f"{settings.PUBLIC_BASE_URL or 'https://YOUR-CONTACT-CENTER'}"
            f"{settings.STATIC_URL}channels_app/widget.js",
            site.key,
        )
