from __future__ import annotations

from django.contrib import admin

from contactcenter.models import Case, ContactPoint, Customer, Interaction, Message


class ContactPointInline(admin.TabularInline):
    model = ContactPoint
    extra = 0


class CaseInline(admin.TabularInline):
    model = Case
    extra = 0
    fields = ["subject", "status", "created_at", "closed_at"]
    readonly_fields = ["created_at", "closed_at"]
    show_change_link = True


class InteractionInline(admin.TabularInline):
    model = Interaction
    extra = 0
    fields = ["channel", "direction", "status", "started_at", "ended_at"]
    readonly_fields = ["started_at", "ended_at"]
    show_change_link = True


class MessageInline(admin.TabularInline):
    model = Message
    extra = 0
    fields = ["created_at", "sender", "author", "body"]
    readonly_fields = ["created_at"]


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["name", "created_at"]
    search_fields = ["name", "contact_points__value"]
    date_hierarchy = "created_at"
    inlines = [ContactPointInline, CaseInline]


@admin.register(ContactPoint)
class ContactPointAdmin(admin.ModelAdmin):
    list_display = ["value", "kind", "customer", "created_at"]
    list_filter = ["kind"]
    search_fields = ["value", "customer__name"]
    list_select_related = ["customer"]
    autocomplete_fields = ["customer"]


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin):
    list_display = ["number", "subject", "customer", "status", "created_at", "closed_at"]
    list_filter = ["status", "created_at"]
    search_fields = ["subject", "customer__name", "customer__contact_points__value"]
    list_select_related = ["customer"]
    autocomplete_fields = ["customer"]
    inlines = [InteractionInline]


@admin.register(Interaction)
class InteractionAdmin(admin.ModelAdmin):
    list_display = ["id", "channel", "direction", "status", "case", "started_at", "ended_at"]
    list_filter = ["channel", "status", "direction", "started_at"]
    search_fields = ["case__customer__name", "messages__body"]
    list_select_related = ["case"]
    autocomplete_fields = ["case"]
    inlines = [MessageInline]


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["created_at", "sender", "author", "interaction", "short_body"]
    list_filter = ["sender", "created_at"]
    search_fields = ["body", "provider_message_id"]
    list_select_related = ["author", "interaction"]
    raw_id_fields = ["interaction", "author"]

    @admin.display(description="Body")
    def short_body(self, message: Message) -> str:
        return message.body[:80]
