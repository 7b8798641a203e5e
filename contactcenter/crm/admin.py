from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from contactcenter.crm.merging import merge_customers
from contactcenter.crm.models import (
    Attachment,
    BotIntent,
    CannedResponse,
    Case,
    ContactPoint,
    Customer,
    CustomerMerge,
    Interaction,
    Message,
    Order,
)
from contactcenter.kernel.errors import DomainError


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
    fields = ["channel", "direction", "status", "subject", "started_at", "ended_at"]
    readonly_fields = ["started_at", "ended_at"]
    show_change_link = True


class MessageInline(admin.TabularInline):
    model = Message
    extra = 0
    fields = ["created_at", "sender", "author", "body", "delivery", "delivery_error"]
    readonly_fields = ["created_at", "delivery", "delivery_error"]


class AttachmentInline(admin.TabularInline):
    model = Attachment
    extra = 0
    fields = ["filename", "content_type", "size", "file"]
    readonly_fields = fields
    can_delete = False


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["name", "tier", "language", "created_at"]
    search_fields = ["name", "contact_points__value"]
    date_hierarchy = "created_at"
    inlines = [ContactPointInline, CaseInline]
    actions = ["merge_into_oldest"]

    @admin.action(
        description="Merge the selected customers into the oldest of them",
        permissions=["change"],
    )
    def merge_into_oldest(self, request: HttpRequest, queryset: QuerySet[Customer]) -> None:
        ids = sorted(queryset.values_list("pk", flat=True))
        if len(ids) < 2:
            self.message_user(request, "Select at least two customers to merge.", messages.ERROR)
            return
        survivor_id, *merged_ids = ids
        try:
            for merged_id in merged_ids:
                merge_customers(survivor_id=survivor_id, merged_id=merged_id, by=request.user)
        except DomainError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return
        survivor = Customer.objects.get(pk=survivor_id)
        self.message_user(request, f"Merged {len(merged_ids)} customer(s) into {survivor}.")


@admin.register(CustomerMerge)
class CustomerMergeAdmin(admin.ModelAdmin):
    list_display = ["merged_at", "merged_name", "merged_customer_id", "survivor", "merged_by"]
    search_fields = ["merged_name", "survivor__name"]
    list_select_related = ["survivor", "merged_by"]
    readonly_fields = [
        "survivor",
        "merged_customer_id",
        "merged_name",
        "moved",
        "merged_by",
        "merged_at",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


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
    list_display = [
        "id",
        "channel",
        "direction",
        "status",
        "bot_status",
        "case",
        "started_at",
        "ended_at",
    ]
    list_filter = ["channel", "status", "bot_status", "direction", "started_at"]
    search_fields = ["case__customer__name", "messages__body"]
    list_select_related = ["case"]
    autocomplete_fields = ["case"]
    raw_id_fields = ["contact_point"]
    inlines = [MessageInline]


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["created_at", "sender", "author", "interaction", "short_body", "delivery"]
    list_filter = ["sender", "delivery", "created_at"]
    inlines = [AttachmentInline]
    search_fields = ["body", "provider_message_id"]
    list_select_related = ["author", "interaction"]
    raw_id_fields = ["interaction", "author"]

    @admin.display(description="Body")
    def short_body(self, message: Message) -> str:
        return message.body[:80]


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["number", "customer", "status", "placed_at", "carrier", "total"]
    list_filter = ["status", "placed_at"]
    search_fields = ["number", "customer__name", "tracking_number"]
    list_select_related = ["customer"]
    autocomplete_fields = ["customer"]


@admin.register(BotIntent)
class BotIntentAdmin(admin.ModelAdmin):
    list_display = ["name", "action", "active", "position"]
    list_editable = ["active", "position"]
    list_filter = ["action", "active"]
    search_fields = ["name", "examples", "answer"]


@admin.register(CannedResponse)
class CannedResponseAdmin(admin.ModelAdmin):
    list_display = ["title", "position", "is_active"]
    list_editable = ["position", "is_active"]
    search_fields = ["title", "body"]
